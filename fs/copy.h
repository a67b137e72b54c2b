/* copy_file_range between two paths of the mount (DESIGN.md §5, way 1):
 * cp's first call into a new file switches it to "direct" mode, in which
 * the provider's put() reads the source object itself, in the
 * background, with its exact size known up front; nothing is spooled.
 * The calls then only check that they describe a whole-file copy and
 * answer at once; close() waits for the upload and returns its result. */
#ifndef CFS_COPY_H
#define CFS_COPY_H

#include <sys/types.h>

#include "handle.h"

struct cfs_copy;

/* The FUSE operation. Before direct mode, anything that cannot be served
 * this way answers EOPNOTSUPP (the kernel then copies through read and
 * write; never ENOSYS, which would turn the call off for the mount). */
ssize_t cfs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in, off_t off_in,
                            const char *path_out, struct fuse_file_info *fi_out, off_t off_out,
                            size_t size, int flags);

/* A write() into a direct-mode handle: zeros over a hole of the source,
 * next in order, are taken as part of the copy (cp --sparse=never fills
 * holes so); anything else fails the copy (-EIO). size or -EIO. */
int cfs_copy_write(struct cfs_handle *h, const char *buf, size_t size, off_t off);
/* ftruncate of a direct-mode handle: to the source's size (cp's last step
 * after a sparse copy) it succeeds; any other size fails the copy. */
int cfs_copy_truncate(struct cfs_handle *h, off_t size);
/* close() by the process that opened it: waits for the upload; its
 * result. A copy that did not reach the source's end is cancelled. */
int cfs_copy_flush(struct cfs_handle *h);
/* release(): waits for the upload if still running, frees the state. */
void cfs_copy_release(struct cfs_handle *h);

#endif
