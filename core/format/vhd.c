/* VHD decoder, fixed and dynamic (ref/formats.md §4): checks the footer at
 * the end of the file (and, for a dynamic disk, its copy at offset 0), the
 * dynamic header and the BAT, and builds the guest's allocation map from
 * the BAT alone. Differencing disks are refused: their parent is not here.
 *
 * Size: the footer's current size, as Hyper-V, Azure and qemu (for its own
 * "qem2" images) take it; a geometry covering more than that is corrupt.
 *
 * A dynamic block's sector bitmap is read on the first guest read of the
 * block and kept: sectors whose bit is clear read as zeros (the spec's
 * meaning; qemu writes all ones). Readers on several threads publish a
 * loaded bitmap with one compare-and-swap, no lock. */
#include "format.h"
#include "bytes.h"
#include "log.h"
#include "vhd.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BLOCK_BYTES 512ull
#define MAX_BLOCK_BYTES (256ull << 20)
#define MAX_BAT_BYTES   (32ull << 20)

struct vhd {
    struct cfs_source base;
    struct cfs_source *file;
    char *label;
    struct cfs_alloc *alloc;
    uint64_t file_size;
    bool dynamic;
    unsigned block_shift;
    uint64_t bitmap_bytes; /* on disk, padded to a sector */
    uint64_t bitmap_used;  /* bytes holding the block's sector bits */
    uint64_t n_blocks;
    uint32_t *bat;           /* host order, n_blocks entries */
    unsigned char **bitmaps; /* per block: NULL until read, or ALL_SET / NONE_SET */
};

/* Bitmaps with every bit set or clear are not kept, only marked. */
static unsigned char all_set_mark, none_set_mark;
#define ALL_SET  (&all_set_mark)
#define NONE_SET (&none_set_mark)

static int refuse(const char *label, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one log line of a refused image or a failed read. */
static int refuse(const char *label, int err, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cfs_log_error("vhd: %s: %s", label, why);
    return err;
}

bool vhd_probe(const void *head, size_t len)
{
    return len >= 8 && memcmp(head, VHD_COOKIE, 8) == 0;
}

static int read_meta(struct vhd *v, void *buf, uint64_t len, uint64_t off, const char *what)
{
    ssize_t n = cfs_source_pread(v->file, buf, (size_t)len, off);
    if (n < 0)
        return refuse(v->label, (int)n, "reading %s at 0x%llx: %s", what, (unsigned long long)off,
                      strerror((int)-n));
    if ((uint64_t)n != len)
        return refuse(v->label, -EIO, "%s at 0x%llx+%llu ends beyond the end of the file", what,
                      (unsigned long long)off, (unsigned long long)len);
    return 0;
}

/* ---- reading ---- */

static void vhd_close(struct cfs_source *src)
{
    struct vhd *v = (struct vhd *)src;
    if (v->bitmaps) {
        for (uint64_t k = 0; k < v->n_blocks; k++)
            if (v->bitmaps[k] != ALL_SET && v->bitmaps[k] != NONE_SET)
                free(v->bitmaps[k]);
        free(v->bitmaps);
    }
    free(v->bat);
    cfs_alloc_free(v->alloc);
    cfs_source_close(v->file);
    free(v->label);
    free(v);
}

/* Reads exactly len bytes of the file at off for a guest read. */
static int read_data(struct vhd *v, void *buf, uint64_t len, uint64_t off)
{
    ssize_t n = cfs_source_pread(v->file, buf, (size_t)len, off);
    if (n < 0)
        return refuse(v->label, (int)n, "reading 0x%llx+%llu: %s", (unsigned long long)off,
                      (unsigned long long)len, strerror((int)-n));
    if ((uint64_t)n != len)
        return refuse(v->label, -EIO, "short read at 0x%llx+%llu: the file shrank",
                      (unsigned long long)off, (unsigned long long)len);
    return 0;
}

static bool bit_set(const unsigned char *bm, uint64_t sector)
{
    return (bm[sector >> 3] >> (7 - (sector & 7))) & 1; /* MSB first */
}

/* The sector bitmap of block k (allocated), read once. */
static int block_bitmap(struct vhd *v, uint64_t k, const unsigned char **out)
{
    unsigned char *bm = __atomic_load_n(&v->bitmaps[k], __ATOMIC_ACQUIRE);
    if (bm) {
        *out = bm;
        return 0;
    }
    uint64_t n_bits = 1ull << (v->block_shift - 9);
    bm = malloc(v->bitmap_used);
    if (!bm)
        return refuse(v->label, -ENOMEM, "out of memory for a sector bitmap");
    int err = read_data(v, bm, v->bitmap_used, (uint64_t)v->bat[k] * VHD_SECTOR);
    if (err) {
        free(bm);
        return err;
    }
    uint64_t set = 0;
    for (uint64_t s = 0; s < n_bits; s++)
        set += bit_set(bm, s);
    unsigned char *keep = set == n_bits ? ALL_SET : set == 0 ? NONE_SET : bm;
    if (keep != bm)
        free(bm);
    unsigned char *expected = NULL;
    if (!__atomic_compare_exchange_n(&v->bitmaps[k], &expected, keep, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (keep == bm)
            free(bm); /* another reader got there first */
        keep = expected;
    }
    *out = keep;
    return 0;
}

/* Guest bytes [in, in + len) of allocated block k. */
static int read_block(struct vhd *v, uint64_t k, unsigned char *buf, uint64_t len, uint64_t in)
{
    const unsigned char *bm = NULL;
    int err = block_bitmap(v, k, &bm);
    if (err)
        return err;
    uint64_t data = (uint64_t)v->bat[k] * VHD_SECTOR + v->bitmap_bytes;
    if (bm == ALL_SET)
        return read_data(v, buf, len, data + in);
    if (bm == NONE_SET) {
        memset(buf, 0, len);
        return 0;
    }
    /* Runs of sectors with the same bit: one read or one memset each. */
    uint64_t pos = in, end = in + len;
    while (pos < end) {
        uint64_t s = pos / VHD_SECTOR;
        bool set = bit_set(bm, s);
        uint64_t run_end = (s + 1) * VHD_SECTOR;
        while (run_end < end && bit_set(bm, run_end / VHD_SECTOR) == set)
            run_end += VHD_SECTOR;
        if (run_end > end)
            run_end = end;
        if (set) {
            err = read_data(v, buf + (pos - in), run_end - pos, data + pos);
            if (err)
                return err;
        } else {
            memset(buf + (pos - in), 0, run_end - pos);
        }
        pos = run_end;
    }
    return 0;
}

static ssize_t vhd_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vhd *v = (struct vhd *)src;
    if (!v->dynamic) {
        int err = read_data(v, buf, len, off);
        return err ? err : (ssize_t)len;
    }
    uint64_t bs = 1ull << v->block_shift;
    size_t done = 0;
    while (done < len) {
        uint64_t pos = off + done, k = pos >> v->block_shift, in = pos & (bs - 1);
        uint64_t n = bs - in < len - done ? bs - in : len - done;
        unsigned char *p = (unsigned char *)buf + done;
        if (v->bat[k] == VHD_BAT_UNUSED) {
            memset(p, 0, n);
        } else {
            int err = read_block(v, k, p, n, in);
            if (err)
                return err;
        }
        done += n;
    }
    return (ssize_t)len;
}

static const struct cfs_source_ops vhd_ops = {
    .name = "vhd",
    .pread = vhd_pread,
    .close = vhd_close,
};

/* ---- opening ---- */

/* Cookie, checksum, disk type, size and geometry of a footer (§4.1, §4.4). */
static int check_footer(struct vhd *v, const unsigned char *f, const char *where)
{
    if (memcmp(f, VHD_COOKIE, 8) != 0)
        return refuse(v->label, -EIO, "no VHD footer (cookie \"conectix\") %s", where);
    uint32_t sum = vhd_checksum(f, VHD_FOOTER_BYTES, VHD_F_CHECKSUM);
    if (cfs_be32(f + VHD_F_CHECKSUM) != sum)
        return refuse(v->label, -EIO, "footer %s: bad checksum 0x%08x (computed 0x%08x)", where,
                      cfs_be32(f + VHD_F_CHECKSUM), sum);
    uint32_t type = cfs_be32(f + VHD_F_DISK_TYPE);
    if (type == VHD_TYPE_DIFF)
        return refuse(v->label, -ENOTSUP,
                      "differencing VHDs are not supported (their parent is not available)");
    if (type != VHD_TYPE_FIXED && type != VHD_TYPE_DYNAMIC)
        return refuse(v->label, -EIO, "footer %s: unknown disk type %u", where, type);
    uint64_t size = cfs_be64(f + VHD_F_CURRENT_SIZE);
    if (size > VHD_MAX_SIZE)
        return refuse(v->label, -ENOTSUP, "current size %llu above the 2040 GiB a VHD can hold",
                      (unsigned long long)size);
    if (size % VHD_SECTOR)
        return refuse(v->label, -EIO, "current size %llu not a multiple of 512",
                      (unsigned long long)size);
    const unsigned char *g = f + VHD_F_GEOMETRY;
    uint64_t chs = (uint64_t)(g[0] << 8 | g[1]) * g[2] * g[3] * VHD_SECTOR;
    /* 65535/16/255 is the most CHS can say: qemu then takes current size
     * (and writes it so with force_size). */
    bool max_geometry = g[0] == 0xff && g[1] == 0xff && g[2] == 16 && g[3] == 255;
    if (chs > size && !max_geometry)
        return refuse(v->label, -EIO,
                      "geometry %u/%u/%u covers %llu bytes, more than the %llu "
                      "of the current size",
                      g[0] << 8 | g[1], g[2], g[3], (unsigned long long)chs,
                      (unsigned long long)size);
    return 0;
}

static bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    return a_len && b_len && a < b + b_len && b < a + a_len;
}

/* Dynamic header (§4.2), BAT, and every allocated block inside the file
 * and clear of the metadata; the allocation map from the BAT. */
static int open_dynamic(struct vhd *v, const unsigned char *footer)
{
    uint64_t fs = v->file_size, size = v->base.size;
    unsigned char copy[VHD_FOOTER_BYTES], h[VHD_HEADER_BYTES];
    int err;

    err = read_meta(v, copy, VHD_FOOTER_BYTES, 0, "the footer copy");
    if (err)
        return err;
    err = check_footer(v, copy, "copy at offset 0");
    if (err)
        return err;
    if (cfs_be64(copy + VHD_F_CURRENT_SIZE) != size ||
        cfs_be32(copy + VHD_F_DISK_TYPE) != VHD_TYPE_DYNAMIC ||
        cfs_be64(copy + VHD_F_DATA_OFFSET) != cfs_be64(footer + VHD_F_DATA_OFFSET))
        return refuse(v->label, -EIO, "the footer copy at offset 0 disagrees with the footer");

    uint64_t hoff = cfs_be64(footer + VHD_F_DATA_OFFSET);
    if (hoff < VHD_FOOTER_BYTES || hoff > fs - VHD_FOOTER_BYTES ||
        VHD_HEADER_BYTES > fs - VHD_FOOTER_BYTES - hoff)
        return refuse(v->label, -EIO, "dynamic header at 0x%llx outside the file",
                      (unsigned long long)hoff);
    err = read_meta(v, h, VHD_HEADER_BYTES, hoff, "the dynamic header");
    if (err)
        return err;
    if (memcmp(h, VHD_SPARSE_COOKIE, 8) != 0)
        return refuse(v->label, -EIO, "no dynamic header (cookie \"cxsparse\") at 0x%llx",
                      (unsigned long long)hoff);
    uint32_t sum = vhd_checksum(h, VHD_HEADER_BYTES, VHD_H_CHECKSUM);
    if (cfs_be32(h + VHD_H_CHECKSUM) != sum)
        return refuse(v->label, -EIO, "dynamic header: bad checksum 0x%08x (computed 0x%08x)",
                      cfs_be32(h + VHD_H_CHECKSUM), sum);

    uint64_t bs = cfs_be32(h + VHD_H_BLOCK_SIZE);
    if (bs < MIN_BLOCK_BYTES || bs > MAX_BLOCK_BYTES || (bs & (bs - 1)))
        return refuse(v->label, -EIO, "block size %llu not a power of two in 512..%llu",
                      (unsigned long long)bs, MAX_BLOCK_BYTES);
    v->block_shift = (unsigned)__builtin_ctzll(bs);
    v->bitmap_used = (bs / VHD_SECTOR + 7) / 8;
    v->bitmap_bytes = (v->bitmap_used + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
    v->n_blocks = (size + bs - 1) >> v->block_shift;

    uint64_t max_entries = cfs_be32(h + VHD_H_MAX_ENTRIES),
             bat_off = cfs_be64(h + VHD_H_TABLE_OFFSET);
    uint64_t bat_bytes = max_entries * 4;
    if (max_entries < v->n_blocks)
        return refuse(v->label, -EIO, "BAT of %llu entries too small for %llu blocks",
                      (unsigned long long)max_entries, (unsigned long long)v->n_blocks);
    if (bat_bytes > MAX_BAT_BYTES)
        return refuse(v->label, -EIO, "BAT of %llu entries too large",
                      (unsigned long long)max_entries);
    if (bat_off > fs - VHD_FOOTER_BYTES || bat_bytes > fs - VHD_FOOTER_BYTES - bat_off)
        return refuse(v->label, -EIO, "BAT at 0x%llx+%llu beyond the end of the file",
                      (unsigned long long)bat_off, (unsigned long long)bat_bytes);
    if (bat_off < VHD_FOOTER_BYTES || overlaps(bat_off, bat_bytes, hoff, VHD_HEADER_BYTES))
        return refuse(v->label, -EIO, "BAT at 0x%llx overlaps the footer copy or the header",
                      (unsigned long long)bat_off);

    v->bat = malloc(v->n_blocks ? v->n_blocks * 4 : 1);
    v->bitmaps = calloc(v->n_blocks ? v->n_blocks : 1, sizeof *v->bitmaps);
    v->alloc = cfs_alloc_new(size);
    if (!v->bat || !v->bitmaps || !v->alloc)
        return refuse(v->label, -ENOMEM, "out of memory for a BAT of %llu entries",
                      (unsigned long long)v->n_blocks);
    err = read_meta(v, v->bat, v->n_blocks * 4, bat_off, "the BAT");
    if (err)
        return err;
    for (uint64_t k = 0; k < v->n_blocks; k++) {
        v->bat[k] = be32toh(v->bat[k]);
        if (v->bat[k] == VHD_BAT_UNUSED)
            continue;
        /* Only the part of the last block inside the disk must exist. */
        uint64_t start = (uint64_t)v->bat[k] * VHD_SECTOR, guest = k << v->block_shift;
        uint64_t need = v->bitmap_bytes + (size - guest < bs ? size - guest : bs);
        if (start > fs - VHD_FOOTER_BYTES || need > fs - VHD_FOOTER_BYTES - start)
            return refuse(v->label, -EIO,
                          "BAT entry %llu: block at 0x%llx beyond the end of "
                          "the file",
                          (unsigned long long)k, (unsigned long long)start);
        if (start < VHD_FOOTER_BYTES || overlaps(start, need, hoff, VHD_HEADER_BYTES) ||
            overlaps(start, need, bat_off, bat_bytes))
            return refuse(v->label, -EIO, "BAT entry %llu: block at 0x%llx overlaps metadata",
                          (unsigned long long)k, (unsigned long long)start);
        cfs_alloc_set_range(v->alloc, guest, need - v->bitmap_bytes);
    }
    return 0;
}

/* A fixed disk's allocation: the file's, up to the footer. */
static int open_fixed(struct vhd *v)
{
    const struct cfs_alloc *fa = v->file->alloc;
    if (v->base.size > v->file_size - VHD_FOOTER_BYTES)
        return refuse(v->label, -EIO,
                      "fixed VHD of %llu bytes (and its footer) in a file of %llu bytes",
                      (unsigned long long)v->base.size, (unsigned long long)v->file_size);
    if (!fa)
        return 0;
    v->alloc = cfs_alloc_new(v->base.size);
    if (!v->alloc)
        return refuse(v->label, -ENOMEM, "out of memory for the allocation map");
    for (uint64_t g = 0; g < v->alloc->n_grains; g++)
        if (cfs_alloc_test(fa, g))
            cfs_alloc_set(v->alloc, g);
    return 0;
}

int vhd_open(struct cfs_source *file, const char *label, struct cfs_source **disk)
{
    struct vhd *v = calloc(1, sizeof *v);
    unsigned char footer[VHD_FOOTER_BYTES];
    int err;

    if (!v || !(v->label = strdup(label ? label : "vhd image"))) {
        cfs_log_error("vhd: %s: out of memory", label ? label : "vhd image");
        free(v);
        cfs_source_close(file);
        return -ENOMEM;
    }
    v->base.ops = &vhd_ops;
    v->file = file;
    v->file_size = file->size;
    if (v->file_size < VHD_FOOTER_BYTES) {
        err = refuse(v->label, -EIO, "file of %llu bytes is too short for a VHD footer",
                     (unsigned long long)v->file_size);
        goto fail;
    }
    err = read_meta(v, footer, VHD_FOOTER_BYTES, v->file_size - VHD_FOOTER_BYTES, "the footer");
    if (err)
        goto fail;
    err = check_footer(v, footer, "at the end of the file");
    if (err)
        goto fail;
    v->base.size = cfs_be64(footer + VHD_F_CURRENT_SIZE);
    v->dynamic = cfs_be32(footer + VHD_F_DISK_TYPE) == VHD_TYPE_DYNAMIC;
    err = v->dynamic ? open_dynamic(v, footer) : open_fixed(v);
    if (err)
        goto fail;
    v->base.alloc = v->alloc;
    *disk = &v->base;
    return 0;
fail:
    vhd_close(&v->base);
    return err;
}
