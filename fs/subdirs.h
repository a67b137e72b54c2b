/* Listing caches of subdirectories (vCD catalogs: "catalogs/<name>"),
 * created at their first lookup and kept per (cloud, dir) for the mount,
 * a bounded number: the least recently used is let go (it lives on while
 * a request still holds it). */
#ifndef CFS_SUBDIRS_H
#define CFS_SUBDIRS_H

#include "dircache.h"

struct cfs_subdirs;

struct cfs_subdirs *cfs_subdirs_new(size_t max, double ttl, unsigned views);
void cfs_subdirs_free(struct cfs_subdirs *sd);

/* The cache of dir of cloud, with a reference for the caller
 * (cfs_dircache_put). 0 or -ENOMEM. */
int cfs_subdirs_get(struct cfs_subdirs *sd, struct cfs_cloud *cloud, const char *dir,
                    struct cfs_dircache **out);

#endif
