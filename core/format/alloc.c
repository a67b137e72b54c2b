/* Allocation maps: one bit per 64 KiB grain of a guest disk. */
#include "source.h"

#include <stdlib.h>

struct cfs_alloc *cfs_alloc_new(uint64_t size_bytes)
{
    struct cfs_alloc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->n_grains = (size_bytes + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    a->bits = calloc((size_t)((a->n_grains + 63) / 64) + 1, sizeof *a->bits);
    if (!a->bits) {
        free(a);
        return NULL;
    }
    return a;
}

void cfs_alloc_free(struct cfs_alloc *a)
{
    if (!a)
        return;
    free(a->bits);
    free(a);
}

void cfs_alloc_set(struct cfs_alloc *a, uint64_t g)
{
    uint64_t m = 1ull << (g & 63);
    if (g >= a->n_grains || (a->bits[g >> 6] & m))
        return;
    a->bits[g >> 6] |= m;
    a->n_alloc++;
}

void cfs_alloc_set_range(struct cfs_alloc *a, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    for (uint64_t g = off >> CFS_GRAIN_SHIFT; g <= (off + len - 1) >> CFS_GRAIN_SHIFT; g++)
        cfs_alloc_set(a, g);
}
