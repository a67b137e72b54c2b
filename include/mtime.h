/* Modification times stored on cloud objects (DESIGN.md §1: a Glance
 * property, vCD metadata) so that a second rsync -a finds files
 * unchanged. The text is "seconds.nanoseconds" in decimal, nine digits
 * after the point: exact, and readable in getfattr's output. */
#ifndef CFS_MTIME_H
#define CFS_MTIME_H

#include <stddef.h>
#include <time.h>

#define CFS_MTIME_KEY "cloudfs_mtime" /* the property's / metadata entry's name */
#define CFS_MTIME_MAX 32              /* room for the text and its NUL */

/* t as text into out (CFS_MTIME_MAX bytes). */
void cfs_mtime_format(const struct timespec *t, char out[CFS_MTIME_MAX]);

/* The time of a stored text: "S" or "S.N" with up to nine digits of N,
 * S non-negative and representable. 0 or -EINVAL. */
int cfs_mtime_parse(const char *s, struct timespec *out);

#endif
