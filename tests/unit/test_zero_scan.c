/* cfs_zero_scan_open: the grains that hold a non-zero byte, found by one
 * read, across the 4 MiB steps of the scan and in a short last grain; the
 * bytes pass through unchanged; a failing read and a cancel fail the open
 * and close the disk. */
#include "format.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#define G CFS_GRAIN_BYTES

static bool closed;
static int fail_at; /* a pread at this grain fails, -1: none */

struct probe {
    struct cfs_source base;
    struct cfs_source *inner;
};

static ssize_t probe_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct probe *p = (struct probe *)src;
    if (fail_at >= 0 && off <= (uint64_t)fail_at * G && (uint64_t)fail_at * G < off + len)
        return -EIO;
    return cfs_source_pread(p->inner, buf, len, off);
}

static void probe_close(struct cfs_source *src)
{
    struct probe *p = (struct probe *)src;
    cfs_source_close(p->inner);
    free(p);
    closed = true;
}

static const struct cfs_source_ops probe_ops = { .name = "probe",
                                                 .pread = probe_pread,
                                                 .close = probe_close };

/* A disk of size bytes, a 1 at each of the given offsets. */
static struct cfs_source *disk(uint64_t size, const uint64_t *ones, size_t n)
{
    char *data = calloc(1, size);
    struct probe *p = calloc(1, sizeof *p);
    for (size_t i = 0; i < n; i++)
        data[ones[i]] = 1;
    cfs_mem_source_new(data, size, &p->inner);
    p->base.ops = &probe_ops;
    p->base.size = size;
    closed = false;
    return &p->base;
}

static bool cancel_now(void *ctx)
{
    (void)ctx;
    return true;
}

int main(void)
{
    /* 9 MiB + 100 bytes: three scan steps, a short last grain. */
    uint64_t size = (9ull << 20) + 100;
    uint64_t ones[] = { 0, 5 * G + G - 1, (4ull << 20) - 1, 4ull << 20, size - 1 };
    struct cfs_source *s;

    fail_at = -1;
    CHECK(cfs_zero_scan_open(disk(size, ones, 5), "t", NULL, NULL, &s) == 0);
    CHECK(s->size == size);
    CHECK(s->alloc && s->alloc->n_grains == (size + G - 1) / G);
    CHECK(s->alloc->n_alloc == 5);
    CHECK(cfs_alloc_test(s->alloc, 0) && cfs_alloc_test(s->alloc, 5));
    CHECK(!cfs_alloc_test(s->alloc, 1) && !cfs_alloc_test(s->alloc, 6));
    CHECK(cfs_alloc_test(s->alloc, 63) && cfs_alloc_test(s->alloc, 64));
    CHECK(cfs_alloc_test(s->alloc, s->alloc->n_grains - 1));
    char b[2] = { 9, 9 };
    CHECK(cfs_source_pread(s, b, 2, 5 * G + G - 1) == 2 && b[0] == 1 && b[1] == 0);
    cfs_source_close(s);
    CHECK(closed);

    /* All zeros: nothing allocated. */
    CHECK(cfs_zero_scan_open(disk(3 * G, NULL, 0), "t", NULL, NULL, &s) == 0);
    CHECK(s->alloc->n_alloc == 0);
    cfs_source_close(s);

    /* A read error fails the open and closes the disk. */
    fail_at = 70;
    s = NULL;
    CHECK(cfs_zero_scan_open(disk(size, ones, 5), "t", NULL, NULL, &s) == -EIO);
    CHECK(closed && !s);
    fail_at = -1;
    CHECK(cfs_zero_scan_open(disk(size, ones, 5), "t", cancel_now, NULL, &s) == -ECANCELED);
    CHECK(closed && !s);
    return UNIT_RESULT();
}
