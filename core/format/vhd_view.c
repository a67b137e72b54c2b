/* The .vhd view: a guest disk shown as a fixed or dynamic VHD (ref/formats.md
 * §4.3). Fixed: the guest's bytes, then the footer. Dynamic: footer copy,
 * header, BAT, one 2 MiB block (all-ones sector bitmap + data) per block
 * holding an allocated grain, in guest order, then the footer. The layout
 * follows from the allocation map alone, so the size is exact up front and
 * a read anywhere is arithmetic on two tables (block -> slot, slot ->
 * block).
 *
 * Size V: the guest's, rounded up to a sector (to a MiB for Azure, §4.6),
 * the tail reading as zeros. Footer current size = original size = V with
 * creator "qem2", so that qemu takes V rather than the CHS product (§4.5). */
#include "format.h"
#include "bytes.h"
#include "vhd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SHIFT  21u
#define BLOCK_BYTES  (1ull << BLOCK_SHIFT)
#define BITMAP_BYTES 512ull /* 4096 bits, one sector */
#define SLOT_BYTES   (BITMAP_BYTES + BLOCK_BYTES)
#define HEADER_OFF   512ull
#define BAT_OFF      1536ull
#define NO_SLOT      UINT32_MAX
#define AZURE_ALIGN  (1ull << 20)
/* 2000-01-01 (the VHD epoch) to 2020-01-01: timestamps land in 2020-2029. */
#define TIME_BASE 631152000u
#define TIME_SPAN (10u * 365u * 86400u)

struct vhd_view {
    struct cfs_source base;
    struct cfs_source *disk;
    bool dynamic;
    uint64_t size;     /* V: the disk's size the footer gives */
    uint64_t n_blocks; /* NB */
    uint64_t n_slots;  /* NA */
    uint64_t data_off; /* D0 */
    uint32_t *slot;    /* [n_blocks]: slot of block k or NO_SLOT */
    uint32_t *block;   /* [n_slots]: block in slot i */
    unsigned char footer[VHD_FOOTER_BYTES];
    unsigned char header[VHD_HEADER_BYTES];
};

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* CHS of the spec's appendix (§4.4), as cylinders << 16 | heads << 8 | spt. */
static uint32_t geometry(uint64_t total_sectors)
{
    uint64_t ts = total_sectors < 65535ull * 16 * 255 ? total_sectors : 65535ull * 16 * 255;
    uint64_t spt, heads, cth;
    if (ts >= 65535ull * 16 * 63) {
        spt = 255;
        heads = 16;
        cth = ts / spt;
    } else {
        spt = 17;
        cth = ts / spt;
        heads = (cth + 1023) / 1024;
        if (heads < 4)
            heads = 4;
        if (cth >= heads * 1024 || heads > 16) {
            spt = 31;
            heads = 16;
            cth = ts / spt;
        }
        if (cth >= heads * 1024) {
            spt = 63;
            heads = 16;
            cth = ts / spt;
        }
    }
    return (uint32_t)((cth / heads) << 16 | heads << 8 | spt);
}

static void build_footer(struct vhd_view *v, uint32_t seed)
{
    unsigned char *f = v->footer;
    uint64_t r1 = mix(seed), r2 = mix(r1);

    memcpy(f, VHD_COOKIE, 8);
    cfs_put_be32(f + 8, 2);
    cfs_put_be32(f + 12, 0x00010000);
    cfs_put_be64(f + VHD_F_DATA_OFFSET, v->dynamic ? HEADER_OFF : ~0ull);
    cfs_put_be32(f + 24, TIME_BASE + (uint32_t)(r1 % TIME_SPAN));
    memcpy(f + 28, "qem2", 4);
    cfs_put_be32(f + 32, 0x00050003); /* the creator version qemu writes */
    memcpy(f + 36, "Wi2k", 4);
    cfs_put_be64(f + 40, v->size);
    cfs_put_be64(f + VHD_F_CURRENT_SIZE, v->size);
    cfs_put_be32(f + VHD_F_GEOMETRY, geometry(v->size / VHD_SECTOR));
    cfs_put_be32(f + VHD_F_DISK_TYPE, v->dynamic ? VHD_TYPE_DYNAMIC : VHD_TYPE_FIXED);
    cfs_put_be64(f + 68, r2);
    cfs_put_be64(f + 76, mix(r2));
    f[74] = (unsigned char)((f[74] & 0x0f) | 0x40); /* a random (version 4) UUID */
    f[76] = (unsigned char)((f[76] & 0x3f) | 0x80);
    cfs_put_be32(f + VHD_F_CHECKSUM, vhd_checksum(f, VHD_FOOTER_BYTES, VHD_F_CHECKSUM));
}

static void build_header(struct vhd_view *v)
{
    unsigned char *h = v->header;
    memcpy(h, VHD_SPARSE_COOKIE, 8);
    cfs_put_be64(h + 8, ~0ull); /* all 64 bits: MS tools check them */
    cfs_put_be64(h + VHD_H_TABLE_OFFSET, BAT_OFF);
    cfs_put_be32(h + 24, 0x00010000);
    cfs_put_be32(h + VHD_H_MAX_ENTRIES, (uint32_t)v->n_blocks);
    cfs_put_be32(h + VHD_H_BLOCK_SIZE, (uint32_t)BLOCK_BYTES);
    cfs_put_be32(h + VHD_H_CHECKSUM, vhd_checksum(h, VHD_HEADER_BYTES, VHD_H_CHECKSUM));
}

/* Blocks holding an allocated grain of the disk get a slot, in order. */
static int build_slots(struct vhd_view *v)
{
    const struct cfs_alloc *a = v->disk->alloc;
    uint64_t disk_grains = (v->disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    uint64_t per_block = BLOCK_BYTES >> CFS_GRAIN_SHIFT;

    v->slot = malloc((v->n_blocks ? v->n_blocks : 1) * sizeof *v->slot);
    v->block = malloc((v->n_blocks ? v->n_blocks : 1) * sizeof *v->block);
    if (!v->slot || !v->block)
        return -ENOMEM;
    for (uint64_t k = 0; k < v->n_blocks; k++) {
        bool used = false;
        for (uint64_t g = k * per_block; g < (k + 1) * per_block && g < disk_grains && !used; g++) {
            if (!a)
                used = true;
            else if (g < a->n_grains && ((a->bits[g >> 6] >> (g & 63)) & 1))
                used = true;
        }
        v->slot[k] = used ? (uint32_t)v->n_slots : NO_SLOT;
        if (used)
            v->block[v->n_slots++] = (uint32_t)k;
    }
    return 0;
}

/* Guest bytes [off, off + len) of the view's disk: zeros past its end. */
static int read_guest(struct vhd_view *v, unsigned char *p, uint64_t len, uint64_t off)
{
    ssize_t n = cfs_source_pread(v->disk, p, (size_t)len, off);
    if (n < 0)
        return (int)n;
    if ((uint64_t)n < len) {
        if (off + (uint64_t)n < v->disk->size)
            return -EIO; /* short inside the disk */
        memset(p + n, 0, len - (uint64_t)n);
    }
    return 0;
}

/* Bytes of the BAT area [off, off + len), off relative to BAT_OFF. */
static void read_bat(const struct vhd_view *v, unsigned char *p, uint64_t len, uint64_t off)
{
    for (uint64_t i = 0; i < len; i++) {
        uint64_t e = (off + i) / 4;
        uint32_t val = VHD_BAT_UNUSED; /* and the padding to a sector */
        if (e < v->n_blocks && v->slot[e] != NO_SLOT)
            val = (uint32_t)((v->data_off + v->slot[e] * SLOT_BYTES) / VHD_SECTOR);
        p[i] = (unsigned char)(val >> (24 - 8 * ((off + i) % 4)));
    }
}

static ssize_t vhd_view_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vhd_view *v = (struct vhd_view *)src;
    uint64_t footer_off = v->base.size - VHD_FOOTER_BYTES;
    size_t done = 0;

    while (done < len) {
        uint64_t pos = off + done, n = len - done;
        unsigned char *p = (unsigned char *)buf + done;
        int err = 0;

        if (pos >= footer_off) {
            memcpy(p, v->footer + (pos - footer_off), n);
        } else if (!v->dynamic) {
            n = n < footer_off - pos ? n : footer_off - pos;
            err = read_guest(v, p, n, pos);
        } else if (pos < HEADER_OFF) {
            n = n < HEADER_OFF - pos ? n : HEADER_OFF - pos;
            memcpy(p, v->footer + pos, n);
        } else if (pos < BAT_OFF) {
            n = n < BAT_OFF - pos ? n : BAT_OFF - pos;
            memcpy(p, v->header + (pos - HEADER_OFF), n);
        } else if (pos < v->data_off) {
            n = n < v->data_off - pos ? n : v->data_off - pos;
            read_bat(v, p, n, pos - BAT_OFF);
        } else {
            uint64_t i = (pos - v->data_off) / SLOT_BYTES, in = (pos - v->data_off) % SLOT_BYTES;
            n = n < SLOT_BYTES - in ? n : SLOT_BYTES - in;
            if (in < BITMAP_BYTES) {
                n = n < BITMAP_BYTES - in ? n : BITMAP_BYTES - in;
                memset(p, 0xff, n);
            } else {
                err =
                    read_guest(v, p, n, ((uint64_t)v->block[i] << BLOCK_SHIFT) + in - BITMAP_BYTES);
            }
        }
        if (err)
            return err;
        done += n;
    }
    return (ssize_t)len;
}

static void vhd_view_close(struct cfs_source *src)
{
    struct vhd_view *v = (struct vhd_view *)src;
    cfs_source_close(v->disk);
    free(v->slot);
    free(v->block);
    free(v);
}

static const struct cfs_source_ops vhd_view_ops = {
    .name = "vhd view",
    .pread = vhd_view_pread,
    .close = vhd_view_close,
};

int vhd_view_open(struct cfs_source *disk, enum vhd_kind kind, bool azure, uint32_t seed,
                  struct cfs_source **out)
{
    uint64_t align = azure ? AZURE_ALIGN : VHD_SECTOR;
    if ((kind != VHD_FIXED && kind != VHD_DYNAMIC) || (azure && kind != VHD_FIXED)) {
        cfs_source_close(disk);
        return -EINVAL; /* Azure takes fixed VHDs only (§4.6) */
    }
    if (disk->size > VHD_MAX_SIZE) {
        cfs_source_close(disk);
        return -EFBIG;
    }
    struct vhd_view *v = calloc(1, sizeof *v);
    if (!v) {
        cfs_source_close(disk);
        return -ENOMEM;
    }
    v->base.ops = &vhd_view_ops;
    v->disk = disk;
    v->dynamic = kind == VHD_DYNAMIC;
    v->size = (disk->size + align - 1) / align * align;
    if (v->dynamic) {
        v->n_blocks = (v->size + BLOCK_BYTES - 1) >> BLOCK_SHIFT;
        int err = build_slots(v);
        if (err) {
            vhd_view_close(&v->base);
            return err;
        }
        v->data_off = BAT_OFF + (v->n_blocks * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
        v->base.size = v->data_off + v->n_slots * SLOT_BYTES + VHD_FOOTER_BYTES;
        build_header(v);
    } else {
        v->base.size = v->size + VHD_FOOTER_BYTES;
    }
    build_footer(v, seed);
    *out = &v->base;
    return 0;
}
