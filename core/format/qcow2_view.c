/* The .qcow2 view: a guest disk shown as a qcow2 v3 image (ref/formats.md
 * §1; refcounts per qemu docs/interop/qcow2.txt), for images whose native
 * format is not qcow2.
 *
 * 64 KiB clusters, so a cluster is a grain of the allocation map. The file
 * is, in clusters: the header, the L1 table, the refcount table, the
 * refcount blocks, one L2 table per L1 entry whose 512 MiB hold data, then
 * one data cluster per allocated grain in guest order. Every used cluster
 * has refcount 1 and nothing else is counted, so the size is
 *   st_size = 64 KiB * T,  T = 1 + L1C + RTC + RBC + NL2 + NA
 * with RBC = ceil(T / 32768) and RTC = ceil(RBC / 8192): the refcount
 * blocks count themselves, a fixed point found at open. A read at any
 * offset is arithmetic on the map: rank (L2 entries) and select (data
 * cluster -> grain) with a per-L2 prefix count, as in vmdk_stream.c. The
 * data clusters are the disk's bytes, read straight into the caller's
 * buffer, so the view keeps no cache and no lock. */
#include "format.h"
#include "bytes.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTER_BITS    16u
#define CLUSTER_BYTES   (1ull << CLUSTER_BITS)
#define L2_ENTRIES      (CLUSTER_BYTES / 8)     /* 8192 grains, 512 MiB per L2 table */
#define RB_ENTRIES      (CLUSTER_BYTES / 2)     /* refcount_order 4: 16-bit counts */
#define RT_ENTRIES      (CLUSTER_BYTES / 8)     /* refcount blocks per table cluster */
#define HEADER_BYTES    104u                    /* v3 without compression_type */
#define COPIED          (1ull << 63)            /* refcount is exactly 1 */
#define MAX_L1_ENTRIES  (32u * 1024 * 1024 / 8) /* qemu's QCOW_MAX_L1_SIZE */
#define MAX_HOST_OFFSET (1ull << 56)            /* L1/L2 offsets are bits 9..55 */

_Static_assert(CLUSTER_BITS == CFS_GRAIN_SHIFT, "a cluster is a grain");

struct qcow2_view {
    struct cfs_source base;
    struct cfs_source *disk;
    uint64_t n_grains;   /* guest clusters */
    uint64_t l1_size;    /* L1 entries */
    uint64_t n_alloc;    /* NA: data clusters */
    uint64_t n_l2;       /* NL2: L2 tables */
    uint64_t n_rb;       /* RBC: refcount blocks */
    uint64_t n_clusters; /* T: clusters of the file */
    /* cluster numbers of each region */
    uint64_t l1_at, rt_at, rb_at, l2_at, data_at;
    struct cfs_alloc_index ix; /* rank/select per L2 table of 8192 grains */
    uint64_t *l2_rank;         /* [l1_size + 1]: L2 tables before L1 entry i */
    uint64_t *l2_of;           /* [n_l2]: the L1 entry of the j-th L2 table */
    unsigned char head[HEADER_BYTES];
};

/* ---- rank and select over the allocation bitmap (alloc.c) ---- */

static int is_alloc(const struct qcow2_view *v, uint64_t g)
{
    return g < v->n_grains && cfs_alloc_index_test(&v->ix, g);
}

/* Also which L1 entries have an L2 table, and their order. */
static int build_index(struct qcow2_view *v)
{
    int err = cfs_alloc_index_init(&v->ix, v->disk->alloc, v->n_grains, L2_ENTRIES, v->l1_size);
    if (err)
        return err;
    v->l2_rank = calloc(v->l1_size + 1, sizeof *v->l2_rank);
    v->l2_of = calloc(v->l1_size + 1, sizeof *v->l2_of);
    if (!v->l2_rank || !v->l2_of)
        return -ENOMEM;
    uint64_t tables = 0;
    for (uint64_t q = 0; q < v->l1_size; q++) {
        v->l2_rank[q] = tables;
        if (v->ix.prefix[q + 1] > v->ix.prefix[q])
            v->l2_of[tables++] = q;
    }
    v->l2_rank[v->l1_size] = tables;
    v->n_alloc = cfs_alloc_index_count(&v->ix);
    v->n_l2 = tables;
    return 0;
}

static int has_l2(const struct qcow2_view *v, uint64_t q)
{
    return v->ix.prefix[q + 1] > v->ix.prefix[q];
}

/* ---- layout (qcow2.txt "Host cluster management") ---- */

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static int layout(struct qcow2_view *v)
{
    uint64_t l1c = div_up(v->l1_size * 8, CLUSTER_BYTES);
    /* Everything but the refcount structures; they then grow until they
     * cover themselves. Both counts only increase, so this ends: in two or
     * three rounds, as one block covers 2 GiB of file. */
    uint64_t fixed = 1 + l1c + v->n_l2 + v->n_alloc, rbc = 0, rtc = 1, t;
    for (;;) {
        t = fixed + rtc + rbc;
        uint64_t need_rb = div_up(t, RB_ENTRIES), need_rt = div_up(need_rb, RT_ENTRIES);
        if (need_rb == rbc && need_rt == rtc)
            break;
        rbc = need_rb;
        rtc = need_rt;
    }
    v->n_rb = rbc;
    v->n_clusters = t;
    v->l1_at = 1;
    v->rt_at = v->l1_at + l1c;
    v->rb_at = v->rt_at + rtc;
    v->l2_at = v->rb_at + rbc;
    v->data_at = v->l2_at + v->n_l2;
    if (t > MAX_HOST_OFFSET >> CLUSTER_BITS || rtc * CLUSTER_BYTES > 8 * 1024 * 1024)
        return -EFBIG; /* past L2's 56-bit offsets or qemu's 8 MiB refcount table */

    unsigned char *h = v->head;
    cfs_put_be32(h + 0, 0x514649fb); /* "QFI\xfb" */
    cfs_put_be32(h + 4, 3);
    cfs_put_be64(h + 8, 0); /* no backing file */
    cfs_put_be32(h + 16, 0);
    cfs_put_be32(h + 20, CLUSTER_BITS);
    /* Whole sectors: qemu drops a partial last sector; the tail is zeros. */
    cfs_put_be64(h + 24, (v->disk->size + 511) & ~(uint64_t)511);
    cfs_put_be32(h + 32, 0); /* no encryption */
    cfs_put_be32(h + 36, (uint32_t)v->l1_size);
    cfs_put_be64(h + 40, v->l1_at << CLUSTER_BITS);
    cfs_put_be64(h + 48, v->rt_at << CLUSTER_BITS);
    cfs_put_be32(h + 56, (uint32_t)rtc);
    cfs_put_be32(h + 60, 0); /* no snapshots */
    cfs_put_be64(h + 64, 0);
    cfs_put_be64(h + 72, 0); /* incompatible, compatible, autoclear features */
    cfs_put_be64(h + 80, 0);
    cfs_put_be64(h + 88, 0);
    cfs_put_be32(h + 96, 4); /* refcount_order: 16-bit refcounts */
    cfs_put_be32(h + 100, HEADER_BYTES);
    /* The end-of-extensions marker at 104 is the cluster's zeros. */
    return 0;
}

/* ---- pread ---- */

/* Bytes [rel, rel + len) of an array of big-endian entries of width w
 * (8 or 2), entry e being val(v, e). */
static void read_entries(const struct qcow2_view *v, unsigned char *dst, uint64_t rel, size_t len,
                         unsigned w, uint64_t (*val)(const struct qcow2_view *, uint64_t))
{
    uint64_t e = rel / w, end = rel + len;
    for (; e * w < end; e++) {
        unsigned char b[8];
        uint64_t x = val(v, e);
        if (w == 8)
            cfs_put_be64(b, x);
        else
            b[0] = (unsigned char)(x >> 8), b[1] = (unsigned char)x;
        uint64_t lo = e * w > rel ? e * w : rel, hi = e * w + w < end ? e * w + w : end;
        memcpy(dst + (lo - rel), b + (lo - e * w), (size_t)(hi - lo));
    }
}

static uint64_t l1_entry(const struct qcow2_view *v, uint64_t q)
{
    if (q >= v->l1_size || !has_l2(v, q))
        return 0;
    return (v->l2_at + v->l2_rank[q]) << CLUSTER_BITS | COPIED;
}

static uint64_t rt_entry(const struct qcow2_view *v, uint64_t j)
{
    return j < v->n_rb ? (v->rb_at + j) << CLUSTER_BITS : 0;
}

static uint64_t rb_entry(const struct qcow2_view *v, uint64_t c)
{
    return c < v->n_clusters;
}

/* Bytes [rel, rel + len) of the L2 tables, which follow each other; the
 * range lies within one table. */
static void read_l2(const struct qcow2_view *v, unsigned char *dst, uint64_t rel, size_t len)
{
    uint64_t at = rel / CLUSTER_BYTES * CLUSTER_BYTES, end = rel + len;
    uint64_t g = v->l2_of[rel / CLUSTER_BYTES] * L2_ENTRIES + (rel - at) / 8;
    uint64_t next = cfs_alloc_rank(&v->ix, g); /* then counted on */
    for (at += (rel - at) / 8 * 8; at < end; at += 8, g++) {
        uint64_t x = 0;
        if (is_alloc(v, g))
            x = (v->data_at + next++) << CLUSTER_BITS | COPIED;
        unsigned char b[8];
        cfs_put_be64(b, x);
        uint64_t lo = at > rel ? at : rel, hi = at + 8 < end ? at + 8 : end;
        memcpy(dst + (lo - rel), b + (lo - at), (size_t)(hi - lo));
    }
}

/* Bytes [r, r + len) from data cluster k on; len may run into the next
 * data clusters as long as they hold consecutive grains, so that a large
 * read of a dense disk is one read of the disk. Returns the bytes done. */
static ssize_t read_data(struct qcow2_view *v, unsigned char *dst, uint64_t k, uint64_t r,
                         size_t len)
{
    uint64_t g = cfs_alloc_select(&v->ix, k), last = g;
    uint64_t span = CLUSTER_BYTES - r; /* bytes of consecutive grains from r on */
    while (span < len && is_alloc(v, last + 1))
        span += CLUSTER_BYTES, last++; /* data clusters are in guest order */
    size_t n = len < span ? len : (size_t)span;
    uint64_t off = (g << CLUSTER_BITS) + r;
    size_t want = 0;
    if (off < v->disk->size)
        want = v->disk->size - off < n ? (size_t)(v->disk->size - off) : n;
    ssize_t got = want ? cfs_source_pread(v->disk, dst, want, off) : 0;
    if (got < 0)
        return got;
    if ((size_t)got != want) {
        cfs_log_error("qcow2 view: short read at %llu from the %s source (%zd of %zu)",
                      (unsigned long long)off, v->disk->ops->name, got, want);
        return -EIO;
    }
    memset(dst + want, 0, n - want); /* the partial last grain */
    return (ssize_t)n;
}

static ssize_t qcow2_view_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct qcow2_view *v = (struct qcow2_view *)src;
    unsigned char *dst = buf;
    uint64_t l1 = v->l1_at << CLUSTER_BITS, rt = v->rt_at << CLUSTER_BITS;
    uint64_t rb = v->rb_at << CLUSTER_BITS, l2 = v->l2_at << CLUSTER_BITS;
    uint64_t data = v->data_at << CLUSTER_BITS;
    size_t done = 0;

#define CLIP(limit) (n < (limit)-off ? n : (size_t)((limit)-off))
    while (done < len && off < v->base.size) {
        size_t n = len - done;
        if (off < l1) {
            n = CLIP(l1);
            memset(dst, 0, n);
            if (off < HEADER_BYTES)
                memcpy(dst, v->head + off, HEADER_BYTES - off < n ? HEADER_BYTES - off : n);
        } else if (off < rt) {
            n = CLIP(rt);
            read_entries(v, dst, off - l1, n, 8, l1_entry);
        } else if (off < rb) {
            n = CLIP(rb);
            read_entries(v, dst, off - rt, n, 8, rt_entry);
        } else if (off < l2) {
            n = CLIP(l2);
            read_entries(v, dst, off - rb, n, 2, rb_entry);
        } else if (off < data) {
            uint64_t table_end = l2 + ((off - l2) / CLUSTER_BYTES + 1) * CLUSTER_BYTES;
            n = CLIP(table_end);
            read_l2(v, dst, off - l2, n);
        } else {
            n = CLIP(v->base.size);
            uint64_t k = (off - data) / CLUSTER_BYTES, r = (off - data) % CLUSTER_BYTES;
            ssize_t got = read_data(v, dst, k, r, n);
            if (got < 0)
                return got;
            n = (size_t)got;
        }
        dst += n;
        off += n;
        done += n;
    }
#undef CLIP
    return (ssize_t)done;
}

static void qcow2_view_close(struct cfs_source *src)
{
    struct qcow2_view *v = (struct qcow2_view *)src;
    cfs_alloc_index_free(&v->ix);
    free(v->l2_rank);
    free(v->l2_of);
    cfs_source_close(v->disk);
    free(v);
}

static const struct cfs_source_ops qcow2_view_ops = {
    .name = "qcow2",
    .pread = qcow2_view_pread,
    .close = qcow2_view_close,
};

int qcow2_view_open(struct cfs_source *disk, struct cfs_source **out)
{
    struct qcow2_view *v = calloc(1, sizeof *v);
    int err;

    if (!v) {
        cfs_source_close(disk);
        return -ENOMEM;
    }
    v->disk = disk;
    v->base.ops = &qcow2_view_ops;
    v->n_grains = (disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    /* At least one entry: qcowinfo refuses an empty L1, and qemu-img check
     * calls an L1 cluster that no L1 entry covers a leak. */
    v->l1_size = v->n_grains ? div_up(v->n_grains, L2_ENTRIES) : 1;
    if (v->l1_size > MAX_L1_ENTRIES) {
        cfs_log_error("qcow2 view: a disk of %llu bytes needs an L1 table over qemu's 32 MiB",
                      (unsigned long long)disk->size);
        err = -EFBIG;
        goto fail;
    }
    err = build_index(v);
    if (err)
        goto fail;
    err = layout(v);
    if (err) {
        cfs_log_error("qcow2 view: %llu allocated grains make a file too big for qcow2",
                      (unsigned long long)v->n_alloc);
        goto fail;
    }
    v->base.size = v->n_clusters << CLUSTER_BITS;
    *out = &v->base;
    return 0;

fail:
    qcow2_view_close(&v->base);
    return err;
}
