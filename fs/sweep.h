/* The sweep at mount (DESIGN.md §5): provider->sweep once per scope (the
 * clouds that name one project share it), in the background, so that what
 * killed uploads left half-made goes away without delaying the mount. */
#ifndef CFS_SWEEP_H
#define CFS_SWEEP_H

#include <stdbool.h>

#include "mount.h"

/* Starts one detached thread per scope of the clouds that have a sweep.
 * Failures are logged, never fatal. */
void cfs_sweep_start(struct cfs_mount *m);
/* True while a sweep still runs (its cloud must not be destroyed). */
bool cfs_sweep_busy(void);

#endif
