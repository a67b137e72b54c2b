/* Sizes known only once an object was opened (DESIGN.md §1: a vCD
 * template before its export stats as 0; open() exports it, after which
 * fstat and stat are exact). Kept per object key for the mount, a bounded
 * number (the oldest is forgotten: its file stats as 0 again until the
 * next open). */
#ifndef CFS_OPENSIZE_H
#define CFS_OPENSIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfs_opensize;

struct cfs_opensize *cfs_opensize_new(size_t max);
void cfs_opensize_free(struct cfs_opensize *os);
void cfs_opensize_set(struct cfs_opensize *os, const char *key, uint64_t size);
bool cfs_opensize_get(struct cfs_opensize *os, const char *key, uint64_t *size);

#endif
