/* Checks a streamOptimized VMDK while its bytes arrive, for files that
 * come with no digest (a vCD export, ref/vcd-api.md §6). What the stream
 * carries is checked as it passes, in bounded memory (one grain's output
 * and the embedded descriptor): the header (ref/formats.md §3.1), the
 * descriptor (§3.4: text, streamOptimized, one extent of the header's
 * capacity), every marker (§3.3) up to the end-of-stream marker and only
 * zeros after it, and every grain inflated with zlib, whose Adler-32
 * trailer (RFC 1950) catches a changed byte of its data. What only makes
 * sense once the file is whole, the grain directory and tables, is
 * checked afterwards against the local copy: each entry must point at a
 * grain marker of its own LBA, and there must be as many entries as
 * grain records. */
#define _GNU_SOURCE
#include "format.h"
#include "bytes.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SECTOR           512u
#define MAGIC            0x564d444bu /* "KDMV" */
#define GD_AT_END        0xffffffffffffffffull
#define FLAG_NL_DETECT   (1u << 0)
#define FLAG_ZERO_GRAIN  (1u << 2)
#define FLAG_COMPRESSED  (1u << 16)
#define FLAG_MARKERS     (1u << 17)
#define FLAGS_KNOWN      (FLAG_NL_DETECT | (1u << 1) | FLAG_ZERO_GRAIN | FLAG_COMPRESSED | FLAG_MARKERS)
#define MAX_CAPACITY     (1ull << 32) /* sectors: offsets are 32-bit */
#define MAX_DESC_SECTORS 2048u
#define MARKER_HEAD      12u /* u64 lba or numSectors, u32 size */
#define MARKER_EOS       0u
#define MARKER_FOOTER    3u
#define DESC_MAGIC       "# Disk DescriptorFile"

enum state {
    ST_HEAD,   /* collecting sector 0 */
    ST_FRONT,  /* up to overHead: descriptor captured, tables checked later */
    ST_MARKER, /* collecting a marker's 12 bytes */
    ST_MTYPE,  /* collecting a metadata marker's type */
    ST_GRAIN,  /* a grain's zlib stream */
    ST_SKIP,   /* padding or metadata, then `next` */
    ST_FOOTER, /* collecting the footer sector */
    ST_DONE,   /* after the end-of-stream marker: only zeros may come */
};

struct vmdk_check {
    char *label;
    uint64_t expect; /* file size, 0 unknown */
    uint64_t pos;    /* bytes fed so far */
    enum state state, next;
    int err; /* sticky */
    unsigned char buf[SECTOR];
    size_t have, want;
    uint64_t skip;

    uint32_t flags, gtes;
    uint64_t capacity, grain_sectors, desc_offset, desc_sectors, gd_offset, overhead;
    char *desc;
    uint64_t gd_footer; /* the footer's gdOffset, 0 if none */

    z_stream z;
    bool z_ready, z_end;
    uint64_t lba, rec_at; /* the grain's, and where its record starts */
    uint32_t left;        /* bytes of the grain's stream still to come */
    uint32_t size;
    unsigned char *out;
    uint64_t n_records;
};

static int bad(struct vmdk_check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one log line of a refused file; later calls fail quietly. */
static int bad(struct vmdk_check *k, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cfs_log_error("%s: corrupt VMDK: %s", k->label, why);
    k->err = -EIO;
    return -EIO;
}

int vmdk_check_new(const char *label, uint64_t expect, struct vmdk_check **out)
{
    struct vmdk_check *k = calloc(1, sizeof *k);
    if (!k || !(k->label = strdup(label ? label : "vmdk"))) {
        free(k);
        return -ENOMEM;
    }
    k->expect = expect;
    k->want = SECTOR;
    *out = k;
    return 0;
}

void vmdk_check_free(struct vmdk_check *k)
{
    if (!k)
        return;
    if (k->z_ready)
        inflateEnd(&k->z);
    free(k->out);
    free(k->desc);
    free(k->label);
    free(k);
}

/* True if [off, off + n) bytes of the file stay within its expected size. */
static bool fits(const struct vmdk_check *k, uint64_t off, uint64_t n)
{
    return !k->expect || (off <= k->expect && n <= k->expect - off);
}

static int parse_header(struct vmdk_check *k)
{
    const unsigned char *p = k->buf;
    if (cfs_le32(p) != MAGIC)
        return bad(k, "no VMDK magic at byte 0");
    uint32_t version = cfs_le32(p + 4);
    k->flags = cfs_le32(p + 8);
    k->capacity = cfs_le64(p + 12);
    k->grain_sectors = cfs_le64(p + 20);
    k->desc_offset = cfs_le64(p + 28);
    k->desc_sectors = cfs_le64(p + 36);
    k->gtes = cfs_le32(p + 44);
    k->gd_offset = cfs_le64(p + 56);
    k->overhead = cfs_le64(p + 64);
    uint16_t compress = cfs_le16(p + 77);

    if (version < 1 || version > 3)
        return bad(k, "header version %u", version);
    if ((k->flags & (FLAG_COMPRESSED | FLAG_MARKERS)) != (FLAG_COMPRESSED | FLAG_MARKERS) ||
        compress != 1)
        return bad(k, "not streamOptimized (flags 0x%x, compression %u)", k->flags, compress);
    if (k->flags & ~FLAGS_KNOWN)
        return bad(k, "unknown header flags 0x%x", k->flags & ~FLAGS_KNOWN);
    if ((k->flags & FLAG_NL_DETECT) && memcmp(p + 73, "\n \r\n", 4) != 0)
        return bad(k, "the header's newline-detection bytes are changed");
    if (k->grain_sectors < 8 || k->grain_sectors > 128 ||
        (k->grain_sectors & (k->grain_sectors - 1)))
        return bad(k, "grain of %llu sectors", (unsigned long long)k->grain_sectors);
    if (!k->capacity || k->capacity > MAX_CAPACITY)
        return bad(k, "capacity of %llu sectors", (unsigned long long)k->capacity);
    if (!k->gtes || k->gtes > 512)
        return bad(k, "%u entries per grain table", k->gtes);
    if (!k->desc_offset || !k->desc_sectors || k->desc_sectors > MAX_DESC_SECTORS ||
        k->desc_offset > k->overhead || k->desc_sectors > k->overhead - k->desc_offset)
        return bad(k, "descriptor at sector %llu (%llu sectors) outside the metadata (%llu)",
                   (unsigned long long)k->desc_offset, (unsigned long long)k->desc_sectors,
                   (unsigned long long)k->overhead);
    if (k->overhead > MAX_CAPACITY || !fits(k, 0, k->overhead * SECTOR))
        return bad(k, "overHead of %llu sectors beyond the end of the file",
                   (unsigned long long)k->overhead);
    if (k->gd_offset != GD_AT_END && k->gd_offset >= MAX_CAPACITY)
        return bad(k, "grain directory at sector %llu", (unsigned long long)k->gd_offset);
    k->desc = calloc(1, k->desc_sectors * SECTOR + 1);
    k->out = malloc(k->grain_sectors * SECTOR + 1);
    if (!k->desc || !k->out)
        return k->err = -ENOMEM;
    return 0;
}

/* Strict UTF-8 (no overlong forms, no surrogates): a changed byte of
 * ASCII text is >= 0x80 and rarely forms a valid sequence. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len = c < 0x80                ? 1
                                 : c >= 0xc2 && c < 0xe0 ? 2
                                 : c >= 0xe0 && c < 0xf0 ? 3
                                 : c >= 0xf0 && c < 0xf5 ? 4
                                                         : 0;
        if (!len || len > n - i)
            return false;
        for (unsigned j = 1; j < len; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
            return false;
        if (len == 1 && c < ' ' && c != '\n' && c != '\r' && c != '\t')
            return false;
        i += len;
    }
    return true;
}

static int check_descriptor(struct vmdk_check *k)
{
    size_t cap = k->desc_sectors * SECTOR, n = strnlen(k->desc, cap);
    for (size_t i = n; i < cap; i++)
        if (k->desc[i])
            return bad(k, "descriptor: a non-zero byte after its text (byte %zu)", i);
    if (!utf8_ok((const unsigned char *)k->desc, n))
        return bad(k, "descriptor: not UTF-8 text");
    if (strncmp(k->desc, DESC_MAGIC, sizeof DESC_MAGIC - 1) != 0)
        return bad(k, "descriptor: no \"%s\" line", DESC_MAGIC);
    if (!strstr(k->desc, "createType=\"streamOptimized\""))
        return bad(k, "descriptor: createType is not \"streamOptimized\"");
    unsigned extents = 0;
    unsigned long long sectors = 0;
    for (const char *line = k->desc; *line;) {
        if (strncmp(line, "RW ", 3) == 0 || strncmp(line, "RDONLY ", 7) == 0) {
            extents++;
            if (sscanf(strchr(line, ' '), " %llu SPARSE ", &sectors) != 1)
                sectors = 0;
        }
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    if (extents != 1 || sectors != k->capacity)
        return bad(k, "descriptor: %u extent(s) of %llu sectors for a capacity of %llu sectors",
                   extents, sectors, (unsigned long long)k->capacity);
    return 0;
}

/* Goes on in state st, with the size of the piece it collects. */
static void go(struct vmdk_check *k, enum state st)
{
    k->state = st;
    k->have = 0;
    k->want = st == ST_MARKER ? MARKER_HEAD : st == ST_MTYPE ? 4 : SECTOR;
}

/* Skips n bytes, then goes on in state next. */
static void skip_then(struct vmdk_check *k, uint64_t n, enum state next)
{
    if (!n) {
        go(k, next);
        return;
    }
    k->skip = n;
    k->next = next;
    k->state = ST_SKIP;
}

static int grain_bad(struct vmdk_check *k, const char *why, unsigned long long n)
{
    return bad(k, "grain of LBA %llu (record at byte %llu): %s%s%llu%s", (unsigned long long)k->lba,
               (unsigned long long)k->rec_at, why, n ? " (" : "", n, n ? " bytes)" : "");
}

static int start_grain(struct vmdk_check *k)
{
    uint64_t at = k->rec_at = k->pos - MARKER_HEAD;
    if (k->lba % k->grain_sectors || k->lba >= k->capacity)
        return bad(k, "grain marker at byte %llu: LBA %llu is not a grain of the disk",
                   (unsigned long long)at, (unsigned long long)k->lba);
    /* qemu's bound (formats.md §3.5): a record holds at most two grains. */
    if (k->size > 2 * k->grain_sectors * SECTOR || !fits(k, k->pos, k->size))
        return bad(k, "grain marker at byte %llu: %u bytes of data", (unsigned long long)at,
                   k->size);
    int zerr = k->z_ready ? inflateReset(&k->z) : inflateInit(&k->z);
    if (zerr != Z_OK)
        return k->err = -ENOMEM;
    k->z_ready = true;
    k->z_end = false;
    k->left = k->size;
    k->n_records++;
    k->state = ST_GRAIN;
    return 0;
}

static int end_grain(struct vmdk_check *k)
{
    if (!k->z_end)
        return grain_bad(k, "its zlib stream ends early", 0);
    if (k->z.total_out == 0)
        return grain_bad(k, "no data", 0);
    uint64_t rec = MARKER_HEAD + (uint64_t)k->size;
    skip_then(k, (SECTOR - rec % SECTOR) % SECTOR, ST_MARKER);
    return 0;
}

/* Writers give each grain's zlib stream its exact length: bytes after its
 * end are a changed size field. The output is only counted, in a buffer
 * one byte longer than a grain, so that a grain too long shows. */
static int feed_grain(struct vmdk_check *k, const unsigned char *p, size_t n)
{
    uint64_t grain = k->grain_sectors * SECTOR;
    k->left -= (uint32_t)n;
    if (k->z_end)
        return grain_bad(k, "data after the end of its zlib stream", n + k->left);
    k->z.next_in = (unsigned char *)p;
    k->z.avail_in = (uInt)n;
    while (k->z.avail_in && !k->z_end) {
        if (k->z.total_out > grain)
            return grain_bad(k, "more than a grain of data", 0);
        k->z.next_out = k->out + k->z.total_out;
        k->z.avail_out = (uInt)(grain + 1 - k->z.total_out);
        int zr = inflate(&k->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            k->z_end = true;
        else if (zr != Z_OK)
            return bad(k, "grain of LBA %llu (record at byte %llu): zlib: %s",
                       (unsigned long long)k->lba, (unsigned long long)k->rec_at,
                       k->z.msg ? k->z.msg : "error");
    }
    if (k->z_end && k->z.avail_in)
        return grain_bad(k, "data after the end of its zlib stream", k->z.avail_in + k->left);
    if (k->z.total_out > grain)
        return grain_bad(k, "more than a grain of data", 0);
    k->pos += n;
    return k->left ? 0 : end_grain(k);
}

/* A whole fixed-size piece is in k->buf. */
static int piece_done(struct vmdk_check *k)
{
    switch (k->state) {
    case ST_HEAD: {
        int err = parse_header(k);
        if (err)
            return err;
        k->state = ST_FRONT;
        return 0;
    }
    case ST_MARKER:
        k->lba = cfs_le64(k->buf);
        k->size = cfs_le32(k->buf + 8);
        if (k->size)
            return start_grain(k);
        go(k, ST_MTYPE);
        return 0;
    case ST_MTYPE: {
        uint32_t type = cfs_le32(k->buf);
        uint64_t at = k->pos - MARKER_HEAD - 4, n_sectors = k->lba;
        if (type == MARKER_EOS) {
            if (n_sectors)
                return bad(k, "end-of-stream marker at byte %llu with %llu sectors",
                           (unsigned long long)at, (unsigned long long)n_sectors);
            skip_then(k, SECTOR - MARKER_HEAD - 4, ST_DONE);
            return 0;
        }
        if (n_sectors > MAX_CAPACITY || !fits(k, at, (n_sectors + 1) * SECTOR))
            return bad(k, "marker of type %u at byte %llu: %llu sectors beyond the end", type,
                       (unsigned long long)at, (unsigned long long)n_sectors);
        if (type == MARKER_FOOTER) {
            if (n_sectors != 1)
                return bad(k, "footer marker at byte %llu of %llu sectors", (unsigned long long)at,
                           (unsigned long long)n_sectors);
            skip_then(k, SECTOR - MARKER_HEAD - 4, ST_FOOTER);
            return 0;
        }
        /* GT, GD, progress and unknown metadata: skipped by their size. */
        skip_then(k, SECTOR - MARKER_HEAD - 4 + n_sectors * SECTOR, ST_MARKER);
        return 0;
    }
    case ST_FOOTER:
        if (cfs_le32(k->buf) != MAGIC || cfs_le64(k->buf + 12) != k->capacity ||
            cfs_le64(k->buf + 20) != k->grain_sectors)
            return bad(k, "the footer at byte %llu does not match the header",
                       (unsigned long long)(k->pos - SECTOR));
        k->gd_footer = cfs_le64(k->buf + 56);
        go(k, ST_MARKER);
        return 0;
    default:
        return bad(k, "internal state %d", (int)k->state);
    }
}

int vmdk_check_feed(struct vmdk_check *k, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (k->err)
        return k->err;
    if (k->expect && (k->pos > k->expect || len > k->expect - k->pos))
        return bad(k, "more than the %llu bytes expected", (unsigned long long)k->expect);
    while (len && !k->err) {
        size_t n;
        switch (k->state) {
        case ST_HEAD:
        case ST_MARKER:
        case ST_MTYPE:
        case ST_FOOTER:
            n = k->want - k->have < len ? k->want - k->have : len;
            memcpy(k->buf + k->have, p, n);
            k->have += n;
            k->pos += n;
            if (k->have == k->want)
                piece_done(k);
            break;
        case ST_FRONT: {
            uint64_t end = k->overhead * SECTOR, d0 = k->desc_offset * SECTOR,
                     d1 = d0 + k->desc_sectors * SECTOR;
            n = end - k->pos < len ? (size_t)(end - k->pos) : len;
            uint64_t a = k->pos > d0 ? k->pos : d0, b = k->pos + n < d1 ? k->pos + n : d1;
            if (a < b)
                memcpy(k->desc + (a - d0), p + (a - k->pos), (size_t)(b - a));
            k->pos += n;
            if (k->pos == end && check_descriptor(k) == 0)
                go(k, ST_MARKER);
            break;
        }
        case ST_GRAIN:
            n = k->left < len ? k->left : len;
            feed_grain(k, p, n);
            break;
        case ST_SKIP:
            n = k->skip < len ? (size_t)k->skip : len;
            k->skip -= n;
            k->pos += n;
            if (!k->skip)
                go(k, k->next);
            break;
        case ST_DONE: {
            /* qemu-img can leave zero sectors after the last grain, which
             * readers take for end-of-stream markers (qemu issue #1357). */
            n = 0;
            while (n < len && !p[n])
                n++;
            if (n < len)
                return bad(k, "a non-zero byte at byte %llu, after the end-of-stream marker",
                           (unsigned long long)(k->pos + n));
            k->pos += n;
            break;
        }
        default:
            return bad(k, "internal state %d", (int)k->state);
        }
        p += n;
        len -= n;
    }
    return k->err;
}

int vmdk_check_end(struct vmdk_check *k)
{
    if (k->err)
        return k->err;
    if (k->state != ST_DONE)
        return bad(k, "the file ends at byte %llu before its end-of-stream marker",
                   (unsigned long long)k->pos);
    return 0;
}

static int read_exact(struct vmdk_check *k, struct cfs_source *file, void *buf, size_t len,
                      uint64_t off, const char *what)
{
    ssize_t n = cfs_source_pread(file, buf, len, off);
    if (n < 0)
        return k->err = (int)n;
    if ((size_t)n != len)
        return bad(k, "%s at byte %llu beyond the end of the file", what, (unsigned long long)off);
    return 0;
}

int vmdk_check_tables(struct vmdk_check *k, struct cfs_source *file)
{
    if (k->err)
        return k->err;
    uint64_t gd = k->gd_offset == GD_AT_END ? k->gd_footer : k->gd_offset;
    if (!gd)
        return 0; /* no tables: readers index the stream by its markers */
    uint64_t n_grains = (k->capacity + k->grain_sectors - 1) / k->grain_sectors;
    uint64_t n_gt = (n_grains + k->gtes - 1) / k->gtes, entries = 0;
    unsigned char *dir = malloc(n_gt * 4), *gt = malloc((size_t)k->gtes * 4), mark[MARKER_HEAD];
    int err = dir && gt ? 0 : -ENOMEM;

    if (!err)
        err = read_exact(k, file, dir, n_gt * 4, gd * SECTOR, "the grain directory");
    for (uint64_t t = 0; !err && t < n_gt; t++) {
        uint64_t at = cfs_le32(dir + 4 * t);
        if (!at)
            continue;
        err = read_exact(k, file, gt, (size_t)k->gtes * 4, at * SECTOR, "a grain table");
        for (uint64_t i = 0; !err && i < k->gtes && t * k->gtes + i < n_grains; i++) {
            uint64_t g = t * k->gtes + i, s = cfs_le32(gt + 4 * i);
            if (!s || (s == 1 && (k->flags & FLAG_ZERO_GRAIN)))
                continue;
            entries++;
            if (s < k->overhead) {
                err = bad(k, "grain table entry of grain %llu: sector %llu is metadata",
                          (unsigned long long)g, (unsigned long long)s);
                break;
            }
            err = read_exact(k, file, mark, sizeof mark, s * SECTOR, "a grain record");
            if (!err && (cfs_le64(mark) != g * k->grain_sectors || !cfs_le32(mark + 8)))
                err = bad(k,
                          "grain table entry of grain %llu: sector %llu holds no grain "
                          "marker of LBA %llu",
                          (unsigned long long)g, (unsigned long long)s,
                          (unsigned long long)(g * k->grain_sectors));
        }
    }
    if (!err && entries != k->n_records)
        err = bad(k, "%llu grain table entries for %llu grain records", (unsigned long long)entries,
                  (unsigned long long)k->n_records);
    free(dir);
    free(gt);
    return err;
}
