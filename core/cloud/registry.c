/* The table of providers: adding a kind of cloud is one entry here. */
#include "provider.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct cfs_provider openstack_provider;
extern const struct cfs_provider vcloud_provider;
extern const struct cfs_provider vsphere_provider;

static const struct cfs_provider *const providers[] = {
    &openstack_provider,
    &vcloud_provider,
    &vsphere_provider,
};

const struct cfs_provider *cfs_provider_find(const char *type)
{
    for (size_t i = 0; i < CFS_ARRAY_SIZE(providers); i++)
        if (strcmp(providers[i]->type, type) == 0)
            return providers[i];
    return NULL;
}

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

void cfs_object_list_free(struct cfs_object_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct cfs_object *o = &list->v[i];
        free(o->id);
        free(o->name);
        free(o->ext);
        free(o->digest_algo);
        free(o->digest_hex);
        free(o->xattrs);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}
