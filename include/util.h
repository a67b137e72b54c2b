/* Small helpers shared by every module: time, strings. */
#ifndef CFS_UTIL_H
#define CFS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2026-11-22T09:37:01Z", "2026-11-22T09:37:01.000000Z" or with "+00:00".
 * Returns 0 or -EINVAL. */
int cfs_parse_iso8601(const char *s, struct timespec *out);

/* Seconds on the monotonic clock. */
double cfs_now(void);

/* Sleep, in seconds (fractions allowed). */
void cfs_sleep(double seconds);

/* A copy of url without trailing slashes, or NULL. */
char *cfs_url_trim(const char *url);

/* asprintf that returns NULL on failure. */
char *cfs_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if s ends with suffix. */
bool cfs_ends_with(const char *s, const char *suffix);

/* Parse a non-negative decimal number with an optional unit suffix
 * (k, M, G, T: binary multiples). Returns 0 or -EINVAL. */
int cfs_parse_size(const char *s, uint64_t *out);

#define CFS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
