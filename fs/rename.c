/* rename(): mv in the mount (DESIGN.md §5).
 * - A cloud object's file renamed within its directory renames the object
 *   (provider rename: Glance's name, the vApp template's): the same id and
 *   bytes, no copy, and every view of it follows. The extension stays
 *   (it names the file's format, not the object: another one is EXDEV, a
 *   copy that converts); the new name must not be another object's. One log line; on failure the
 * name is unchanged.
 * - Into another directory or cloud: EXDEV, so that mv copies, then
 *   unlinks (a real move with allow_delete; without it the copy stays and
 *   mv reports the refused unlink).
 * - rsync's last step: a staged ".name.XXXXXX" renamed to "name" in the
 *   same directory uploads it, as "name", and returns the upload's result.
 * - by-id/ names are ids, directories keep their names: EPERM. */
#define _GNU_SOURCE
#include "forget.h"
#include "log.h"
#include "names.h"
#include "pending_upload.h"
#include "write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_parent(const char *a, const char *b)
{
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    return sa && sb && sa - a == sb - b && strncmp(a, b, (size_t)(sa - a)) == 0;
}

/* The object's new name for tname, or NULL (errno-style *err, logged). */
static char *new_name_for(const struct cfs_node *src, const char *from, const char *tname, int *err)
{
    const char *sext = strrchr(src->entry->fname, '.'), *text = strrchr(tname, '.');
    char *base = NULL, *name = NULL;

    if (cfs_write_staged(tname)) {
        cfs_log_error("%s: not renamed to %s: a leading '.' makes a staged file; a name that "
                      "begins with a dot is written with U+FF0E",
                      from, tname);
        *err = -EPERM;
    } else if (!sext || !text || text == tname || strcmp(sext, text) != 0) {
        /* Another format is a conversion: mv copies (and the copy converts
         * or is refused by the target's name rule). */
        cfs_log_info("%s: not renamed to %s: a rename keeps the extension %s; mv copies", from,
                     tname, sext ? sext : "(none)");
        *err = -EXDEV;
    } else if (!(base = strndup(tname, (size_t)(text - tname))) ||
               !(name = cfs_name_to_cloud(base)))
        *err = -ENOMEM;
    else
        *err = 0;
    free(base);
    return name;
}

/* Another object of the directory that has the name already, or NULL. */
static const struct cfs_object *namesake(const struct cfs_snapshot *snap,
                                         const struct cfs_object *obj, const char *name)
{
    for (size_t i = 0; i < snap->objs.n; i++) {
        const struct cfs_object *o = &snap->objs.v[i];
        if (strcmp(o->id, obj->id) != 0 && strcmp(o->name, name) == 0)
            return o;
    }
    return NULL;
}

static int rename_object(struct cfs_mount *m, struct cfs_node *src, const char *from,
                         const char *to)
{
    const char *tname = strrchr(to, '/') + 1;
    const struct cfs_object *obj = src->entry->obj, *other;
    struct cfs_cloud *cloud = src->mc->cloud;
    struct cfs_node dst;
    int err;

    if (src->by_id)
        return -EPERM;
    char *name = new_name_for(src, from, tname, &err);
    if (err)
        return err;
    if (cfs_tree_resolve(m, to, false, &dst) == 0) {
        err = dst.kind == NODE_PENDING ? -EBUSY : -EEXIST;
        cfs_node_release(&dst);
    }
    if (!err && (other = namesake(src->snap, obj, name))) {
        cfs_log_error("%s: not renamed to %s: %s already has %s (%s)", from, tname, cloud->name,
                      name, other->id);
        err = -EEXIST;
    }
    if (!err && strcmp(name, obj->name) == 0)
        goto out; /* the name it has (a marked file renamed to its plain name) */
    /* One log line: a refusal made here, the provider's naming the
     * cloud's answer, or the rename. */
    if (!err && (err = cloud->provider->rename ? cfs_dircache_can_put(src->dc, NULL) : -EPERM))
        cfs_log_info("%s: not renamed: %s", from, strerror(-err));
    else if (!err)
        err = cloud->provider->rename(cloud, cfs_node_dir(src), obj, name);
    if (err > 0)
        err = -EIO;
    if (!err)
        cfs_log_info("%s: renamed %s (%s) to %s in %s", from, obj->name, obj->id, name,
                     cloud->name);
    if (!err)
        cfs_forget_node(src, from);
    cfs_dircache_invalidate(src->dc);
out:
    free(name);
    return err;
}

/* rsync's staged file renamed to its visible name: the upload. */
static int rename_staged(struct cfs_mount *m, struct cfs_node *src, const char *from,
                         const char *to)
{
    const char *tname = strrchr(to, '/') + 1;
    struct cfs_node dst;
    int err;

    if (!cfs_write_staged(src->pending->fname) || cfs_write_staged(tname) || !*tname)
        return -EPERM;
    err = cfs_tree_resolve(m, to, false, &dst);
    if (err == 0) {
        /* allow_delete: put() replaces the object (new one first). */
        bool replace = dst.kind == NODE_FILE && m->opts.allow_delete;
        err = dst.kind == NODE_PENDING ? -EBUSY : replace ? 0 : -EEXIST;
        cfs_node_release(&dst);
        if (err)
            return err;
    }
    err = cfs_pending_state(src->pending);
    if (!err)
        err = cfs_upload(src->pending, tname, &m->ovf, to);
    /* The inode keeps the staged file's mode and size once renamed: let
     * the kernel ask for the cloud's. Safe here, unlike an entry
     * invalidation: the kernel holds no page locks during a rename. */
    if (!err)
        fuse_invalidate_path(fuse_get_context()->fuse, from);
    return err;
}

int cfs_write_rename(const char *from, const char *to, unsigned int flags)
{
    struct cfs_mount *m = fuse_get_context()->private_data;
    struct cfs_node src;
    int err;

    if (flags & RENAME_EXCHANGE)
        return -EINVAL;
    err = cfs_tree_resolve(m, from, false, &src);
    if (err)
        return err;
    if (strcmp(from, to) == 0)
        err = 0; /* rename(2) of a name onto itself does nothing */
    else if (src.kind != NODE_FILE && src.kind != NODE_PENDING)
        err = -EPERM;
    else if (!same_parent(from, to))
        err = -EXDEV; /* mv copies instead */
    else if (src.kind == NODE_FILE)
        err = rename_object(m, &src, from, to);
    else
        err = rename_staged(m, &src, from, to);
    cfs_node_release(&src);
    return err;
}
