/* Kernel attribute invalidation for the files of one object (forget.h).
 * fuse_invalidate_path only drops an inode's attributes and pages: safe
 * from inside a request, unlike an entry invalidation. */
#define _GNU_SOURCE
#include "forget.h"
#include "ops.h"
#include "tree.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static bool matches(const struct cfs_object *o, const char *id, const char *name, size_t name_len)
{
    if (id && strcmp(o->id, id) == 0)
        return true;
    return name && strlen(o->name) == name_len && strncmp(o->name, name, name_len) == 0;
}

static void forget_entries(struct fuse *f, const struct cfs_entry *v, size_t n, const char *dir,
                           const char *id, const char *name, size_t name_len)
{
    for (size_t i = 0; i < n; i++) {
        if (!matches(v[i].obj, id, name, name_len))
            continue;
        char *path = cfs_printf("%s/%s", dir, v[i].fname);
        if (path)
            fuse_invalidate_path(f, path);
        free(path);
    }
}

void cfs_forget_object(struct cfs_dircache *dc, const char *dir_path, const char *id,
                       const char *name, size_t name_len)
{
    struct fuse_context *ctx = fuse_get_context();
    struct cfs_snapshot *snap;
    if (!ctx || !ctx->fuse || cfs_dircache_get(dc, &snap) != 0)
        return;
    char *by_id = cfs_printf("%s/" CFS_BY_ID, dir_path);
    forget_entries(ctx->fuse, snap->names, snap->n_names, dir_path, id, name, name_len);
    if (by_id)
        forget_entries(ctx->fuse, snap->ids, snap->n_ids, by_id, id, name, name_len);
    free(by_id);
    cfs_snapshot_put(snap);
}

void cfs_forget_node(const struct cfs_node *node, const char *path)
{
    const struct cfs_object *o = node->entry->obj;
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (node->by_id && len >= strlen("/" CFS_BY_ID))
        len -= strlen("/" CFS_BY_ID);
    char *dir = strndup(path, len);
    if (dir)
        cfs_forget_object(node->dc, dir, o->id, o->name, strlen(o->name));
    free(dir);
}
