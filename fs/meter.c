/* Progress of an upload or copy seen from the content side: a provider
 * reads its content in order (retries re-read earlier ranges), so the
 * furthest byte read is how far the transfer got. */
#include "meter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

struct meter_source {
    struct cfs_source base;
    struct cfs_source *inner;
    struct cfs_transfer *t;
    _Atomic uint64_t high; /* highest offset + length read */
};

static ssize_t meter_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct meter_source *m = (struct meter_source *)src;
    ssize_t n = cfs_source_pread(m->inner, buf, len, off);
    if (n > 0) {
        uint64_t end = off + (uint64_t)n;
        uint64_t high = atomic_load(&m->high);
        /* Several threads may read at once: report only a new maximum. */
        while (end > high)
            if (atomic_compare_exchange_weak(&m->high, &high, end)) {
                cfs_transfer_progress(m->t, end);
                break;
            }
    }
    return n;
}

static void meter_close(struct cfs_source *src)
{
    free(src);
}

static const struct cfs_source_ops meter_ops = {
    .name = "meter",
    .pread = meter_pread,
    .close = meter_close,
};

int cfs_meter_source_open(struct cfs_source *inner, struct cfs_transfer *t, struct cfs_source **out)
{
    struct meter_source *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->base.ops = &meter_ops;
    m->base.size = inner->size;
    m->base.alloc = inner->alloc;
    m->base.verified = inner->verified;
    m->inner = inner;
    m->t = t;
    *out = &m->base;
    return 0;
}
