/* Paths to nodes of the namespace (DESIGN.md §1):
 *   /                          clouds
 *   /<cloud>/                  the provider's directories (images, ...)
 *   /<cloud>/<dir>/            objects as <name>.<ext>, and by-id/
 *   /<cloud>/<dir>/by-id/      objects as <id>.<ext> */
#ifndef CFS_TREE_H
#define CFS_TREE_H

#include "mount.h"

#define CFS_BY_ID "by-id"

enum cfs_node_kind { NODE_ROOT, NODE_CLOUD, NODE_DIR, NODE_BYID, NODE_FILE };

struct cfs_node {
    enum cfs_node_kind kind;
    struct cfs_mcloud *mc;
    size_t dir;                    /* index into mc->dirs */
    struct cfs_snapshot *snap;     /* held for NODE_FILE, and dirs when listed */
    const struct cfs_entry *entry; /* NODE_FILE */
    bool by_id;                    /* NODE_FILE: found under by-id/ */
};

/* Resolves path. Directories are listed only if list is true or the path
 * goes below them. 0, -ENOENT, or the listing's error. */
int cfs_tree_resolve(struct cfs_mount *m, const char *path, bool list, struct cfs_node *out);
void cfs_node_release(struct cfs_node *node);

#endif
