/* Paths to nodes of the namespace (DESIGN.md §1):
 *   /                          clouds
 *   /<cloud>/                  the provider's directories (images, catalogs)
 *   /<cloud>/<dir>/            objects as <name>.<ext>, and by-id/ (for files)
 *   /<cloud>/<dir>/by-id/      objects as <id>.<ext>
 *   /<cloud>/<dir>/<sub>/...   objects that are directories (vCD catalogs),
 *                              listed as the provider's dir "<dir>/<name>"
 * and files being written (fs/pending.h) wherever they were created; and
 *   /.cloudfs/status           the mount's transfers (fs/transfers.h) */
#ifndef CFS_TREE_H
#define CFS_TREE_H

#include "mount.h"
#include "pending.h"

#define CFS_BY_ID      "by-id"
#define CFS_CTL_DIR    ".cloudfs" /* no cloud may have this name (core/config) */
#define CFS_CTL_STATUS "status"

enum cfs_node_kind {
    NODE_ROOT,
    NODE_CLOUD,
    NODE_DIR,
    NODE_BYID,
    NODE_FILE,
    NODE_PENDING,
    NODE_CTL,    /* /.cloudfs */
    NODE_STATUS, /* /.cloudfs/status */
};

struct cfs_node {
    enum cfs_node_kind kind;
    struct cfs_mcloud *mc;
    /* The listed directory of NODE_DIR, NODE_BYID, and the one holding a
     * NODE_FILE or NODE_PENDING (a reference). */
    struct cfs_dircache *dc;
    bool top;                      /* dc is one of the provider's dirs: has by-id/ */
    struct cfs_snapshot *snap;     /* held for NODE_FILE, and dirs when listed */
    const struct cfs_entry *entry; /* NODE_FILE */
    bool by_id;                    /* NODE_FILE: found under by-id/ */
    struct cfs_pending *pending;   /* NODE_PENDING (a reference) */
};

/* Resolves path. Directories are listed only if list is true or the path
 * goes below them. 0, -ENOENT, or the listing's error. */
int cfs_tree_resolve(struct cfs_mount *m, const char *path, bool list, struct cfs_node *out);
void cfs_node_release(struct cfs_node *node);

/* Whether a listed directory (snap held) has by-id/: the provider's own
 * directories, unless they list only directories (catalogs/: a catalog
 * may then be called "by-id"). */
bool cfs_tree_has_by_id(const struct cfs_node *dir);

/* The provider's name of dc's directory. */
static inline const char *cfs_node_dir(const struct cfs_node *node)
{
    return cfs_dircache_dir(node->dc);
}

#endif
