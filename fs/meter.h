/* A byte source that reports the progress of a transfer: how much of the
 * content the cloud has read so far (fs/transfers.h). */
#ifndef CFS_METER_H
#define CFS_METER_H

#include "source.h"
#include "transfers.h"

/* A source over inner (not owned; same size and allocation) that calls
 * cfs_transfer_progress(t, bytes read) after each read. t may be NULL; it
 * must outlive the reads. 0 or -ENOMEM. */
int cfs_meter_source_open(struct cfs_source *inner, struct cfs_transfer *t,
                          struct cfs_source **out);

#endif
