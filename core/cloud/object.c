/* Listed objects (include/provider.h): their attributes, the lists that
 * hold them, and the hardware a provider derived for one, in the helpers
 * every provider shares. */
#include "ovf_glance.h"
#include "provider.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *cfs_object_xattr(const struct cfs_object *obj, const char *name)
{
    const char *p = obj->xattrs, *end = obj->xattrs + obj->xattrs_len;
    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

int cfs_object_add_xattr(struct cfs_object *obj, const char *name, const char *value)
{
    size_t n = strlen(name) + 1, v = strlen(value) + 1;
    char *x = realloc(obj->xattrs, obj->xattrs_len + n + v);
    if (!x)
        return -ENOMEM;
    memcpy(x + obj->xattrs_len, name, n);
    memcpy(x + obj->xattrs_len + n, value, v);
    obj->xattrs = x;
    obj->xattrs_len += n + v;
    return 0;
}

void cfs_object_clear(struct cfs_object *o)
{
    free(o->id);
    free(o->name);
    free(o->ext);
    free(o->digest_algo);
    free(o->digest_hex);
    free(o->xattrs);
    memset(o, 0, sizeof *o);
}

int cfs_object_list_add(struct cfs_object_list *list, size_t *cap, const struct cfs_object *o)
{
    if (list->n >= CFS_LIST_MAX)
        return -EFBIG;
    if (list->n == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        struct cfs_object *v = realloc(list->v, n * sizeof *v);
        if (!v)
            return -ENOMEM;
        list->v = v;
        *cap = n;
    }
    list->v[list->n++] = *o;
    return 0;
}

int cfs_object_add_hw(struct cfs_object *o, const struct ovf_info *info, size_t disk)
{
    struct ovf_glance g;
    int err = ovf_glance_map(info, disk, &g);
    for (size_t off = 0; !err && off < g.props_len;) {
        const char *key = g.props + off, *value = key + strlen(key) + 1;
        char *name = cfs_printf("user.cloudfs.props.%s", key);
        err = name ? cfs_object_add_xattr(o, name, value) : -ENOMEM;
        free(name);
        off = (size_t)(value - g.props) + strlen(value) + 1;
    }
    if (!err && g.warnings)
        err = cfs_object_add_xattr(o, "user.cloudfs.warnings", g.warnings);
    ovf_glance_free(&g);
    return err;
}

void cfs_object_list_free(struct cfs_object_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        cfs_object_clear(&list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}
