/* Path resolution over the cached directory snapshots. */
#include "tree.h"

#include <errno.h>
#include <string.h>

/* Copies the next path component into comp; returns the rest or NULL. */
static const char *next_comp(const char *p, char *comp, size_t n, int *err)
{
    while (*p == '/')
        p++;
    if (!*p)
        return NULL;
    size_t len = strcspn(p, "/");
    if (len >= n) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    memcpy(comp, p, len);
    comp[len] = '\0';
    return p + len;
}

int cfs_tree_resolve(struct cfs_mount *m, const char *path, bool list, struct cfs_node *out)
{
    char comp[256];
    int err = 0;
    const char *rest = path;

    memset(out, 0, sizeof *out);
    out->kind = NODE_ROOT;
    for (int depth = 0;; depth++) {
        rest = next_comp(rest, comp, sizeof comp, &err);
        if (err)
            goto fail;
        if (!rest)
            break;
        switch (out->kind) {
        case NODE_ROOT:
            err = -ENOENT;
            for (size_t i = 0; i < m->n_clouds; i++) {
                if (strcmp(m->clouds[i].cloud->name, comp) == 0) {
                    out->mc = &m->clouds[i];
                    out->kind = NODE_CLOUD;
                    err = 0;
                    break;
                }
            }
            break;
        case NODE_CLOUD:
            err = -ENOENT;
            for (size_t i = 0; i < out->mc->n_dirs; i++) {
                if (strcmp(out->mc->cloud->provider->dirs[i], comp) == 0) {
                    out->dir = i;
                    out->kind = NODE_DIR;
                    err = 0;
                    break;
                }
            }
            break;
        case NODE_DIR:
        case NODE_BYID:
            if (out->kind == NODE_DIR && strcmp(comp, CFS_BY_ID) == 0) {
                out->kind = NODE_BYID;
                break;
            }
            if (!out->snap)
                err = cfs_dircache_get(out->mc->dirs[out->dir], &out->snap);
            if (err)
                break;
            out->by_id = out->kind == NODE_BYID;
            out->entry = out->kind == NODE_DIR ? cfs_snapshot_find(out->snap, comp)
                                               : cfs_snapshot_find_id(out->snap, comp);
            out->kind = NODE_FILE;
            err = out->entry ? 0 : -ENOENT;
            break;
        case NODE_FILE:
            err = -ENOTDIR;
            break;
        }
        if (err)
            goto fail;
    }
    if (list && (out->kind == NODE_DIR || out->kind == NODE_BYID) && !out->snap) {
        err = cfs_dircache_get(out->mc->dirs[out->dir], &out->snap);
        if (err)
            goto fail;
    }
    return 0;
fail:
    cfs_node_release(out);
    return err;
}

void cfs_node_release(struct cfs_node *node)
{
    cfs_snapshot_put(node->snap);
    node->snap = NULL;
    node->entry = NULL;
}
