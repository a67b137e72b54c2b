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

/* url for a log line: without its "user:password@", should it have one.
 * Returns url itself, or buf holding the shortened copy. */
const char *cfs_url_shown(const char *url, char *buf, size_t n);

/* True for an http:// URL: what goes to it (passwords, tokens) is readable
 * on the way. */
bool cfs_url_plain_http(const char *url);

/* Zeroes a secret string (a token, a header line that carries one, a
 * request body with a password) and frees it. NULL is fine. */
void cfs_free_secret(char *s);

/* asprintf that returns NULL on failure. */
char *cfs_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s percent-escaped for a URL's path segment or query value (RFC 3986:
 * all but the unreserved characters), malloc'd, or NULL. */
char *cfs_url_escape(const char *s);

/* Writes all len bytes to fd (EINTR retried). 0 or -errno. */
int cfs_write_all(int fd, const void *data, size_t len);

/* True if all len bytes at buf are zero. */
bool cfs_all_zero(const void *buf, size_t len);

/* True if s ends with suffix. */
bool cfs_ends_with(const char *s, const char *suffix);

/* Parse a non-negative decimal number with an optional unit suffix
 * (k, M, G, T: binary multiples). Returns 0 or -EINVAL. */
int cfs_parse_size(const char *s, uint64_t *out);

#define CFS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
