/* Allocation maps: one bit per 64 KiB grain of a guest disk. */
#include "source.h"

#include <errno.h>
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

/* Word i of the map, with bits past n_grains cleared: a map that claims
 * more grains than the disk has must not shift a layout. */
static uint64_t word(const struct cfs_alloc_index *ix, uint64_t i)
{
    uint64_t first = i * 64;
    if (first >= ix->n_grains)
        return 0;
    uint64_t w = ix->bits ? ix->bits[i] : ~0ull;
    if (ix->n_grains - first < 64)
        w &= (1ull << (ix->n_grains - first)) - 1;
    return w;
}

int cfs_alloc_index_init(struct cfs_alloc_index *ix, const struct cfs_alloc *map, uint64_t n_grains,
                         uint64_t group, uint64_t n_groups)
{
    ix->bits = map ? map->bits : NULL;
    ix->n_grains = map && map->n_grains < n_grains ? map->n_grains : n_grains;
    ix->group = group;
    ix->n_groups = n_groups;
    ix->prefix = calloc(n_groups + 1, sizeof *ix->prefix);
    if (!ix->prefix)
        return -ENOMEM;
    uint64_t total = 0;
    for (uint64_t q = 0; q < n_groups; q++) {
        ix->prefix[q] = total;
        for (uint64_t i = q * (group / 64); i < (q + 1) * (group / 64); i++)
            total += (uint64_t)__builtin_popcountll(word(ix, i));
    }
    ix->prefix[n_groups] = total;
    return 0;
}

void cfs_alloc_index_free(struct cfs_alloc_index *ix)
{
    free(ix->prefix);
    ix->prefix = NULL;
}

bool cfs_alloc_index_test(const struct cfs_alloc_index *ix, uint64_t g)
{
    return g < ix->n_grains && (word(ix, g >> 6) >> (g & 63)) & 1;
}

uint64_t cfs_alloc_index_count(const struct cfs_alloc_index *ix)
{
    return ix->prefix[ix->n_groups];
}

uint64_t cfs_alloc_rank(const struct cfs_alloc_index *ix, uint64_t g)
{
    uint64_t q = g / ix->group;
    if (q >= ix->n_groups)
        return cfs_alloc_index_count(ix);
    uint64_t r = ix->prefix[q];
    for (uint64_t i = q * (ix->group / 64); i < g >> 6; i++)
        r += (uint64_t)__builtin_popcountll(word(ix, i));
    if (g & 63)
        r += (uint64_t)__builtin_popcountll(word(ix, g >> 6) & ((1ull << (g & 63)) - 1));
    return r;
}

uint64_t cfs_alloc_select(const struct cfs_alloc_index *ix, uint64_t k)
{
    if (!ix->bits)
        return k;
    uint64_t lo = 0, hi = ix->n_groups; /* the last group with prefix <= k */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ix->prefix[mid] <= k)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t left = k - ix->prefix[lo];
    for (uint64_t i = lo * (ix->group / 64);; i++) {
        uint64_t w = word(ix, i);
        uint64_t c = (uint64_t)__builtin_popcountll(w);
        if (left < c) {
            while (left--)
                w &= w - 1;
            return i * 64 + (uint64_t)__builtin_ctzll(w);
        }
        left -= c;
    }
}
