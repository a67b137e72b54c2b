/* Content digests (sha512, sha256, md5 ...) computed while data streams,
 * to check downloads against what the cloud says it stored. */
#ifndef CFS_DIGEST_H
#define CFS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

struct cfs_digest;

/* algo: an OpenSSL digest name as Glance's os_hash_algo gives it
 * ("sha512", "sha256", "md5"...). Returns 0, -ENOTSUP or -ENOMEM. */
int cfs_digest_new(const char *algo, struct cfs_digest **out);
void cfs_digest_update(struct cfs_digest *d, const void *data, size_t len);
/* Finishes the digest and compares with a hex string (case-insensitive).
 * hex_out (at least 129 bytes) receives the computed value. */
bool cfs_digest_matches(struct cfs_digest *d, const char *expected_hex, char *hex_out);
void cfs_digest_free(struct cfs_digest *d);

#endif
