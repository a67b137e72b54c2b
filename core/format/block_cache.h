/* A small LRU cache of decoded blocks (decompressed qcow2 clusters, VMDK
 * grains), shared by a decoder's readers. The lock is held only to look a
 * block up or to swap one in, never while a block is read or decoded. */
#ifndef CFS_BLOCK_CACHE_H
#define CFS_BLOCK_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct cfs_block_cache {
    pthread_mutex_t lock;
    unsigned n;
    uint64_t clock;
    struct {
        uint64_t key; /* the caller's block id, never 0 (0: empty slot) */
        uint64_t last_use;
        unsigned char *data;
    } * slot;
};

/* About budget bytes of blocks of block_bytes, between min and max blocks.
 * 0 or -ENOMEM. */
int cfs_block_cache_init(struct cfs_block_cache *c, uint64_t block_bytes, uint64_t budget,
                         unsigned min, unsigned max);
void cfs_block_cache_free(struct cfs_block_cache *c);
/* Copies n bytes at in of block key to dst; false on a miss. */
bool cfs_block_cache_get(struct cfs_block_cache *c, uint64_t key, uint64_t in, void *dst,
                         uint64_t n);
/* Takes data (malloc'd) for block key, in place of the least recently used
 * block; frees it instead if another reader put the block meanwhile. */
void cfs_block_cache_put(struct cfs_block_cache *c, uint64_t key, unsigned char *data);

#endif
