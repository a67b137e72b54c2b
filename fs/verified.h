/* Objects whose content a complete read has checked against the cloud's
 * digest in this mount: only their pages may stay in the kernel's cache
 * (DESIGN.md §3). Keyed by id and digest, so a changed object is new. */
#ifndef CFS_VERIFIED_H
#define CFS_VERIFIED_H

#include <stdbool.h>

#include "mount.h"

struct cfs_verified *cfs_verified_new(void);
void cfs_verified_free(struct cfs_verified *v);
/* view: the file's (CFS_NATIVE or a view): each file's pages are its own. */
char *cfs_verified_key(const struct cfs_object *obj, int view);
bool cfs_verified_has(struct cfs_mount *m, const struct cfs_object *obj, int view);
void cfs_verified_add(struct cfs_mount *m, const char *key);

#endif
