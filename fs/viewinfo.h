/* What a view's stat needs (size, allocated blocks, OVF warnings), known
 * only once the image's metadata is read (DESIGN.md §1): computed at the
 * first lookup of a view, by one thread per image, and kept for the mount
 * (active images never change; the key holds the image's digest). */
#ifndef CFS_VIEWINFO_H
#define CFS_VIEWINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "mount.h"
#include "tree.h"

struct cfs_viewinfo;

struct cfs_view_stat {
    uint64_t size;
    uint64_t blocks; /* 512-byte blocks that hold data */
    char *warnings;  /* OVF warnings, malloc'd, or NULL */
};

struct cfs_viewinfo *cfs_viewinfo_new(void);
void cfs_viewinfo_free(struct cfs_viewinfo *vi);
/* Background threads still running (they use the clouds). */
int cfs_viewinfo_busy(struct cfs_viewinfo *vi);

/* The stat of a view entry (node.kind == NODE_FILE, entry->view >= 0);
 * opens the view once if it is not known yet. 0 or the open's errno.
 * out->warnings must be freed. */
int cfs_viewinfo_get(struct cfs_mount *m, const struct cfs_node *node, struct cfs_view_stat *out);

/* Like get, but never computes: false if not known yet. */
bool cfs_viewinfo_peek(struct cfs_mount *m, const struct cfs_node *node, struct cfs_view_stat *out);

/* Finds the sizes of the views of a listed directory (dir: NODE_DIR or
 * NODE_BYID with its snapshot) in the background, a few images at a time,
 * so that the `ls -l` that follows a readdir finds them ready. Once per
 * snapshot. */
void cfs_viewinfo_warm(struct cfs_mount *m, const struct cfs_node *dir);

/* The OVF hardware for an object: the mount's defaults, with the vCPUs
 * and memory of the object's machine (a server's flavor) where known. */
void cfs_object_ovf(const struct cfs_mount *m, const struct cfs_object *o,
                    struct ovf_defaults *out);

/* Opens the view of a node (for reading). 0 or -errno. */
int cfs_view_open_node(struct cfs_mount *m, const struct cfs_node *node, unsigned flags,
                       struct cfs_source **out, char **warnings);

/* The same view, laid out from the disk's real allocation, for a copy: a
 * disk without an allocation map (a vSphere flat extent) is read whole
 * first to find its zeros (cfs_zero_scan_open). The view is then smaller
 * than the one the mount lists. -ENODATA if the disk has a map already
 * (the listed view is that one). */
int cfs_view_open_scanned(struct cfs_mount *m, const struct cfs_node *node, unsigned flags,
                          bool (*cancelled)(void *ctx), void *ctx, struct cfs_source **out);

#endif
