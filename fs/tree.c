/* Path resolution over the cached directory snapshots. */
#include "tree.h"
#include "subdirs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
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

static bool is_last(const char *rest)
{
    return rest[strspn(rest, "/")] == '\0';
}

/* Into the directory an entry names: its listing is the provider's dir
 * "<parent dir>/<the object's own name>", raw (a '/' in a catalog's
 * name included: the provider takes all after the first '/'). */
static int enter_subdir(struct cfs_mount *m, struct cfs_node *node, const struct cfs_object *obj)
{
    char *dir = cfs_printf("%s/%s", cfs_node_dir(node), obj->name);
    struct cfs_dircache *dc;
    int err = dir ? cfs_subdirs_get(m->subdirs, node->mc->cloud, dir, &dc) : -ENOMEM;
    free(dir);
    if (err)
        return err;
    cfs_snapshot_put(node->snap);
    node->snap = NULL;
    cfs_dircache_put(node->dc);
    node->dc = dc;
    node->top = false;
    node->entry = NULL;
    return 0;
}

static int in_dir(struct cfs_mount *m, struct cfs_node *out, const char *comp, const char *path,
                  const char *rest)
{
    int err = 0;
    if (out->kind == NODE_DIR && out->top && strcmp(comp, CFS_BY_ID) == 0) {
        err = out->snap ? 0 : cfs_dircache_get(out->dc, &out->snap);
        if (err)
            return err;
        if (cfs_tree_has_by_id(out)) {
            out->kind = NODE_BYID;
            return 0;
        }
    }
    /* A file being written is found before the listing is asked: it
     * wins over an object of the same name, and needs no cloud. */
    if (out->kind == NODE_DIR && is_last(rest) && m->pending) {
        out->pending = cfs_pending_find(m->pending, path);
        if (out->pending) {
            out->kind = NODE_PENDING;
            return 0;
        }
    }
    if (!out->snap)
        err = cfs_dircache_get(out->dc, &out->snap);
    if (err)
        return err;
    out->by_id = out->kind == NODE_BYID;
    out->entry = out->kind == NODE_DIR ? cfs_snapshot_find(out->snap, comp)
                                       : cfs_snapshot_find_id(out->snap, comp);
    if (!out->entry)
        return -ENOENT;
    if (out->entry->obj->is_dir)
        return enter_subdir(m, out, out->entry->obj);
    out->kind = NODE_FILE;
    return 0;
}

int cfs_tree_resolve(struct cfs_mount *m, const char *path, bool list, struct cfs_node *out)
{
    char comp[256];
    int err = 0;
    const char *rest = path;

    memset(out, 0, sizeof *out);
    out->kind = NODE_ROOT;
    for (;;) {
        rest = next_comp(rest, comp, sizeof comp, &err);
        if (err)
            goto fail;
        if (!rest)
            break;
        switch (out->kind) {
        case NODE_ROOT:
            if (strcmp(comp, CFS_CTL_DIR) == 0) {
                out->kind = NODE_CTL;
                break;
            }
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
                    out->dc = out->mc->dirs[i];
                    cfs_dircache_hold(out->dc);
                    out->top = true;
                    out->kind = NODE_DIR;
                    err = 0;
                    break;
                }
            }
            break;
        case NODE_DIR:
        case NODE_BYID:
            err = in_dir(m, out, comp, path, rest);
            break;
        case NODE_CTL:
            if (strcmp(comp, CFS_CTL_STATUS) == 0)
                out->kind = NODE_STATUS;
            else
                err = -ENOENT;
            break;
        case NODE_FILE:
        case NODE_PENDING:
        case NODE_STATUS:
            err = -ENOTDIR;
            break;
        }
        if (err)
            goto fail;
    }
    if (list && (out->kind == NODE_DIR || out->kind == NODE_BYID) && !out->snap) {
        err = cfs_dircache_get(out->dc, &out->snap);
        if (err)
            goto fail;
    }
    return 0;
fail:
    cfs_node_release(out);
    return err;
}

bool cfs_tree_has_by_id(const struct cfs_node *dir)
{
    return dir->top && (dir->snap->n_ids > 0 || dir->snap->n_names == 0);
}

void cfs_node_release(struct cfs_node *node)
{
    cfs_snapshot_put(node->snap);
    node->snap = NULL;
    node->entry = NULL;
    cfs_dircache_put(node->dc);
    node->dc = NULL;
    if (node->pending)
        cfs_pending_put(node->pending);
    node->pending = NULL;
}
