/* Progress of an upload or copy seen from the content side. Not the
 * highest offset read: a provider checks the content's last sector before
 * it sends anything (package.c, sniff.c), and a qcow2 decoder jumps ahead
 * to its tables, so that would say 100% at once. Instead the 64 KiB
 * grains read at least once, so retries count once, plus the holes of
 * the content's allocation map that end where a read starts: a sparse
 * stream skips them rather than reads them. */
#include "meter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct meter_source {
    struct cfs_source base;
    struct cfs_source *inner;
    struct cfs_transfer *t;
    pthread_mutex_t lock; /* several threads may read at once */
    uint64_t *seen;       /* a bit per grain: read, or a hole passed */
    uint64_t n_grains;
    uint64_t done; /* bytes of the grains seen */
};

static uint64_t grain_bytes(const struct meter_source *m, uint64_t g)
{
    uint64_t start = g << CFS_GRAIN_SHIFT;
    uint64_t left = m->base.size - start;
    return left < CFS_GRAIN_BYTES ? left : CFS_GRAIN_BYTES;
}

static bool seen(const struct meter_source *m, uint64_t g)
{
    return m->seen[g >> 6] >> (g & 63) & 1;
}

static void see(struct meter_source *m, uint64_t g)
{
    if (!seen(m, g)) {
        m->seen[g >> 6] |= 1ull << (g & 63);
        m->done += grain_bytes(m, g);
    }
}

static ssize_t meter_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct meter_source *m = (struct meter_source *)src;
    ssize_t n = cfs_source_pread(m->inner, buf, len, off);
    if (n <= 0)
        return n;
    uint64_t first = off >> CFS_GRAIN_SHIFT, end = (off + (uint64_t)n - 1) >> CFS_GRAIN_SHIFT;
    pthread_mutex_lock(&m->lock);
    for (uint64_t g = first; g <= end && g < m->n_grains; g++)
        see(m, g);
    /* Each hole grain is walked once: the walk stops at a seen grain. */
    for (uint64_t g = first; g-- > 0 && !cfs_alloc_test(m->base.alloc, g) && !seen(m, g);)
        see(m, g);
    uint64_t done = m->done;
    pthread_mutex_unlock(&m->lock);
    cfs_transfer_progress(m->t, done);
    return n;
}

static void meter_close(struct cfs_source *src)
{
    struct meter_source *m = (struct meter_source *)src;
    pthread_mutex_destroy(&m->lock);
    free(m->seen);
    free(m);
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
    m->n_grains = (inner->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    m->seen = calloc((size_t)(m->n_grains / 64 + 1), sizeof *m->seen);
    if (!m->seen) {
        free(m);
        return -ENOMEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->base.ops = &meter_ops;
    m->base.size = inner->size;
    m->base.alloc = inner->alloc;
    m->base.verified = inner->verified;
    m->inner = inner;
    m->t = t;
    *out = &m->base;
    return 0;
}
