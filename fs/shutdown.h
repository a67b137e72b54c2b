/* Ending the mount on SIGTERM, SIGINT or SIGHUP (DESIGN.md §5): the
 * uploads in progress finish first (the mount keeps answering), or are
 * cancelled past unmount_timeout or at a second signal; then the FUSE
 * loop ends and cloudfs unmounts and exits 0. libfuse's own handlers
 * would end the loop at once. */
#ifndef CFS_SHUTDOWN_H
#define CFS_SHUTDOWN_H

#include "ops.h"

struct cfs_shutdown;

/* Blocks the signals in the calling thread, and so in every thread it
 * creates later (call it before the FUSE loop and any other thread), and
 * starts the thread that waits for them. 0 or -errno. */
int cfs_shutdown_start(struct fuse_session *se, const char *mountpoint, unsigned timeout_s,
                       struct cfs_shutdown **out);
/* After the loop returned (a signal, or an unmount): ends the thread. */
void cfs_shutdown_finish(struct cfs_shutdown *s);
/* After libfuse's unmount: if the kernel still lists mountpoint, detaches
 * it (lazily), so that no dead mount stays behind the process. */
void cfs_shutdown_detach(const char *mountpoint);

#endif
