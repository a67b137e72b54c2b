/* qcow2 decoder, opening half: reads the header (v2 and v3), its
 * extensions, the L1 table and the L2 tables the virtual size needs,
 * checks every field an image could use to make us read out of bounds
 * (ref/formats.md §1.1-§1.5, §1.8), and builds the guest disk's
 * allocation map from that metadata alone (§3.7). qcow2_read.c serves
 * the guest's bytes. */
#define _GNU_SOURCE
#include "format.h"
#include "bytes.h"
#include "log.h"
#include "qcow2.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCOW2_MAGIC        0x514649fbu
#define V2_HEADER_BYTES    72
#define V3_HEADER_BYTES    104
#define HEAD_READ_BYTES    4096
#define MIN_CLUSTER_BITS   9
#define MAX_CLUSTER_BITS   21
#define MIN_EXT_L2_BITS    14
#define MAX_L1_BYTES       (32ull << 20) /* qemu QCOW_MAX_L1_SIZE */
#define MAX_REFTABLE_BYTES (8ull << 20)  /* qemu QCOW_MAX_REFTABLE_SIZE */
#define MAX_SNAPSHOTS      65536
#define MAX_VIRTUAL_SIZE   (2ull << 40) /* VMDK grain tables hold 32-bit sectors */
#define MAX_READ_BYTES     (16ull << 20)
#define EXT_FEATURE_NAMES  0x6803f857u
#define FEATURE_NAME_BYTES 48

#define INCOMPAT_DIRTY       (1ull << 0)
#define INCOMPAT_CORRUPT     (1ull << 1)
#define INCOMPAT_DATA_FILE   (1ull << 2)
#define INCOMPAT_COMPRESSION (1ull << 3)
#define INCOMPAT_EXTL2       (1ull << 4)
#define INCOMPAT_KNOWN       0x1full

struct header {
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
};

/* State that lives only while opening. */
struct opener {
    struct qcow2 *q;
    struct header h;
    unsigned char *head; /* the first bytes of the file */
    size_t head_len;
    size_t feature_name_at[64]; /* incompatible bits' names in head (extension 0x6803f857) */
    uint64_t *l2_offsets;       /* distinct L2 tables, sorted */
    size_t n_l2;
};

/* One L1 entry that points to an L2 table, while grouping the reads. */
struct l2_ref {
    uint64_t offset;
    uint64_t n_entries; /* entries the virtual size needs */
    uint64_t l1_index;
};

static int refuse(const struct qcow2 *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one log line of a refused image or a failed read. */
static int refuse(const struct qcow2 *q, int err, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cfs_log_error("qcow2: %s: %s", q->label, why);
    return err;
}

bool qcow2_probe(const void *head, size_t len)
{
    return len >= 4 && cfs_be32(head) == QCOW2_MAGIC;
}

/* Reads exactly len bytes at off of the image file; what is missing
 * (the file is shorter than its metadata says) is -EIO. */
static int read_meta(struct qcow2 *q, void *buf, uint64_t len, uint64_t off, const char *what)
{
    ssize_t n = cfs_source_pread(q->file, buf, (size_t)len, off);
    if (n < 0)
        return refuse(q, (int)n, "reading %s at 0x%llx: %s", what, (unsigned long long)off,
                      strerror((int)-n));
    if ((uint64_t)n != len)
        return refuse(q, -EIO, "%s at 0x%llx+%llu ends beyond the end of the file", what,
                      (unsigned long long)off, (unsigned long long)len);
    return 0;
}

/* Makes sure the first len bytes of the file are in o->head. */
static int load_head(struct opener *o, size_t len)
{
    if (len <= o->head_len)
        return 0;
    unsigned char *p = realloc(o->head, len);
    if (!p)
        return refuse(o->q, -ENOMEM, "out of memory for the header");
    o->head = p;
    int err = read_meta(o->q, p + o->head_len, len - o->head_len, o->head_len, "the header");
    if (err)
        return err;
    o->head_len = len;
    return 0;
}

static int parse_header(struct opener *o)
{
    struct qcow2 *q = o->q;
    struct header *h = &o->h;
    int err;

    if (q->file_size < V2_HEADER_BYTES)
        return refuse(q, -EIO, "file of %llu bytes is too short for a qcow2 header",
                      (unsigned long long)q->file_size);
    err = load_head(o, q->file_size < HEAD_READ_BYTES ? q->file_size : HEAD_READ_BYTES);
    if (err)
        return err;
    const unsigned char *p = o->head;
    if (cfs_be32(p) != QCOW2_MAGIC)
        return refuse(q, -EIO, "not a qcow2 image (bad magic)");
    h->version = cfs_be32(p + 4);
    if (h->version != 2 && h->version != 3)
        return refuse(q, -ENOTSUP, "qcow2 version %u is not supported", h->version);
    h->backing_file_offset = cfs_be64(p + 8);
    h->cluster_bits = cfs_be32(p + 20);
    h->size = cfs_be64(p + 24);
    h->crypt_method = cfs_be32(p + 32);
    h->l1_size = cfs_be32(p + 36);
    h->l1_table_offset = cfs_be64(p + 40);
    h->refcount_table_offset = cfs_be64(p + 48);
    h->refcount_table_clusters = cfs_be32(p + 56);
    h->nb_snapshots = cfs_be32(p + 60);
    h->snapshots_offset = cfs_be64(p + 64);
    if (h->cluster_bits < MIN_CLUSTER_BITS || h->cluster_bits > MAX_CLUSTER_BITS)
        return refuse(q, -EIO, "cluster_bits %u outside %d..%d", h->cluster_bits, MIN_CLUSTER_BITS,
                      MAX_CLUSTER_BITS);
    uint64_t cs = 1ull << h->cluster_bits;

    if (h->version == 2) {
        h->header_length = V2_HEADER_BYTES;
        h->refcount_order = 4;
    } else {
        if (q->file_size < V3_HEADER_BYTES)
            return refuse(q, -EIO, "file too short for a version 3 header");
        h->incompatible = cfs_be64(p + 72);
        h->refcount_order = cfs_be32(p + 96);
        h->header_length = cfs_be32(p + 100);
        if (h->header_length < V3_HEADER_BYTES || h->header_length % 8 || h->header_length > cs)
            return refuse(q, -EIO, "header_length %u invalid (>= 104, a multiple of 8, <= %llu)",
                          h->header_length, (unsigned long long)cs);
        if (h->header_length > q->file_size)
            return refuse(q, -EIO, "header_length %u beyond the end of the file", h->header_length);
        err = load_head(o, h->header_length);
        if (err)
            return err;
        if (h->header_length > V3_HEADER_BYTES)
            h->compression_type = o->head[104];
    }
    return 0;
}

/* Header extensions ({u32 type, u32 len, data, pad to 8}), bounded by the
 * end of the first cluster (§1.3). Only the feature name table is used:
 * it names unknown incompatible bits in the refusal. */
static int parse_extensions(struct opener *o)
{
    struct qcow2 *q = o->q;
    uint64_t end = q->cluster_size < q->file_size ? q->cluster_size : q->file_size;
    uint64_t off = o->h.header_length;

    while (off < end && end - off >= 8) {
        /* Beyond the first read: take the whole extension area at once. */
        int err = off + 8 > o->head_len ? load_head(o, (size_t)end) : 0;
        if (err)
            return err;
        uint32_t type = cfs_be32(o->head + off), len = cfs_be32(o->head + off + 4);
        if (type == 0)
            break;
        off += 8;
        if (len > end - off)
            return refuse(q, -EIO, "header extension 0x%08x at 0x%llx too large (%u bytes)", type,
                          (unsigned long long)(off - 8), len);
        if (type == EXT_FEATURE_NAMES) {
            err = off + len > o->head_len ? load_head(o, (size_t)end) : 0;
            if (err)
                return err;
            for (uint32_t i = 0; i + FEATURE_NAME_BYTES <= len; i += FEATURE_NAME_BYTES) {
                const unsigned char *f = o->head + off + i;
                if (f[0] == 0 && f[1] < 64)
                    o->feature_name_at[f[1]] = (size_t)(off + i + 2);
            }
        }
        off += ((uint64_t)len + 7) & ~7ull;
    }
    return 0;
}

/* Features we cannot serve faithfully (§1.2, §1.8). */
static int check_features(struct opener *o)
{
    struct qcow2 *q = o->q;
    struct header *h = &o->h;
    int err;

    if (h->crypt_method)
        return refuse(q, -ENOTSUP, "encrypted images are not supported (crypt_method %u)",
                      h->crypt_method);
    if (h->backing_file_offset)
        return refuse(q, -ENOTSUP, "images with a backing file are not supported");
    if (h->incompatible & INCOMPAT_CORRUPT)
        return refuse(q, -EIO, "the image is marked corrupt");
    if (h->incompatible & INCOMPAT_DATA_FILE)
        return refuse(q, -ENOTSUP, "images with an external data file are not supported");
    err = parse_extensions(o);
    if (err)
        return err;
    uint64_t unknown = h->incompatible & ~INCOMPAT_KNOWN;
    if (unknown) {
        unsigned bit = (unsigned)__builtin_ctzll(unknown);
        const char *name =
            o->feature_name_at[bit] ? (const char *)o->head + o->feature_name_at[bit] : NULL;
        return refuse(q, -ENOTSUP, "unknown incompatible feature bit %u%s%.46s%s", bit,
                      name ? " (" : "", name ? name : "", name ? ")" : "");
    }
    if (h->compression_type > QCOW2_ZSTD)
        return refuse(q, -ENOTSUP, "unknown compression type %u", h->compression_type);
    if (!(h->incompatible & INCOMPAT_COMPRESSION) != (h->compression_type == QCOW2_ZLIB))
        return refuse(q, -EIO, "compression type %u disagrees with incompatible bit 3",
                      h->compression_type);
    if ((h->incompatible & INCOMPAT_EXTL2) && h->cluster_bits < MIN_EXT_L2_BITS)
        return refuse(q, -EIO, "extended L2 entries with %llu-byte clusters",
                      (unsigned long long)q->cluster_size);
    if (h->refcount_order > 6)
        return refuse(q, -EIO, "refcount_order %u > 6", h->refcount_order);
    return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    return a_len && b_len && a < b + b_len && b < a + a_len;
}

/* Tables not needed for reading, checked only so that a hostile header is
 * refused (§1.8); the metadata ranges then guard data pointers. */
static int check_tables(struct opener *o)
{
    struct qcow2 *q = o->q;
    struct header *h = &o->h;
    uint64_t cs = q->cluster_size, mask = cs - 1;

    if (h->size > MAX_VIRTUAL_SIZE)
        return refuse(q, -ENOTSUP, "virtual size %llu above the 2 TiB a VMDK can hold",
                      (unsigned long long)h->size);
    uint64_t n_clusters = (h->size + mask) >> h->cluster_bits;
    q->n_l1 = (n_clusters + (1ull << q->l2_bits) - 1) >> q->l2_bits;

    if ((uint64_t)h->l1_size > MAX_L1_BYTES / 8)
        return refuse(q, -EIO, "L1 table of %u entries is too big", h->l1_size);
    if (q->n_l1 > h->l1_size)
        return refuse(q, -EIO, "L1 table of %u entries too small for %llu bytes", h->l1_size,
                      (unsigned long long)h->size);
    uint64_t l1_bytes = (uint64_t)h->l1_size * 8;
    if (h->l1_table_offset & mask)
        return refuse(q, -EIO, "L1 table offset 0x%llx not cluster-aligned",
                      (unsigned long long)h->l1_table_offset);
    if (l1_bytes && h->l1_table_offset < cs)
        return refuse(q, -EIO, "L1 table inside the header cluster");
    if (l1_bytes &&
        (h->l1_table_offset > q->file_size || l1_bytes > q->file_size - h->l1_table_offset))
        return refuse(q, -EIO, "L1 table at 0x%llx+%llu outside the file",
                      (unsigned long long)h->l1_table_offset, (unsigned long long)l1_bytes);

    uint64_t rt_bytes = (uint64_t)h->refcount_table_clusters << h->cluster_bits;
    if (h->refcount_table_clusters == 0 || rt_bytes > MAX_REFTABLE_BYTES ||
        (h->refcount_table_offset & mask) || h->refcount_table_offset < cs ||
        h->refcount_table_offset > q->file_size ||
        rt_bytes > q->file_size - h->refcount_table_offset)
        return refuse(q, -EIO, "refcount table at 0x%llx (%u clusters) invalid",
                      (unsigned long long)h->refcount_table_offset, h->refcount_table_clusters);
    if (ranges_overlap(h->l1_table_offset, l1_bytes, h->refcount_table_offset, rt_bytes))
        return refuse(q, -EIO, "L1 table overlaps the refcount table");
    if (h->nb_snapshots > MAX_SNAPSHOTS || (h->snapshots_offset & mask))
        return refuse(q, -EIO, "snapshot table (%u at 0x%llx) invalid", h->nb_snapshots,
                      (unsigned long long)h->snapshots_offset);
    return 0;
}

/* True if [off, off + len) touches the header cluster, the L1 table, the
 * refcount table or a kept L2 table: a data pointer there is corrupt. */
static bool in_metadata(const struct opener *o, uint64_t off, uint64_t len)
{
    const struct header *h = &o->h;
    uint64_t cs = o->q->cluster_size;

    if (off < cs || ranges_overlap(off, len, h->l1_table_offset, (uint64_t)h->l1_size * 8) ||
        ranges_overlap(off, len, h->refcount_table_offset,
                       (uint64_t)h->refcount_table_clusters << h->cluster_bits))
        return true;
    /* First L2 table that ends after off. */
    uint64_t lo_key = off >= cs ? off - cs + 1 : 0;
    size_t lo = 0, hi = o->n_l2;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->l2_offsets[mid] < lo_key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n_l2 && o->l2_offsets[lo] < off + len;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct l2_ref *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->l1_index < y->l1_index ? -1 : x->l1_index > y->l1_index;
}

/* Reads the L1 entries the virtual size needs and collects the L2 tables
 * they point to, after checking each pointer. */
static int read_l1(struct opener *o, struct l2_ref *refs, size_t *n_refs)
{
    struct qcow2 *q = o->q;
    uint64_t cs = q->cluster_size, l2n = 1ull << q->l2_bits;
    uint64_t n_clusters = (q->base.size + cs - 1) >> q->cluster_bits;
    uint64_t *l1 = malloc(q->n_l1 * 8);
    int err;

    if (!l1)
        return refuse(q, -ENOMEM, "out of memory for the L1 table");
    err = read_meta(q, l1, q->n_l1 * 8, o->h.l1_table_offset, "the L1 table");
    for (uint64_t i = 0; i < q->n_l1 && !err; i++) {
        uint64_t l2o = be64toh(l1[i]) & QCOW2_OFFSET_MASK;
        if (!l2o)
            continue;
        if (l2o & (cs - 1))
            err = refuse(q, -EIO, "L1 entry %llu: L2 table offset 0x%llx not cluster-aligned",
                         (unsigned long long)i, (unsigned long long)l2o);
        else if (l2o > q->file_size || cs > q->file_size - l2o)
            err = refuse(q, -EIO, "L1 entry %llu: L2 table at 0x%llx beyond the end of the file",
                         (unsigned long long)i, (unsigned long long)l2o);
        else if (in_metadata(o, l2o, cs))
            err = refuse(q, -EIO, "L1 entry %llu: L2 table at 0x%llx overlaps other metadata",
                         (unsigned long long)i, (unsigned long long)l2o);
        else
            refs[(*n_refs)++] =
                (struct l2_ref){ l2o, n_clusters - i * l2n < l2n ? n_clusters - i * l2n : l2n, i };
    }
    free(l1);
    return err;
}

/* Reads every L2 table once (one shared by two L1 entries too), only the
 * entries the virtual size needs, with one read per run of adjacent
 * tables, and points q->l2 at them. */
static int read_l2_tables(struct opener *o, struct l2_ref *refs, size_t n_refs)
{
    struct qcow2 *q = o->q;
    uint64_t cs = q->cluster_size, l2n = 1ull << q->l2_bits, ew = q->entry_words * 8;
    uint64_t *need = malloc(2 * n_refs * sizeof *need), *pos = need + n_refs;
    int err = 0;

    o->l2_offsets = malloc(n_refs * sizeof *o->l2_offsets);
    if (!need || !o->l2_offsets) {
        free(need);
        return refuse(q, -ENOMEM, "out of memory for the L2 tables");
    }
    qsort(refs, n_refs, sizeof *refs, cmp_ref);
    for (size_t r = 0; r < n_refs; r++) {
        if (o->n_l2 && o->l2_offsets[o->n_l2 - 1] == refs[r].offset) {
            if (refs[r].n_entries > need[o->n_l2 - 1])
                need[o->n_l2 - 1] = refs[r].n_entries;
            continue;
        }
        o->l2_offsets[o->n_l2] = refs[r].offset;
        need[o->n_l2++] = refs[r].n_entries;
    }
    uint64_t bytes_all = 0;
    for (size_t t = 0; t < o->n_l2; t++) {
        pos[t] = bytes_all / 8;
        bytes_all += need[t] * ew;
    }
    q->l2_data = malloc(bytes_all);
    if (!q->l2_data) {
        free(need);
        return refuse(q, -ENOMEM, "out of memory for %llu bytes of L2 tables",
                      (unsigned long long)bytes_all);
    }
    /* A table read whole lies right before the next one in l2_data too,
     * so a run of adjacent whole tables is one read into place. */
    for (size_t t = 0, u; t < o->n_l2 && !err; t = u + 1) {
        uint64_t bytes = need[t] * ew;
        for (u = t;
             u + 1 < o->n_l2 && need[u] == l2n && o->l2_offsets[u + 1] == o->l2_offsets[u] + cs &&
             bytes + need[u + 1] * ew <= MAX_READ_BYTES;
             u++)
            bytes += need[u + 1] * ew;
        err = read_meta(q, q->l2_data + pos[t], bytes, o->l2_offsets[t], "L2 tables");
    }
    if (!err) {
        for (uint64_t w = 0; w < bytes_all / 8; w++)
            q->l2_data[w] = be64toh(q->l2_data[w]);
        for (size_t r = 0, t = 0; r < n_refs; r++) {
            while (o->l2_offsets[t] != refs[r].offset)
                t++;
            q->l2[refs[r].l1_index] = q->l2_data + pos[t];
        }
    }
    free(need);
    return err;
}

static int load_tables(struct opener *o)
{
    struct qcow2 *q = o->q;
    size_t n_refs = 0;
    int err;

    if (q->n_l1 == 0)
        return 0;
    struct l2_ref *refs = malloc(q->n_l1 * sizeof *refs);
    q->l2 = calloc(q->n_l1, sizeof *q->l2);
    if (!refs || !q->l2) {
        free(refs);
        return refuse(q, -ENOMEM, "out of memory for the L1 table");
    }
    err = read_l1(o, refs, &n_refs);
    if (!err && n_refs)
        err = read_l2_tables(o, refs, n_refs);
    free(refs);
    return err;
}

/* Checks one L2 entry of guest cluster c (§1.4-§1.6, §1.8) and marks the
 * grains it holds data in. */
static int scan_entry(struct opener *o, uint64_t c, uint64_t e, uint64_t bm)
{
    struct qcow2 *q = o->q;
    uint64_t cs = q->cluster_size, guest = c << q->cluster_bits;
    uint64_t in_guest = q->base.size - guest < cs ? q->base.size - guest : cs;
    bool ext = q->entry_words == 2;

    if (e & QCOW2_COMPRESSED) {
        uint64_t off, len;
        qcow2_compressed_span(q, e, &off, &len);
        /* The span ends on a sector boundary; the file may end inside
         * that last sector. */
        uint64_t file_end = (q->file_size + 511) & ~511ull;
        if (off >= q->file_size || len > file_end - off)
            return refuse(q, -EIO,
                          "guest cluster %llu: compressed data at 0x%llx+%llu beyond the end of "
                          "the file",
                          (unsigned long long)c, (unsigned long long)off, (unsigned long long)len);
        if (in_metadata(o, off, len))
            return refuse(q, -EIO,
                          "guest cluster %llu: compressed data at 0x%llx overlaps metadata",
                          (unsigned long long)c, (unsigned long long)off);
        cfs_alloc_set_range(q->alloc, guest, in_guest);
        return 0;
    }
    uint64_t host = e & QCOW2_OFFSET_MASK;
    if (!ext && (e & QCOW2_ZERO_FLAG)) {
        if (o->h.version < 3)
            return refuse(q, -EIO, "guest cluster %llu: zero flag in a version 2 image",
                          (unsigned long long)c);
        if (host & (cs - 1))
            return refuse(q, -EIO, "guest cluster %llu: host offset 0x%llx not cluster-aligned",
                          (unsigned long long)c, (unsigned long long)host);
        return 0;
    }
    uint64_t alloc_bits = ext ? bm & QCOW2_SUB_ALLOC_ALL : 0;
    if (ext && !host) {
        if (alloc_bits)
            return refuse(q, -EIO,
                          "guest cluster %llu: subclusters allocated in an unallocated cluster",
                          (unsigned long long)c);
        return 0;
    }
    if (!host)
        return 0;
    if (ext && ((bm >> 32) & alloc_bits))
        return refuse(q, -EIO, "guest cluster %llu: subclusters both allocated and zero",
                      (unsigned long long)c);
    if (host & (cs - 1))
        return refuse(q, -EIO, "guest cluster %llu: host offset 0x%llx not cluster-aligned",
                      (unsigned long long)c, (unsigned long long)host);
    if (in_metadata(o, host, cs))
        return refuse(q, -EIO, "guest cluster %llu: data at 0x%llx overlaps metadata",
                      (unsigned long long)c, (unsigned long long)host);
    /* What a read may touch: the cluster up to the virtual size, with
     * extended L2 up to the last allocated subcluster (qemu does not
     * extend the file past the last subcluster it writes). */
    uint64_t needed = in_guest;
    if (ext) {
        uint64_t last = 63 - (uint64_t)__builtin_clzll(alloc_bits | 1);
        uint64_t upto = alloc_bits ? (last + 1) << q->subcluster_bits : 0;
        needed = upto < needed ? upto : needed;
    }
    if (needed && (host > q->file_size || needed > q->file_size - host))
        return refuse(q, -EIO, "guest cluster %llu: data at 0x%llx beyond the end of the file",
                      (unsigned long long)c, (unsigned long long)host);
    if (!ext) {
        cfs_alloc_set_range(q->alloc, guest, in_guest);
        return 0;
    }
    uint64_t sub = 1ull << q->subcluster_bits;
    for (unsigned s = 0; s < QCOW2_SUBCLUSTERS && (s << q->subcluster_bits) < in_guest; s++) {
        if (!((alloc_bits >> s) & 1))
            continue;
        uint64_t from = (uint64_t)s << q->subcluster_bits;
        cfs_alloc_set_range(q->alloc, guest + from, in_guest - from < sub ? in_guest - from : sub);
    }
    return 0;
}

static int build_alloc(struct opener *o)
{
    struct qcow2 *q = o->q;
    uint64_t l2n = 1ull << q->l2_bits;
    uint64_t n_clusters = (q->base.size + q->cluster_size - 1) >> q->cluster_bits;

    q->alloc = cfs_alloc_new(q->base.size);
    if (!q->alloc)
        return refuse(q, -ENOMEM, "out of memory for the allocation map");
    for (uint64_t i = 0; i < q->n_l1; i++) {
        const uint64_t *t = q->l2[i];
        if (!t)
            continue;
        uint64_t n = n_clusters - i * l2n < l2n ? n_clusters - i * l2n : l2n;
        for (uint64_t j = 0; j < n; j++) {
            const uint64_t *ent = t + j * q->entry_words;
            int err = scan_entry(o, i * l2n + j, ent[0], q->entry_words == 2 ? ent[1] : 0);
            if (err)
                return err;
        }
    }
    return 0;
}

static void qcow2_close(struct cfs_source *src)
{
    struct qcow2 *q = (struct qcow2 *)src;
    if (!q)
        return;
    qcow2_cache_free(q);
    cfs_source_close(q->file);
    cfs_alloc_free(q->alloc);
    free(q->l2);
    free(q->l2_data);
    free(q->label);
    free(q);
}

static const struct cfs_source_ops qcow2_ops = {
    .name = "qcow2",
    .pread = qcow2_disk_pread,
    .close = qcow2_close,
};

int qcow2_open(struct cfs_source *file, const char *label, struct cfs_source **disk)
{
    struct opener o = { 0 };
    struct qcow2 *q = calloc(1, sizeof *q);
    int err;

    if (!q || !(q->label = strdup(label ? label : "qcow2 image"))) {
        cfs_log_error("qcow2: %s: out of memory", label ? label : "qcow2 image");
        free(q);
        cfs_source_close(file);
        return -ENOMEM;
    }
    q->base.ops = &qcow2_ops;
    q->file = file;
    q->file_size = file->size;
    o.q = q;
    err = parse_header(&o);
    if (err)
        goto out;
    q->cluster_bits = o.h.cluster_bits;
    q->cluster_size = 1ull << o.h.cluster_bits;
    q->entry_words = (o.h.incompatible & INCOMPAT_EXTL2) ? 2 : 1;
    q->l2_bits = q->cluster_bits - (q->entry_words == 2 ? 4 : 3);
    q->subcluster_bits = q->cluster_bits - 5;
    err = check_features(&o);
    if (err)
        goto out;
    q->compression = (enum qcow2_compression)o.h.compression_type;
    err = check_tables(&o);
    if (err)
        goto out;
    q->base.size = o.h.size;
    err = load_tables(&o);
    if (!err)
        err = build_alloc(&o);
    if (!err && qcow2_cache_init(q) != 0)
        err = refuse(q, -ENOMEM, "out of memory for the cluster cache");
    if (err)
        goto out;
    q->base.alloc = q->alloc;
    qcow2_layout_check(q);
    *disk = &q->base;
out:
    free(o.head);
    free(o.l2_offsets);
    if (err)
        qcow2_close(&q->base);
    return err;
}
