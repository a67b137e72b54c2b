/* Byte sources: the central abstraction (DESIGN.md §2). A cloud object
 * read over HTTP is a source; decoders and views stack on sources.
 * Like nbdkit's plugins and filters, a source is a table of callbacks. */
#ifndef CFS_SOURCE_H
#define CFS_SOURCE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfs_source;

struct cfs_source_ops {
    const char *name;
    /* Reads up to len bytes at off. Returns the count (short only at the
     * end of the source) or a negative errno. Safe to call from several
     * threads at once. */
    ssize_t (*pread)(struct cfs_source *src, void *buf, size_t len, uint64_t off);
    void (*close)(struct cfs_source *src);
    /* Optional, advisory: [off, off + len) will be read soon, the source
     * may start fetching it (the block cache does). Returns at once. */
    void (*prefetch)(struct cfs_source *src, uint64_t off, uint64_t len);
    /* Optional: the reader is done with the whole source (a copy ends, a
     * read reached the end). 0 once every byte it was served is covered by
     * the cloud's digest, -EIO if not (logged where found). Without it,
     * cfs_source_finish says -ENODATA unless the source is verified. */
    int (*finish)(struct cfs_source *src);
    /* Optional: what this source delivered failed a check: forget what it
     * kept of it (cached chunks, memoised metadata). */
    void (*discard)(struct cfs_source *src);
};

/* Guest disks are described in grains of 64 KiB (the VMDK grain): which
 * grains may hold data; the others read as zeros (DESIGN.md §4). */
#define CFS_GRAIN_SHIFT 16
#define CFS_GRAIN_BYTES (1u << CFS_GRAIN_SHIFT)

struct cfs_alloc {
    uint64_t n_grains; /* ceil(size / 64 KiB) */
    uint64_t n_alloc;  /* grains that may hold data */
    uint64_t *bits;    /* bit g set: grain g may hold data */
};

struct cfs_source {
    const struct cfs_source_ops *ops;
    uint64_t size;
    /* Allocation of a guest disk, owned by the source; NULL: every byte
     * may be data (a plain file, a download). */
    const struct cfs_alloc *alloc;
    /* Set once a complete read matched the cloud's digest: the kernel may
     * keep the object's pages from then on. */
    bool verified;
    /* Decoding costs more than reading a cache (compressed clusters): the
     * decoded bytes are worth keeping in the block cache. */
    bool costly;
};

static inline ssize_t cfs_source_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    if (off >= src->size)
        return 0;
    if (len > src->size - off)
        len = (size_t)(src->size - off);
    return src->ops->pread(src, buf, len, off);
}

static inline void cfs_source_prefetch(struct cfs_source *src, uint64_t off, uint64_t len)
{
    if (src->ops->prefetch && off < src->size)
        src->ops->prefetch(src, off, len < src->size - off ? len : src->size - off);
}

/* Reads all of [off, off + len): 0, a read's -errno, or -EIO when the
 * source ends first. */
static inline int cfs_source_read_full(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = cfs_source_pread(src, (char *)buf + done, len - done, off + done);
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* 0: every byte served is covered by the cloud's digest; -EIO: it does
 * not match; -ENODATA: no digest covers this source (a vCD export). */
static inline int cfs_source_finish(struct cfs_source *src)
{
    if (src->ops->finish)
        return src->ops->finish(src);
    return src->verified ? 0 : -ENODATA;
}

static inline void cfs_source_discard(struct cfs_source *src)
{
    if (src->ops->discard)
        src->ops->discard(src);
}

/* Allocation maps (core/format/alloc.c). */
struct cfs_alloc *cfs_alloc_new(uint64_t size_bytes);
void cfs_alloc_free(struct cfs_alloc *a);
void cfs_alloc_set(struct cfs_alloc *a, uint64_t grain);
/* Marks every grain that overlaps [off, off + len). */
void cfs_alloc_set_range(struct cfs_alloc *a, uint64_t off, uint64_t len);

static inline int cfs_alloc_test(const struct cfs_alloc *a, uint64_t grain)
{
    if (!a)
        return 1;
    return grain < a->n_grains && (a->bits[grain >> 6] >> (grain & 63)) & 1;
}

/* Rank and select over an allocation map, for views that lay out one
 * record per allocated grain: a count of allocated grains before each
 * group of grains, then popcounts within the group. */
struct cfs_alloc_index {
    const uint64_t *bits; /* NULL: every grain below n_grains is allocated */
    uint64_t n_grains;    /* grains that may be allocated; later bits are ignored */
    uint64_t group;       /* grains per group, a multiple of 64 */
    uint64_t n_groups;
    uint64_t *prefix; /* [n_groups + 1]: allocated grains before group i */
};

/* map may be NULL; n_grains is the disk's grain count (capped at the
 * map's); n_groups groups of group grains must cover it. 0 or -ENOMEM. */
int cfs_alloc_index_init(struct cfs_alloc_index *ix, const struct cfs_alloc *map, uint64_t n_grains,
                         uint64_t group, uint64_t n_groups);
void cfs_alloc_index_free(struct cfs_alloc_index *ix);
bool cfs_alloc_index_test(const struct cfs_alloc_index *ix, uint64_t g);
uint64_t cfs_alloc_index_count(const struct cfs_alloc_index *ix);
/* Allocated grains before grain g (g <= groups' end). */
uint64_t cfs_alloc_rank(const struct cfs_alloc_index *ix, uint64_t g);
/* The grain of the k-th allocated grain (k < count). */
uint64_t cfs_alloc_select(const struct cfs_alloc_index *ix, uint64_t k);

/* A source over a local file (tests, local images): takes the file's
 * holes (SEEK_HOLE) as its allocation map at grain granularity. */
int cfs_file_source_open(const char *path, struct cfs_source **out);

/* A source over bytes in memory; takes ownership of data (free()d). */
int cfs_mem_source_new(char *data, size_t len, struct cfs_source **out);

static inline void cfs_source_close(struct cfs_source *src)
{
    if (src)
        src->ops->close(src);
}

#endif
