/* Spool files: what is written into the mount waits here, in the cache
 * directory, until its upload (DESIGN.md §5). Sparse (holes and forward
 * seeks cost no space and read as zeros), nameless (unlinked as soon as
 * created, so that nothing is left behind whatever happens to cloudfs),
 * and never in memory. */
#ifndef CFS_SPOOL_H
#define CFS_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "source.h"

/* A new empty spool in dir, open O_RDWR. 0 or -errno. */
int cfs_spool_create(const char *dir, int *fd);

/* Writes all of buf at off, unless that would leave less than reserve
 * bytes free on the spool's file system: -ENOSPC at once, nothing
 * written. len or -errno (-EFBIG past the largest offset). */
ssize_t cfs_spool_write(int fd, const void *buf, size_t len, uint64_t off, uint64_t reserve);

/* Reads up to len bytes at off (short only at the end). */
ssize_t cfs_spool_read(int fd, void *buf, size_t len, uint64_t off);

/* Sets the size; growing leaves a hole. 0 or -errno. */
int cfs_spool_truncate(int fd, uint64_t size);

/* A byte source over the spool's current content, for the provider
 * (its holes are the source's allocation map). 0 or -errno. */
int cfs_spool_source(int fd, struct cfs_source **out);

#endif
