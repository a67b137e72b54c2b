/* The decoded-block LRU of block_cache.h. */
#include "block_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cfs_block_cache_init(struct cfs_block_cache *c, uint64_t block_bytes, uint64_t budget,
                         unsigned min, unsigned max)
{
    uint64_t n = budget / block_bytes;
    c->n = n < min ? min : n > max ? max : (unsigned)n;
    c->clock = 0;
    c->slot = calloc(c->n, sizeof *c->slot);
    if (!c->slot)
        return -ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slot);
        c->slot = NULL;
        return -ENOMEM;
    }
    return 0;
}

void cfs_block_cache_free(struct cfs_block_cache *c)
{
    if (!c->slot)
        return;
    for (unsigned i = 0; i < c->n; i++)
        free(c->slot[i].data);
    free(c->slot);
    c->slot = NULL;
    pthread_mutex_destroy(&c->lock);
}

bool cfs_block_cache_get(struct cfs_block_cache *c, uint64_t key, uint64_t in, void *dst,
                         uint64_t n)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->n; i++) {
        if (c->slot[i].data && c->slot[i].key == key) {
            memcpy(dst, c->slot[i].data + in, n);
            c->slot[i].last_use = ++c->clock;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void cfs_block_cache_put(struct cfs_block_cache *c, uint64_t key, unsigned char *data)
{
    unsigned char *drop = data;
    unsigned victim = 0;
    bool present = false;
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->n; i++) {
        if (c->slot[i].data && c->slot[i].key == key) {
            present = true; /* another reader decoded it meanwhile */
            break;
        }
        if (!c->slot[victim].data)
            continue; /* an empty slot is the best victim */
        if (!c->slot[i].data || c->slot[i].last_use < c->slot[victim].last_use)
            victim = i;
    }
    if (!present) {
        drop = c->slot[victim].data;
        c->slot[victim].data = data;
        c->slot[victim].key = key;
        c->slot[victim].last_use = ++c->clock;
    }
    pthread_mutex_unlock(&c->lock);
    free(drop);
}
