/* VMDK decoder, opening half: hosted sparse extents (monolithicSparse,
 * streamOptimized), ref/formats.md §3.1-§3.4 and §3.11. Reads the header,
 * the embedded descriptor (a parent disk is refused), the footer of a
 * GD_AT_END stream, and the grain directory and tables; a stream without
 * usable tables is indexed by one scan of its markers, which reads only
 * marker headers and skips grain payloads by their sizes. Every pointer is
 * checked against the file and the capacity before use, and the guest
 * disk's allocation map is built from that metadata alone. vmdk_read.c
 * serves the guest's bytes. */
#define _GNU_SOURCE
#include "format.h"
#include "bytes.h"
#include "log.h"
#include "vmdk.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMDK_MAGIC        0x564d444bu /* "KDMV" */
#define COWD_MAGIC        0x44574f43u /* "COWD": ESX vmfsSparse */
#define GD_AT_END         0xffffffffffffffffull
#define FLAG_NL_DETECT    (1u << 0)
#define FLAG_ZERO_GRAIN   (1u << 2)
#define FLAG_COMPRESSED   (1u << 16)
#define FLAG_MARKERS      (1u << 17)
#define COMPRESS_DEFLATE  1
#define MAX_CAPACITY      (1ull << 32) /* sectors: 2 TiB, 32-bit sector offsets */
#define MIN_GRAIN_SECTORS 8
#define MAX_GRAIN_SECTORS 128
#define MAX_GTES          512 /* qemu refuses more */
#define MAX_DESC_SECTORS  2048
#define MAX_READ_BYTES    (16ull << 20)
#define MARKER_EOS        0
#define MARKER_FOOTER     3
#define DESCRIPTOR_MAGIC  "# Disk DescriptorFile"
#define ZEROED_GTE        1u

struct header {
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;
    uint64_t grain_sectors;
    uint64_t desc_offset;
    uint64_t desc_sectors;
    uint32_t gtes;
    uint64_t gd_offset;
    uint64_t overhead;
    uint16_t compress;
};

/* One grain found by the scan of a stream. */
struct found {
    uint64_t grain;
    uint32_t off, span;
};

/* State that lives only while opening. */
struct opener {
    struct vmdk *v;
    struct header h;
    struct found *found;
    size_t n_found, cap_found;
};

static int refuse(const struct vmdk *v, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one log line of a refused image. */
static int refuse(const struct vmdk *v, int err, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cfs_log_error("vmdk: %s: %s", v->label, why);
    return err;
}

bool vmdk_probe(const void *head, size_t len)
{
    return len >= 4 && cfs_le32(head) == VMDK_MAGIC;
}

/* Reads exactly len bytes at off of the image file; what is missing is
 * -EIO. */
static int read_meta(struct vmdk *v, void *buf, uint64_t len, uint64_t off, const char *what)
{
    ssize_t n = cfs_source_pread(v->file, buf, (size_t)len, off);
    if (n < 0)
        return refuse(v, (int)n, "reading %s at 0x%llx: %s", what, (unsigned long long)off,
                      strerror((int)-n));
    if ((uint64_t)n != len)
        return refuse(v, -EIO, "%s at 0x%llx+%llu ends beyond the end of the file", what,
                      (unsigned long long)off, (unsigned long long)len);
    return 0;
}

/* True if sectors [sector, sector + n) lie inside the file. */
static bool in_file(const struct vmdk *v, uint64_t sector, uint64_t n_bytes)
{
    return sector <= v->file_size / VMDK_SECTOR && n_bytes <= v->file_size - sector * VMDK_SECTOR;
}

static void parse_fields(struct header *h, const unsigned char *p)
{
    h->version = cfs_le32(p + 4);
    h->flags = cfs_le32(p + 8);
    h->capacity = cfs_le64(p + 12);
    h->grain_sectors = cfs_le64(p + 20);
    h->desc_offset = cfs_le64(p + 28);
    h->desc_sectors = cfs_le64(p + 36);
    h->gtes = cfs_le32(p + 44);
    h->gd_offset = cfs_le64(p + 56);
    h->overhead = cfs_le64(p + 64);
    h->compress = cfs_le16(p + 77);
}

/* A file that is not a sparse extent: a text descriptor (its extents are
 * other files), an ESX sparse extent, or not a VMDK at all. */
static int refuse_not_sparse(struct vmdk *v, const unsigned char *p, size_t n)
{
    if (n >= 4 && cfs_le32(p) == COWD_MAGIC)
        return refuse(v, -ENOTSUP, "ESX sparse extents (COWD, vmfsSparse) are not supported");
    if ((n >= sizeof DESCRIPTOR_MAGIC - 1 &&
         memcmp(p, DESCRIPTOR_MAGIC, sizeof DESCRIPTOR_MAGIC - 1) == 0) ||
        memmem(p, n, "createType", 10))
        return refuse(v, -ENOTSUP,
                      "a descriptor-only VMDK (flat or split extents in other files) is not "
                      "supported");
    return refuse(v, -EIO, "not a VMDK sparse extent (bad magic)");
}

static int parse_header(struct opener *o)
{
    struct vmdk *v = o->v;
    struct header *h = &o->h;
    unsigned char p[VMDK_SECTOR];
    size_t n = v->file_size < sizeof p ? (size_t)v->file_size : sizeof p;
    int err = read_meta(v, p, n, 0, "the header");

    if (err)
        return err;
    if (n < 4 || cfs_le32(p) != VMDK_MAGIC)
        return refuse_not_sparse(v, p, n);
    if (n < sizeof p)
        return refuse(v, -EIO, "file of %zu bytes is too short for a VMDK header", n);
    parse_fields(h, p);
    if (h->version < 1 || h->version > 3)
        return refuse(v, -ENOTSUP, "VMDK version %u is not supported", h->version);
    if ((h->flags & FLAG_NL_DETECT) && memcmp(p + 73, "\n \r\n", 4) != 0)
        return refuse(v, -EIO,
                      "newline detector damaged (the file went through a text-mode "
                      "transfer)");
    return 0;
}

/* Checks the geometry fields of a header (the header's or the footer's). */
static int check_geometry(struct vmdk *v, const struct header *h)
{
    if (h->capacity > MAX_CAPACITY)
        return refuse(v, -ENOTSUP, "capacity of %llu sectors above the 2 TiB a VMDK can hold",
                      (unsigned long long)h->capacity);
    if (h->grain_sectors == 0 || (h->grain_sectors & (h->grain_sectors - 1)))
        return refuse(v, -EIO, "grain size of %llu sectors is not a power of 2",
                      (unsigned long long)h->grain_sectors);
    if (h->grain_sectors < MIN_GRAIN_SECTORS || h->grain_sectors > MAX_GRAIN_SECTORS)
        return refuse(v, -ENOTSUP, "grain size of %llu sectors outside %d..%d",
                      (unsigned long long)h->grain_sectors, MIN_GRAIN_SECTORS, MAX_GRAIN_SECTORS);
    if (h->gtes == 0 || h->gtes > MAX_GTES)
        return refuse(v, -EIO, "%u entries per grain table outside 1..%d", h->gtes, MAX_GTES);
    if (h->compress > COMPRESS_DEFLATE)
        return refuse(v, -ENOTSUP, "compression algorithm %u is not supported", h->compress);
    return 0;
}

/* The embedded descriptor: a delta disk (parentCID) or a createType that
 * spreads the disk over other files is refused. */
static int check_descriptor(struct opener *o)
{
    struct vmdk *v = o->v;
    const struct header *h = &o->h;
    char type[64] = "", parent[64] = "ffffffff";
    int extents = 0, err;

    if (!h->desc_offset || !h->desc_sectors)
        return 0;
    if (h->desc_sectors > MAX_DESC_SECTORS || h->desc_offset >= MAX_CAPACITY ||
        !in_file(v, h->desc_offset, h->desc_sectors * VMDK_SECTOR))
        return refuse(v, -EIO, "descriptor at sector %llu (%llu sectors) outside the file",
                      (unsigned long long)h->desc_offset, (unsigned long long)h->desc_sectors);
    size_t len = (size_t)h->desc_sectors * VMDK_SECTOR;
    char *text = malloc(len + 1);
    if (!text)
        return refuse(v, -ENOMEM, "out of memory for the descriptor");
    err = read_meta(v, text, len, h->desc_offset * VMDK_SECTOR, "the descriptor");
    if (err) {
        free(text);
        return err;
    }
    text[len] = '\0';
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        vmdk_desc_value(line, "createType", type, sizeof type);
        vmdk_desc_value(line, "parentCID", parent, sizeof parent);
        if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
            !strncmp(line, "NOACCESS ", 9))
            extents++;
    }
    free(text);
    if (strcasecmp(parent, "ffffffff") != 0)
        return refuse(v, -ENOTSUP, "a delta disk (parentCID %s) needs its parent: not supported",
                      parent);
    if (*type && strcmp(type, "monolithicSparse") != 0 && strcmp(type, "streamOptimized") != 0)
        return refuse(v, -ENOTSUP, "createType \"%s\" is not supported", type);
    if (extents > 1)
        return refuse(v, -ENOTSUP, "%d extents: split VMDKs are not supported", extents);
    return 0;
}

/* GD_AT_END: [footer marker, footer, end-of-stream marker] at EOF - 1536
 * (§3.3). 1: no footer there (a stream to scan); 0: h->gd_offset is the
 * footer's; < 0: a footer that does not agree with the header. */
static int read_footer(struct opener *o)
{
    struct vmdk *v = o->v;
    struct header f;
    unsigned char p[3 * VMDK_SECTOR];
    int err;

    if (v->file_size < sizeof p + VMDK_SECTOR || !v->markers)
        return 1;
    err = read_meta(v, p, sizeof p, (v->file_size & ~511ull) - sizeof p, "the footer");
    if (err)
        return err;
    if (cfs_le64(p) != 1 || cfs_le32(p + 8) != 0 || cfs_le32(p + 12) != MARKER_FOOTER)
        return 1;
    const unsigned char *ft = p + VMDK_SECTOR, *eos = p + 2 * VMDK_SECTOR;
    if (cfs_le32(ft) != VMDK_MAGIC)
        return refuse(v, -EIO, "footer with a bad magic");
    if (cfs_le64(eos) != 0 || cfs_le32(eos + 8) != 0 || cfs_le32(eos + 12) != MARKER_EOS)
        return refuse(v, -EIO, "footer not followed by an end-of-stream marker");
    parse_fields(&f, ft);
    if (f.capacity != o->h.capacity || f.grain_sectors != o->h.grain_sectors ||
        f.gtes != o->h.gtes || f.version != o->h.version || f.compress != o->h.compress)
        return refuse(v, -EIO, "footer disagrees with the header");
    if (f.gd_offset == GD_AT_END || f.gd_offset == 0)
        return refuse(v, -EIO, "footer without a grain directory");
    o->h.gd_offset = f.gd_offset;
    return 0;
}

/* Allocates the tables gt_index names (numbered 1..n_tables). */
static int alloc_tables(struct vmdk *v, uint64_t n_tables)
{
    uint64_t words = n_tables * v->gtes * (v->compressed ? 2 : 1);
    v->gt_off = calloc(words ? words : 1, sizeof *v->gt_off);
    if (!v->gt_off)
        return refuse(v, -ENOMEM, "out of memory for %llu grain tables",
                      (unsigned long long)n_tables);
    if (v->compressed)
        v->gt_span = v->gt_off + n_tables * v->gtes;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads the grain directory and every grain table it names; tables must
 * lie in the file and not overlap, so that what they cost in memory is
 * bounded by the file's size. */
static int load_tables(struct opener *o)
{
    struct vmdk *v = o->v;
    uint64_t gd = o->h.gd_offset, gt_bytes = (uint64_t)v->gtes * 4;
    uint64_t gt_sectors = (gt_bytes + VMDK_SECTOR - 1) / VMDK_SECTOR;
    uint32_t *dir = NULL, *sorted = NULL;
    uint64_t n_tables = 0;
    int err;

    if (gd >= MAX_CAPACITY || !in_file(v, gd, v->n_gt * 4))
        return refuse(v, -EIO,
                      "grain directory at sector %llu (%llu entries) beyond the end of "
                      "the file",
                      (unsigned long long)gd, (unsigned long long)v->n_gt);
    dir = malloc(v->n_gt * 4 + 4);
    sorted = malloc(v->n_gt * 4 + 4);
    if (!dir || !sorted) {
        err = refuse(v, -ENOMEM, "out of memory for the grain directory");
        goto out;
    }
    err = read_meta(v, dir, v->n_gt * 4, gd * VMDK_SECTOR, "the grain directory");
    for (uint64_t t = 0; t < v->n_gt && !err; t++) {
        dir[t] = le32toh(dir[t]);
        if (!dir[t])
            continue;
        if (!in_file(v, dir[t], gt_bytes))
            err = refuse(v, -EIO, "grain table %llu at sector %u beyond the end of the file",
                         (unsigned long long)t, dir[t]);
        sorted[n_tables] = dir[t];
        v->gt_index[t] = (uint32_t)++n_tables;
    }
    if (err)
        goto out;
    qsort(sorted, n_tables, 4, cmp_u32);
    for (uint64_t k = 1; k < n_tables; k++)
        if (sorted[k] - sorted[k - 1] < gt_sectors) {
            err = refuse(v, -EIO, "grain tables at sectors %u and %u overlap", sorted[k - 1],
                         sorted[k]);
            goto out;
        }
    err = alloc_tables(v, n_tables);
    /* One read per run of adjacent tables (qemu and VMware write them in
     * order), into their places in gt_off. */
    for (uint64_t t = 0, u; t < v->n_gt && !err; t = u + 1) {
        if (!dir[t]) {
            u = t;
            continue;
        }
        uint64_t bytes = gt_bytes;
        for (u = t; u + 1 < v->n_gt && gt_bytes % VMDK_SECTOR == 0 &&
                    dir[u + 1] == dir[u] + gt_sectors && bytes + gt_bytes <= MAX_READ_BYTES;
             u++)
            bytes += gt_bytes;
        err = read_meta(v, v->gt_off + (uint64_t)(v->gt_index[t] - 1) * v->gtes, bytes,
                        (uint64_t)dir[t] * VMDK_SECTOR, "grain tables");
    }
    for (uint64_t w = 0; !err && w < n_tables * v->gtes; w++)
        v->gt_off[w] = le32toh(v->gt_off[w]);
out:
    free(dir);
    free(sorted);
    return err;
}

/* Checks every table entry of a disk indexed by its tables: zeroed
 * grains become absent; what a read will touch lies in the file. */
static int check_entries(struct opener *o)
{
    struct vmdk *v = o->v;
    for (uint64_t t = 0; t < v->n_gt; t++) {
        if (!v->gt_index[t])
            continue;
        uint32_t *e = v->gt_off + (uint64_t)(v->gt_index[t] - 1) * v->gtes;
        for (uint64_t i = 0; i < v->gtes; i++) {
            uint64_t g = t * v->gtes + i, guest = g << v->grain_shift;
            if (g >= v->n_grains) {
                e[i] = 0; /* beyond the capacity: never read */
                continue;
            }
            if (e[i] == ZEROED_GTE && (o->h.flags & FLAG_ZERO_GRAIN))
                e[i] = 0;
            if (e[i] == 0)
                continue;
            if (e[i] == ZEROED_GTE)
                return refuse(v, -EIO,
                              "grain %llu: entry 1 (zeroed) without the zeroed-grain "
                              "flag",
                              (unsigned long long)g);
            uint64_t need =
                v->base.size - guest < v->grain_bytes ? v->base.size - guest : v->grain_bytes;
            if (v->compressed)
                need = v->markers ? VMDK_MARKER_HEAD + 1 : 1;
            if (!in_file(v, e[i], need))
                return refuse(v, -EIO, "grain %llu at sector %u beyond the end of the file",
                              (unsigned long long)g, e[i]);
        }
    }
    return 0;
}

/* Compressed records carry no length in the tables: bound each by the
 * next record's start (any grain's), the end of the file and the largest
 * record allowed (§3.5: 12 + size <= 2 grains, as qemu). */
static int compute_spans(struct opener *o)
{
    struct vmdk *v = o->v;
    uint64_t n = 0, words = 0;
    for (uint64_t t = 0; t < v->n_gt; t++)
        words += v->gt_index[t] ? v->gtes : 0;
    uint32_t *sorted = malloc(words * 4 + 4);
    if (!sorted)
        return refuse(v, -ENOMEM, "out of memory for the grain records");
    for (uint64_t w = 0; w < words; w++)
        if (v->gt_off[w])
            sorted[n++] = v->gt_off[w];
    qsort(sorted, n, 4, cmp_u32);
    uint64_t end = (v->file_size + VMDK_SECTOR - 1) / VMDK_SECTOR;
    uint64_t max = (VMDK_MARKER_HEAD + 2 * v->grain_bytes + VMDK_SECTOR - 1) / VMDK_SECTOR;
    for (uint64_t w = 0; w < words; w++) {
        uint32_t off = v->gt_off[w];
        if (!off)
            continue;
        size_t lo = 0, hi = n; /* first record after off */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] <= off)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t next = lo < n ? sorted[lo] : end;
        uint64_t span = next - off < max ? next - off : max;
        v->gt_span[w] = (uint32_t)span;
    }
    free(sorted);
    return 0;
}

static int add_found(struct opener *o, uint64_t grain, uint64_t off, uint64_t span)
{
    if (o->n_found == o->cap_found) {
        size_t cap = o->cap_found ? 2 * o->cap_found : 256;
        struct found *p = realloc(o->found, cap * sizeof *p);
        if (!p)
            return refuse(o->v, -ENOMEM, "out of memory for the stream's index");
        o->found = p;
        o->cap_found = cap;
    }
    o->found[o->n_found++] = (struct found){ grain, (uint32_t)off, (uint32_t)span };
    return 0;
}

/* A stream without usable tables (§3.3): one pass over the records from
 * overHead, reading each marker's 16 bytes and skipping grain payloads
 * and metadata by their sizes, up to the end-of-stream marker or the end
 * of the file. Every step moves forward by at least one sector, so the
 * scan ends after at most file_size / 512 reads. */
static int scan_stream(struct opener *o)
{
    struct vmdk *v = o->v;
    const struct header *h = &o->h;
    uint64_t max_size = 2 * v->grain_bytes, pos;
    int err;

    if (!v->markers)
        return refuse(v, -EIO, "no grain directory and no markers to find the grains by");
    if (h->overhead == 0 || h->overhead >= MAX_CAPACITY || !in_file(v, h->overhead, 0))
        return refuse(v, -EIO, "overHead of %llu sectors outside the file",
                      (unsigned long long)h->overhead);
    for (pos = h->overhead * VMDK_SECTOR; v->file_size - pos >= VMDK_MARKER_HEAD;) {
        unsigned char m[16] = { 0 };
        uint64_t avail = v->file_size - pos < sizeof m ? v->file_size - pos : sizeof m;
        err = read_meta(v, m, avail, pos, "a marker");
        if (err)
            return err;
        uint64_t lba = cfs_le64(m), size = cfs_le32(m + 8), sector = pos / VMDK_SECTOR;
        if (sector >= MAX_CAPACITY)
            return refuse(v, -EIO, "stream longer than 2 TiB of records");
        if (size) {
            if (lba % h->grain_sectors || lba >= h->capacity)
                return refuse(v, -EIO,
                              "grain marker at 0x%llx: lba %llu is not a grain of the "
                              "disk",
                              (unsigned long long)pos, (unsigned long long)lba);
            if (size > max_size)
                return refuse(v, -EIO,
                              "grain marker at 0x%llx: %llu compressed bytes, more "
                              "than 2 grains",
                              (unsigned long long)pos, (unsigned long long)size);
            uint64_t rec = VMDK_MARKER_HEAD + size;
            if (rec > v->file_size - pos)
                return refuse(v, -EIO,
                              "grain marker at 0x%llx: record beyond the end of the "
                              "file",
                              (unsigned long long)pos);
            uint64_t sectors = (rec + VMDK_SECTOR - 1) / VMDK_SECTOR;
            err = add_found(o, lba / h->grain_sectors, sector, sectors);
            if (err)
                return err;
            pos += sectors * VMDK_SECTOR;
            continue;
        }
        uint32_t type = cfs_le32(m + 12);
        if (lba == 0 && type == MARKER_EOS)
            break;
        /* Metadata (GT, GD, footer, progress, unknown types): skipped. */
        if (lba >= v->file_size / VMDK_SECTOR || (lba + 1) * VMDK_SECTOR > v->file_size - pos)
            return refuse(v, -EIO,
                          "metadata marker at 0x%llx: %llu sectors beyond the end of "
                          "the file",
                          (unsigned long long)pos, (unsigned long long)lba);
        pos += (lba + 1) * VMDK_SECTOR;
    }

    uint64_t n_tables = 0;
    for (size_t k = 0; k < o->n_found; k++) {
        uint64_t t = o->found[k].grain / v->gtes;
        if (!v->gt_index[t])
            v->gt_index[t] = (uint32_t)++n_tables;
    }
    err = alloc_tables(v, n_tables);
    for (size_t k = 0; k < o->n_found && !err; k++) {
        const struct found *f = &o->found[k];
        uint64_t w = (uint64_t)(v->gt_index[f->grain / v->gtes] - 1) * v->gtes + f->grain % v->gtes;
        if (v->gt_off[w])
            return refuse(v, -EIO, "grain %llu written twice in the stream (sectors %u and %u)",
                          (unsigned long long)f->grain, v->gt_off[w], f->off);
        v->gt_off[w] = f->off;
        v->gt_span[w] = f->span;
    }
    return err;
}

static int build_alloc(struct vmdk *v)
{
    v->alloc = cfs_alloc_new(v->base.size);
    if (!v->alloc)
        return refuse(v, -ENOMEM, "out of memory for the allocation map");
    for (uint64_t t = 0; t < v->n_gt; t++) {
        if (!v->gt_index[t])
            continue;
        const uint32_t *e = v->gt_off + (uint64_t)(v->gt_index[t] - 1) * v->gtes;
        for (uint64_t i = 0; i < v->gtes; i++) {
            uint64_t g = t * v->gtes + i, guest = g << v->grain_shift;
            if (g < v->n_grains && e[i])
                cfs_alloc_set_range(v->alloc, guest,
                                    v->base.size - guest < v->grain_bytes ? v->base.size - guest
                                                                          : v->grain_bytes);
        }
    }
    return 0;
}

/* Where the tables are: the header's GD, the footer's, or none (scan). */
static int index_grains(struct opener *o)
{
    struct vmdk *v = o->v;
    int err;

    if (o->h.gd_offset == GD_AT_END) {
        err = read_footer(o);
        if (err < 0)
            return err;
        if (err == 1)
            return scan_stream(o);
    } else if (o->h.gd_offset == 0) {
        if (!v->compressed)
            return refuse(v, -EIO, "no grain directory");
        return scan_stream(o);
    }
    err = load_tables(o);
    if (!err)
        err = check_entries(o);
    if (!err && v->compressed)
        err = compute_spans(o);
    return err;
}

static void vmdk_close(struct cfs_source *src)
{
    struct vmdk *v = (struct vmdk *)src;
    if (!v)
        return;
    vmdk_cache_free(v);
    cfs_source_close(v->file);
    cfs_alloc_free(v->alloc);
    free(v->gt_index);
    free(v->gt_off);
    free(v->label);
    free(v);
}

static const struct cfs_source_ops vmdk_ops = {
    .name = "vmdk",
    .pread = vmdk_disk_pread,
    .close = vmdk_close,
};

int vmdk_open(struct cfs_source *file, const char *label, struct cfs_source **disk)
{
    struct opener o = { 0 };
    struct vmdk *v = calloc(1, sizeof *v);
    int err;

    if (!v || !(v->label = strdup(label ? label : "vmdk image"))) {
        cfs_log_error("vmdk: %s: out of memory", label ? label : "vmdk image");
        free(v);
        cfs_source_close(file);
        return -ENOMEM;
    }
    v->base.ops = &vmdk_ops;
    v->file = file;
    v->file_size = file->size;
    o.v = v;
    err = parse_header(&o);
    if (!err)
        err = check_geometry(v, &o.h);
    if (!err)
        err = check_descriptor(&o);
    if (err)
        goto out;
    v->compressed = o.h.compress == COMPRESS_DEFLATE;
    v->markers = v->compressed && (o.h.flags & FLAG_MARKERS);
    v->grain_bytes = o.h.grain_sectors * VMDK_SECTOR;
    v->grain_shift = (unsigned)__builtin_ctzll(v->grain_bytes);
    v->gtes = o.h.gtes;
    v->base.size = o.h.capacity * VMDK_SECTOR;
    v->n_grains = (o.h.capacity + o.h.grain_sectors - 1) / o.h.grain_sectors;
    v->n_gt = (v->n_grains + v->gtes - 1) / v->gtes;
    /* A directory of at most 4 MiB: every 512-entry table layout of 2 TiB
     * fits; only tiny tables could ask for more. */
    if (v->n_gt > (1u << 20)) {
        err = refuse(v, -EIO, "%llu grain tables of %u entries: grain directory too large",
                     (unsigned long long)v->n_gt, v->gtes);
        goto out;
    }
    v->gt_index = calloc(v->n_gt ? v->n_gt : 1, sizeof *v->gt_index);
    if (!v->gt_index) {
        err = refuse(v, -ENOMEM, "out of memory for the grain directory");
        goto out;
    }
    err = index_grains(&o);
    if (!err)
        err = build_alloc(v);
    if (!err && vmdk_cache_init(v) != 0)
        err = refuse(v, -ENOMEM, "out of memory for the grain cache");
    if (err)
        goto out;
    v->base.alloc = v->alloc;
    *disk = &v->base;
out:
    free(o.found);
    if (err)
        vmdk_close(&v->base);
    return err;
}
