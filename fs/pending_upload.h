/* Hands a file that was written into the mount to its cloud: one
 * synchronous provider put() (DESIGN.md §5), whose result is what close()
 * or rename() returns. */
#ifndef CFS_PENDING_UPLOAD_H
#define CFS_PENDING_UPLOAD_H

#include "format.h"
#include "pending.h"

/* Uploads p's spool as fname into its directory. On success p leaves
 * the pending table and the directory's listing is refreshed at the next
 * lookup; on failure p leaves it too (the copy failed visibly; its
 * holders still read the spool). -EBUSY if p is already being uploaded
 * or no longer pending. label names the file in log lines. */
int cfs_upload(struct cfs_pending *p, const char *fname, const struct ovf_defaults *ovf,
               const char *label);

/* After a put of p as fname succeeded (from the spool, or a copy of
 * fs/copy.c): the kernel forgets the attributes of a replaced namesake,
 * and a time set by utimensat goes onto the new object. */
void cfs_upload_finish(struct cfs_pending *p, const char *fname, const char *label);

#endif
