/* The .vmdk view: a guest disk shown as a streamOptimized VMDK, Layout A of
 * ref/formats.md §3.6 (header, embedded descriptor, GD and every GT at the
 * front, one record per allocated 64 KiB grain in LBA order, end-of-stream
 * marker).
 *
 * Every grain is a zlib stream of two DEFLATE *stored* blocks, so each
 * record is exactly 129 sectors and the file size depends on the allocation
 * map alone: st_size = 512 * (OH + 129 * NA + 1). A read at any offset is
 * arithmetic on that map: rank (GT entries) and select (record -> grain)
 * over the bitmap with a per-GT prefix count. Only grain records touch the
 * disk; the last few grains read are kept, with their Adler-32, so that a
 * read straddling two records or ending in a checksum reads a grain once.
 *
 * With a DEFLATE level (vmdk_stream_zip_open), the records are compressed
 * instead, of sizes planned at open (vmdk_zip.c); only the GT entries and
 * the records differ. */
#include "format.h"
#include "bytes.h"
#include "log.h"
#include "vmdk_zip.h"

#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SECTOR        512u
#define GRAIN_SECTORS 128u
#define GTES_PER_GT   512u
#define DESC_SECTORS  20u
#define GD_SECTOR     21u /* header + descriptor */
#define REC_SECTORS   129u
#define REC_BYTES     (REC_SECTORS * SECTOR) /* 66 048 */

/* Record layout (formats.md §3.6): 12-byte grain marker, zlib header,
 * stored block of 65 535 bytes, stored block of 1 byte, Adler-32, zeros. */
#define REC_PRE_BYTES  19u                           /* marker, 78 01, block 1 header */
#define REC_MID_OFF    (REC_PRE_BYTES + 65535u)      /* block 2 header */
#define REC_MID_BYTES  10u                           /* block 2 header, d[65535], Adler-32 */
#define REC_PAD_OFF    (REC_MID_OFF + REC_MID_BYTES) /* 65 564 */
#define REC_DATA_BYTES (REC_PAD_OFF - 12u)           /* the marker's size: 65 552 */

#define CACHE_SLOTS 8

struct grain {
    uint64_t g;
    uint32_t adler;
    unsigned refs; /* the cache's one, plus one per reader copying from it */
    uint64_t used;
    unsigned char data[CFS_GRAIN_BYTES];
};

struct vmdk_stream {
    struct cfs_source base;
    struct cfs_source *disk;
    uint64_t n_grains;                      /* NG */
    uint64_t n_gt;                          /* NGT */
    uint64_t gd_sectors;                    /* GDS */
    uint64_t overhead;                      /* OH, in sectors */
    uint64_t n_alloc;                       /* NA */
    struct cfs_alloc_index ix;              /* rank/select per GT of 512 grains */
    struct vmdk_zip *zip;                   /* compressed records, or NULL: stored */
    unsigned char head[GD_SECTOR * SECTOR]; /* header + descriptor */

    pthread_mutex_t lock; /* guards cache and clock, never held across a disk read */
    struct grain *cache[CACHE_SLOTS];
    uint64_t clock;
};

/* ---- rank and select over the allocation bitmap (alloc.c) ---- */

static int is_alloc(const struct vmdk_stream *v, uint64_t g)
{
    return g < v->n_grains && cfs_alloc_index_test(&v->ix, g);
}

static int build_index(struct vmdk_stream *v)
{
    uint64_t disk_grains = (v->disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    int err = cfs_alloc_index_init(&v->ix, v->disk->alloc, disk_grains, GTES_PER_GT, v->n_gt);
    if (!err)
        v->n_alloc = cfs_alloc_index_count(&v->ix);
    return err;
}

/* ---- header and descriptor (formats.md §3.1, §3.4) ---- */

static int build_head(struct vmdk_stream *v, const char *file_name, uint32_t cid,
                      const char *adapter)
{
    unsigned char *h = v->head;
    uint64_t capacity = v->n_grains * GRAIN_SECTORS;

    cfs_put_le32(h + 0, 0x564d444b); /* "KDMV" */
    cfs_put_le32(h + 4, 3);          /* ESXi refuses stream files below version 3 */
    cfs_put_le32(h + 8, 0x00030001); /* NL detect, compressed grains, markers */
    cfs_put_le64(h + 12, capacity);
    cfs_put_le64(h + 20, GRAIN_SECTORS);
    cfs_put_le64(h + 28, 1);
    cfs_put_le64(h + 36, DESC_SECTORS);
    cfs_put_le32(h + 44, GTES_PER_GT);
    cfs_put_le64(h + 48, 0);
    cfs_put_le64(h + 56, GD_SECTOR);
    cfs_put_le64(h + 64, v->overhead);
    h[72] = 0;
    memcpy(h + 73, "\n \r\n", 4);
    cfs_put_le16(h + 77, 1); /* DEFLATE */

    /* Geometry as open-vmdk (SCSI) and qemu (IDE) write it; the IDE
     * cylinder count stops at the ATA CHS limit. */
    unsigned heads = 255;
    uint64_t cylinders = (capacity + 255 * 63 - 1) / (255 * 63);
    if (strcmp(adapter, "ide") == 0) {
        heads = 16;
        cylinders = capacity / (16 * 63);
        if (cylinders > 16383)
            cylinders = 16383;
    }
    if (cylinders > 65535)
        cylinders = 65535;

    /* longContentID: deterministic in cid, ending in it as VMware's do. */
    uint64_t x = cid + 0x9e3779b97f4a7c15ull, y;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    y = (x ^ cid) * 0x9e3779b97f4a7c15ull;

    char *d = (char *)h + SECTOR;
    size_t room = DESC_SECTORS * SECTOR;
    int n = snprintf(d, room,
                     "# Disk DescriptorFile\n"
                     "version=1\n"
                     "encoding=\"UTF-8\"\n"
                     "CID=%08x\n"
                     "parentCID=ffffffff\n"
                     "createType=\"streamOptimized\"\n"
                     "\n"
                     "# Extent description\n"
                     "RW %llu SPARSE \"%s\"\n"
                     "\n"
                     "# The Disk Data Base\n"
                     "#DDB\n"
                     "\n"
                     "ddb.adapterType = \"%s\"\n"
                     "ddb.geometry.cylinders = \"%llu\"\n"
                     "ddb.geometry.heads = \"%u\"\n"
                     "ddb.geometry.sectors = \"63\"\n"
                     "ddb.longContentID = \"%016llx%08llx%08x\"\n"
                     "ddb.toolsInstallType = \"4\"\n"
                     "ddb.toolsVersion = \"2147483647\"\n"
                     "ddb.virtualHWVersion = \"4\"\n",
                     cid, (unsigned long long)capacity, file_name, adapter,
                     (unsigned long long)cylinders, heads, (unsigned long long)x,
                     (unsigned long long)(y >> 32), cid);
    if (n < 0 || (size_t)n >= room)
        return -ENAMETOOLONG;
    /* snprintf's NUL and the rest stay zero: the descriptor is zero padded. */
    return 0;
}

/* The descriptor quotes the name; a name that would break the line is
 * refused rather than shown under one name and described under another. */
static int check_name(const char *name)
{
    if (!name || !*name)
        return -EINVAL;
    if (strlen(name) > 1024)
        return -ENAMETOOLONG;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"')
            return -EINVAL;
    return 0;
}

/* ---- grain cache ---- */

static void grain_put(struct vmdk_stream *v, struct grain *gr)
{
    pthread_mutex_lock(&v->lock);
    int last = --gr->refs == 0;
    pthread_mutex_unlock(&v->lock);
    if (last)
        free(gr);
}

static struct grain *cache_find(struct vmdk_stream *v, uint64_t g)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct grain *gr = v->cache[i];
        if (gr && gr->g == g) {
            gr->refs++;
            gr->used = ++v->clock;
            return gr;
        }
    }
    return NULL;
}

/* Returns grain g with a reference the caller drops with grain_put. */
static int grain_get(struct vmdk_stream *v, uint64_t g, struct grain **out)
{
    pthread_mutex_lock(&v->lock);
    struct grain *gr = cache_find(v, g);
    pthread_mutex_unlock(&v->lock);
    if (gr) {
        *out = gr;
        return 0;
    }

    gr = malloc(sizeof *gr);
    if (!gr)
        return -ENOMEM;
    uint64_t off = g << CFS_GRAIN_SHIFT;
    size_t want = CFS_GRAIN_BYTES;
    if (v->disk->size - off < want)
        want = (size_t)(v->disk->size - off); /* the partial last grain */
    ssize_t n = cfs_source_pread(v->disk, gr->data, want, off);
    if (n != (ssize_t)want) {
        free(gr);
        if (n >= 0) {
            cfs_log_error("vmdk: short read of grain %llu from the %s source (%zd of %zu)",
                          (unsigned long long)g, v->disk->ops->name, n, want);
            return -EIO;
        }
        return (int)n;
    }
    memset(gr->data + want, 0, CFS_GRAIN_BYTES - want);
    gr->g = g;
    gr->adler = libdeflate_adler32(1, gr->data, CFS_GRAIN_BYTES); /* zlib's, several times faster */

    pthread_mutex_lock(&v->lock);
    struct grain *other = cache_find(v, g); /* another reader may have been faster */
    if (other) {
        pthread_mutex_unlock(&v->lock);
        free(gr);
        *out = other;
        return 0;
    }
    int slot = 0;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (!v->cache[i]) {
            slot = i;
            break;
        }
        if (v->cache[i]->used < v->cache[slot]->used)
            slot = i;
    }
    struct grain *old = v->cache[slot];
    if (old && --old->refs != 0)
        old = NULL; /* a reader still copies from it and frees it */
    gr->refs = 2;
    gr->used = ++v->clock;
    v->cache[slot] = gr;
    pthread_mutex_unlock(&v->lock);
    free(old);
    *out = gr;
    return 0;
}

/* ---- pread ---- */

/* Copies the part of [from, from + len) of a record that overlaps
 * [at, at + n) of the piece at record offset at. */
static void copy_piece(unsigned char *dst, uint64_t from, size_t len, uint64_t at,
                       const void *piece, size_t n)
{
    uint64_t lo = from > at ? from : at, hi = from + len < at + n ? from + len : at + n;
    if (lo >= hi)
        return;
    if (piece)
        memcpy(dst + (lo - from), (const unsigned char *)piece + (lo - at), (size_t)(hi - lo));
    else
        memset(dst + (lo - from), 0, (size_t)(hi - lo));
}

/* Bytes [r, r + len) of record k. */
static int read_record(struct vmdk_stream *v, unsigned char *dst, uint64_t k, uint64_t r,
                       size_t len)
{
    uint64_t g = cfs_alloc_select(&v->ix, k);
    unsigned char pre[REC_PRE_BYTES] = { 0 }, mid[REC_MID_BYTES];
    cfs_put_le64(pre, g * GRAIN_SECTORS);
    cfs_put_le32(pre + 8, REC_DATA_BYTES);
    memcpy(pre + 12,
           "\x78\x01"              /* zlib: deflate, 32 KiB window, no dict */
           "\x00\xff\xff\x00\x00", /* stored, LEN 65535 */
           7);
    copy_piece(dst, r, len, 0, pre, sizeof pre);
    copy_piece(dst, r, len, REC_PAD_OFF, NULL, REC_BYTES - REC_PAD_OFF);
    if (r + len <= REC_PRE_BYTES || r >= REC_PAD_OFF)
        return 0;

    struct grain *gr = NULL;
    int err = grain_get(v, g, &gr);
    if (err)
        return err;
    memcpy(mid, "\x01\x01\x00\xfe\xff", 5); /* final stored block, LEN 1 */
    mid[5] = gr->data[CFS_GRAIN_BYTES - 1];
    for (int i = 0; i < 4; i++)
        mid[6 + i] = (unsigned char)(gr->adler >> (24 - 8 * i)); /* big-endian */
    copy_piece(dst, r, len, REC_PRE_BYTES, gr->data, 65535);
    copy_piece(dst, r, len, REC_MID_OFF, mid, sizeof mid);
    grain_put(v, gr);
    return 0;
}

/* Bytes [rel, rel + len) of the GD (is_gd) or of the GTs, which follow
 * each other and so read as one array of u32 LE entries, one per grain. */
static void read_table(struct vmdk_stream *v, unsigned char *dst, uint64_t rel, size_t len,
                       int is_gd)
{
    uint64_t e = rel / 4, end = rel + len;
    uint64_t next = 0; /* GT: the rank of grain e, counted on */
    uint64_t sec = 0;  /* GT of compressed records: the sector of record next */
    if (!is_gd)
        next = cfs_alloc_rank(&v->ix, e < v->n_grains ? e : v->n_grains);
    if (!is_gd && v->zip && next < v->n_alloc)
        sec = vmdk_zip_start(v->zip, next);
    for (; e * 4 < end; e++) {
        uint32_t val = 0;
        if (is_gd) {
            if (e < v->n_gt)
                val = (uint32_t)(GD_SECTOR + v->gd_sectors + 4 * e);
        } else if (is_alloc(v, e) && v->zip) {
            val = (uint32_t)(v->overhead + sec);
            sec += vmdk_zip_rec_sectors(v->zip, next++);
        } else if (is_alloc(v, e)) {
            val = (uint32_t)(v->overhead + REC_SECTORS * next++);
        }
        unsigned char b[4];
        cfs_put_le32(b, val);
        copy_piece(dst, rel, len, e * 4, b, 4);
    }
}

static ssize_t vmdk_stream_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vmdk_stream *v = (struct vmdk_stream *)src;
    unsigned char *dst = buf;
    uint64_t gd = GD_SECTOR * SECTOR, gt = (GD_SECTOR + v->gd_sectors) * SECTOR;
    uint64_t recs = v->overhead * SECTOR, eos = v->base.size - SECTOR;
    size_t done = 0;

    while (done < len && off < v->base.size) {
        size_t n = len - done;
        int err = 0;
        if (off < gd) {
            n = n < gd - off ? n : (size_t)(gd - off);
            memcpy(dst, v->head + off, n);
        } else if (off < gt) {
            n = n < gt - off ? n : (size_t)(gt - off);
            read_table(v, dst, off - gd, n, 1);
        } else if (off < recs) {
            n = n < recs - off ? n : (size_t)(recs - off);
            read_table(v, dst, off - gt, n, 0);
        } else if (off < eos && v->zip) {
            n = n < eos - off ? n : (size_t)(eos - off);
            err = vmdk_zip_read(v->zip, dst, off - recs, n);
        } else if (off < eos) {
            uint64_t k = (off - recs) / REC_BYTES, r = (off - recs) % REC_BYTES;
            n = n < REC_BYTES - r ? n : (size_t)(REC_BYTES - r);
            err = read_record(v, dst, k, r, n);
        } else {
            n = n < v->base.size - off ? n : (size_t)(v->base.size - off);
            memset(dst, 0, n); /* end-of-stream marker */
        }
        if (err)
            return err;
        dst += n;
        off += n;
        done += n;
    }
    return (ssize_t)done;
}

static void vmdk_stream_close(struct cfs_source *src)
{
    struct vmdk_stream *v = (struct vmdk_stream *)src;
    for (int i = 0; i < CACHE_SLOTS; i++)
        free(v->cache[i]); /* no reader is left holding one */
    pthread_mutex_destroy(&v->lock);
    vmdk_zip_free(v->zip); /* before the index and disk it borrows */
    cfs_alloc_index_free(&v->ix);
    cfs_source_close(v->disk);
    free(v);
}

static const struct cfs_source_ops vmdk_stream_ops = {
    .name = "vmdk",
    .pread = vmdk_stream_pread,
    .close = vmdk_stream_close,
};

int vmdk_stream_open(struct cfs_source *disk, const char *file_name, uint32_t cid,
                     const char *adapter, struct cfs_source **out)
{
    return vmdk_stream_zip_open(disk, file_name, cid, adapter, 0, out);
}

int vmdk_stream_zip_open(struct cfs_source *disk, const char *file_name, uint32_t cid,
                         const char *adapter, int level, struct cfs_source **out)
{
    static const char *const adapters[] = { "ide", "buslogic", "lsilogic", "legacyESX" };
    const size_t n_adapters = sizeof adapters / sizeof *adapters;
    struct vmdk_stream *v;
    size_t a = 0;
    int err;

    if (!adapter)
        adapter = "lsilogic";
    while (a < n_adapters && strcmp(adapter, adapters[a]) != 0)
        a++;
    if (a == n_adapters) {
        cfs_log_error("vmdk: adapter type \"%s\" is none of ide, buslogic, lsilogic, legacyESX",
                      adapter);
        cfs_source_close(disk);
        return -EINVAL;
    }
    err = check_name(file_name);
    if (err) {
        cfs_log_error("vmdk: file name empty, too long, or with a quote or control character: "
                      "the descriptor cannot name it");
        cfs_source_close(disk);
        return err;
    }

    v = calloc(1, sizeof *v);
    if (!v) {
        cfs_source_close(disk);
        return -ENOMEM;
    }
    v->disk = disk;
    pthread_mutex_init(&v->lock, NULL);
    v->base.ops = &vmdk_stream_ops;

    /* formats.md §3.6; every sector number in the file is 32 bits. An
     * empty disk still gets one grain of capacity: readers refuse 0. */
    v->n_grains = (disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    if (v->n_grains == 0)
        v->n_grains = 1;
    v->n_gt = (v->n_grains + GTES_PER_GT - 1) / GTES_PER_GT;
    v->gd_sectors = (4 * v->n_gt + SECTOR - 1) / SECTOR;
    v->overhead = GD_SECTOR + v->gd_sectors + 4 * v->n_gt;
    /* The capacity field is 64 bits; only the file's own sector offsets
     * must fit in 32 (checked below): an exactly 2 TiB disk is fine. */
    if (v->n_grains * GRAIN_SECTORS > (1ull << 32)) {
        cfs_log_error("vmdk: a disk of %llu bytes is over the 2 TiB of a sparse extent",
                      (unsigned long long)disk->size);
        err = -EFBIG;
        goto fail;
    }
    err = build_index(v);
    if (err)
        goto fail;
    if (level > 12)
        level = 12;
    if (level > 0) {
        err = vmdk_zip_plan(disk, &v->ix, v->n_alloc, level, &v->zip);
        if (err)
            goto fail;
    }
    uint64_t records = v->zip ? vmdk_zip_sectors(v->zip) : REC_SECTORS * v->n_alloc;
    uint64_t sectors = v->overhead + records + 1;
    if (sectors > UINT32_MAX) {
        cfs_log_error("vmdk: %llu allocated grains make a file past 2^32 sectors",
                      (unsigned long long)v->n_alloc);
        err = -EFBIG;
        goto fail;
    }
    v->base.size = sectors * SECTOR;
    err = build_head(v, file_name, cid, adapter);
    if (err)
        goto fail;
    *out = &v->base;
    return 0;

fail:
    vmdk_stream_close(&v->base);
    return err;
}
