/* /.cloudfs/status: the mount's transfers as JSON lines (fs/transfers.h),
 * a snapshot taken at open. */
#ifndef CFS_STATUS_FILE_H
#define CFS_STATUS_FILE_H

#include "ops.h"

#include <sys/stat.h>

struct cfs_mount;

/* Size 0: the content exists only once opened, and direct_io makes the
 * kernel read it anyway (DESIGN.md §1). */
void cfs_status_attr(const struct cfs_mount *m, struct stat *st);

/* Takes the snapshot into a handle (fs/handle.h) read like any source. */
int cfs_status_open(struct fuse_file_info *fi);

#endif
