/* Transfers the mount runs (uploads from close/rename, cloud-to-cloud
 * copies, snapshots waited for): shown in /.cloudfs/status, one JSON object per line, and by
 * `cloudfs status MOUNTPOINT`; waited for (or cancelled) at unmount. */
#ifndef CFS_TRANSFERS_H
#define CFS_TRANSFERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SNAPSHOT: the wait for a cloud to prepare an object (a Nova server's
 * snapshot, struct cfs_prepare): path is the server, total 0. */
enum cfs_transfer_dir { CFS_XFER_UPLOAD, CFS_XFER_COPY, CFS_XFER_SNAPSHOT };

struct cfs_transfer;

/* Registers a transfer of total bytes into path (the target in the mount);
 * from: the source path of a copy, or NULL. NULL only when out of memory
 * (callers then go on without one: every function accepts NULL). */
struct cfs_transfer *cfs_transfer_begin(const char *path, const char *from,
                                        enum cfs_transfer_dir dir, uint64_t total);
/* Bytes sent so far (monotonic; called from any thread). */
void cfs_transfer_progress(struct cfs_transfer *t, uint64_t done);
/* What the transfer sends changed size (a copy without the source's zeros). */
void cfs_transfer_set_total(struct cfs_transfer *t, uint64_t total);
/* The end: err 0 (done) or -errno; the transfer stays in the "recent" list. */
void cfs_transfer_end(struct cfs_transfer *t, int err);
/* True once cfs_transfers_cancel_all was called: uploads poll it
 * (struct cfs_put.cancelled) and clean up. */
bool cfs_transfer_cancelled(void *t);

/* Active and recent transfers as JSON lines: malloc'd text and its length. */
int cfs_transfers_json(char **text, size_t *len);
/* Number of transfers still running. */
size_t cfs_transfers_active(void);
/* Waits until none is running or timeout_s passed; true if none is. */
bool cfs_transfers_wait(double timeout_s);
void cfs_transfers_cancel_all(void);
/* Bytes per second (of the content, start to end) of the last upload or
 * copy of at least 8 MiB that succeeded; 0 before there is one. */
double cfs_transfers_last_rate(void);

#endif
