/* A digest on a thread of its own (core/util/digest_thread.c) gives the
 * value the plain digest gives, whatever the sizes of the updates: small
 * ones, ones that wrap its ring, ones larger than the ring. */
#include "digest.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#define SIZE ((9u << 20) + 12345)

int main(void)
{
    unsigned char *data = malloc(SIZE);
    char want[129], got[129];
    struct cfs_digest *d;
    struct cfs_digest_thread *t;
    static const size_t steps[] = { 1, 4096, 65537, 1u << 20, 5u << 20, SIZE };

    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 11);
    CHECK(cfs_digest_new("sha512", &d) == 0);
    cfs_digest_update(d, data, SIZE);
    cfs_digest_matches(d, "", want);
    cfs_digest_free(d);

    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        CHECK(cfs_digest_thread_new("sha512", &t) == 0);
        size_t len = steps[k] == 1 ? 100000 : SIZE; /* byte by byte: a prefix */
        for (size_t at = 0; at < len; at += steps[k])
            cfs_digest_thread_update(t, data + at, len - at < steps[k] ? len - at : steps[k]);
        if (len == SIZE) {
            CHECK(cfs_digest_thread_matches(t, want, got));
        } else {
            CHECK(cfs_digest_new("sha512", &d) == 0);
            cfs_digest_update(d, data, len);
            char prefix[129];
            cfs_digest_matches(d, "", prefix);
            cfs_digest_free(d);
            CHECK(cfs_digest_thread_matches(t, prefix, got));
        }
        cfs_digest_thread_free(t);
    }
    /* Freed with bytes still queued, and never fed: no hang, no leak. */
    CHECK(cfs_digest_thread_new("sha512", &t) == 0);
    cfs_digest_thread_update(t, data, SIZE);
    cfs_digest_thread_free(t);
    CHECK(cfs_digest_thread_new("sha512", &t) == 0);
    cfs_digest_thread_free(t);
    CHECK(cfs_digest_thread_new("no-such-hash", &t) == -ENOTSUP);
    free(data);
    return UNIT_RESULT();
}
