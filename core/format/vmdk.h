/* VMDK decoder internals, shared by vmdk.c (open: header, descriptor,
 * footer, grain directory and tables or the one scan of a stream's
 * markers, ref/formats.md §3.1-§3.4) and vmdk_read.c (serving the guest
 * disk). Private to core/format/. */
#ifndef CFS_VMDK_PRIV_H
#define CFS_VMDK_PRIV_H

#include "source.h"

#include <pthread.h>

#include "block_cache.h"
#include <stdbool.h>
#include <stdint.h>

#define VMDK_SECTOR      512u
#define VMDK_MARKER_HEAD 12u /* u64 lba, u32 size */

/* Grain tables as they are served: gt_index[t] is 0 (table absent, every
 * grain of it unallocated) or k + 1, and then entry i (grain t * gtes + i)
 * is gt_off[k * gtes + i]: the sector of the grain (or, compressed, of its
 * record), 0 for absent or zeroed. Compressed, gt_span[k * gtes + i] is
 * the sectors the record may take, bounded by the next record, the end
 * of the file and 12 bytes + 2 grains, so that one read brings all of it. */
struct vmdk {
    struct cfs_source base; /* the guest disk */
    struct cfs_source *file;
    char *label;
    uint64_t file_size;
    uint64_t grain_bytes;
    unsigned grain_shift; /* log2 of grain_bytes */
    uint32_t gtes;        /* entries per grain table */
    uint64_t n_grains;
    uint64_t n_gt;
    bool compressed;
    bool markers; /* compressed grains start with {u64 lba, u32 size} */
    uint32_t *gt_index;
    uint32_t *gt_off;
    uint32_t *gt_span;
    struct cfs_alloc *alloc;

    struct cfs_block_cache cache; /* decoded compressed blocks, keyed never 0 */
};

/* vmdk_desc.c: the value of key in a descriptor line "key = value" or
 * "key=\"value\"" (at most cap - 1 bytes) into val; false if the line is
 * not about key. */
bool vmdk_desc_value(const char *line, const char *key, char *val, size_t cap);

/* vmdk_read.c */
ssize_t vmdk_disk_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off);
int vmdk_cache_init(struct vmdk *v);
void vmdk_cache_free(struct vmdk *v);

#endif
