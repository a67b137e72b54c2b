/* qcow2 decoder internals, shared by qcow2.c (open: header, tables, the
 * checks of ref/formats.md §1.8) and qcow2_read.c (serving the guest disk,
 * §1.6-§1.7). Private to core/format/. */
#ifndef CFS_QCOW2_PRIV_H
#define CFS_QCOW2_PRIV_H

#include "source.h"

#include <pthread.h>
#include <stdatomic.h>

#include "block_cache.h"
#include <stdbool.h>
#include <stdint.h>

#define QCOW2_OFFSET_MASK   0x00fffffffffffe00ull /* L1E_/L2E_OFFSET_MASK */
#define QCOW2_COMPRESSED    (1ull << 62)
#define QCOW2_ZERO_FLAG     1ull
#define QCOW2_SUBCLUSTERS   32
#define QCOW2_SUB_ALLOC_ALL 0xffffffffull

enum qcow2_compression { QCOW2_ZLIB = 0, QCOW2_ZSTD = 1 };

enum qcow2_kind { QCOW2_KIND_ZERO, QCOW2_KIND_DATA, QCOW2_KIND_COMPRESSED };

struct qcow2 {
    struct cfs_source base; /* the guest disk */
    struct cfs_source *file;
    char *label;
    uint64_t file_size;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits;         /* log2 of entries per L2 table */
    unsigned entry_words;     /* u64 words per L2 entry: 1, or 2 with extended L2 */
    unsigned subcluster_bits; /* log2 of the subcluster size (extended L2) */
    enum qcow2_compression compression;
    uint64_t n_l1;     /* L1 entries that the virtual size needs */
    uint64_t **l2;     /* per L1 entry: its L2 entries in host order, or NULL */
    uint64_t *l2_data; /* every distinct L2 table, one allocation */
    struct cfs_alloc *alloc;

    struct cfs_block_cache cache; /* decoded compressed blocks, keyed never 0 */

    /* qcow2_ahead.c */
    bool scattered;             /* data clusters far out of guest order in the file */
    atomic_bool hinted;         /* the whole file was hinted to the source below */
    _Atomic uint64_t seq_end;   /* furthest end of a guest read */
    _Atomic uint64_t seq_bytes; /* guest bytes read in order since the last step back */
};

/* Host byte range of a compressed cluster's descriptor e (§1.6). */
static inline void qcow2_compressed_span(const struct qcow2 *q, uint64_t e, uint64_t *off,
                                         uint64_t *len)
{
    unsigned x = 62 - (q->cluster_bits - 8);
    uint64_t nb = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
    *off = e & ((1ull << x) - 1);
    *len = nb * 512 - (*off & 511);
}

/* qcow2_read.c */
ssize_t qcow2_disk_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off);
int qcow2_cache_init(struct qcow2 *q);

/* qcow2_ahead.c: is the layout scattered (at open); a guest read happened. */
void qcow2_layout_check(struct qcow2 *q);
void qcow2_read_ahead(struct qcow2 *q, uint64_t off, uint64_t len);
void qcow2_cache_free(struct qcow2 *q);

#endif
