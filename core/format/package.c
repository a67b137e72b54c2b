/* The package a vCD import needs, made from a file a user copied in
 * (DESIGN.md §5, ref/vcd-api.md §5 and §13): a disk becomes one
 * streamOptimized VMDK and a generated OVF descriptor; an OVA keeps its own
 * descriptor (package_ova.c). What cannot become a template is refused
 * here, with one log line, before anything is sent. */
#include "package_priv.h"
#include "bytes.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR          512u
#define VMDK_COMPRESSED (1u << 16)
#define VMDK_MARKERS    (1u << 17)
#define NAME_MAX_BYTES  64

bool pkg_plain_name(const char *s)
{
    if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
           strlen(s);
}

static ssize_t read_full(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = cfs_source_pread(src, (char *)buf + got, len - got, off + got);
        if (n <= 0)
            return n < 0 ? n : (ssize_t)got;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* What ESXi's import checks of a stream (ref/formats.md §3.5): version 3,
 * compressed grains with markers, createType streamOptimized, and an
 * end-of-stream marker (one zero sector) at the end, which qemu-img's
 * streams lack. 1 fit, 0 not, or a read's -errno. */
static int stream_fit(struct cfs_source *file, const char **why)
{
    unsigned char h[SECTOR], tail[SECTOR];
    char type[64];
    ssize_t n = read_full(file, h, SECTOR, 0);
    if (n < 0)
        return (int)n;
    int err = cfs_sniff_create_type(file, type, sizeof type);
    if (err)
        return err;
    *why = "it is too short";
    if (n < SECTOR || file->size % SECTOR || file->size < 2 * SECTOR)
        return 0;
    *why = "it is not version 3 with compressed grains and markers";
    uint32_t flags = cfs_le32(h + 8);
    if (cfs_le32(h + 4) != 3 ||
        (flags & (VMDK_COMPRESSED | VMDK_MARKERS)) != (VMDK_COMPRESSED | VMDK_MARKERS))
        return 0;
    *why = "its createType is not streamOptimized";
    if (strcmp(type, "streamOptimized") != 0)
        return 0;
    n = read_full(file, tail, SECTOR, file->size - SECTOR);
    if (n < 0)
        return (int)n;
    *why = "it has no end-of-stream marker";
    for (unsigned i = 0; i < SECTOR; i++)
        if (n != SECTOR || tail[i])
            return 0;
    return 1;
}

uint32_t pkg_name_seed(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int pkg_decode(struct cfs_source *file, enum cfs_fmt fmt, const char *label,
               struct cfs_source **disk)
{
    switch (fmt) {
    case CFS_FMT_QCOW2:
        return qcow2_open(file, label, disk);
    case CFS_FMT_VMDK_STREAM:
    case CFS_FMT_VMDK_SPARSE:
        return vmdk_open(file, label, disk);
    case CFS_FMT_VHD:
        return vhd_open(file, label, disk);
    case CFS_FMT_RAW:
        *disk = file; /* the bytes are the guest disk */
        return 0;
    default:
        cfs_source_close(file);
        return -EINVAL;
    }
}

static uint64_t populated(const struct cfs_source *disk)
{
    uint64_t grains =
        disk->alloc ? disk->alloc->n_alloc : (disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    return grains << CFS_GRAIN_SHIFT;
}

int pkg_disk_open(struct cfs_source *content, uint64_t off, uint64_t len, enum cfs_fmt fmt,
                  const char *file_name, int zip, const char *label, struct pkg_disk *out)
{
    struct cfs_source *file = NULL, *disk = NULL;
    const char *why = "";
    int err;

    memset(out, 0, sizeof *out);
    if (len == 0) {
        cfs_log_error("%s: an empty file is not a disk", label);
        return -EINVAL;
    }
    err = cfs_slice_source_open(content, off, len, &file);
    if (err)
        goto failed;
    int fit = fmt == CFS_FMT_VMDK_STREAM ? stream_fit(file, &why) : 0;
    if (fit < 0) {
        cfs_source_close(file);
        err = fit;
        goto failed;
    }
    if (fmt == CFS_FMT_VMDK_STREAM && !fit)
        cfs_log_info("%s: a streamOptimized VMDK vCD would refuse (%s): converted", label, why);
    /* The decoder owns file from here; it also checks a stream sent as is. */
    err = pkg_decode(file, fmt, label, &disk);
    if (err)
        return err; /* logged by the decoder */
    if (fit) {
        out->capacity = disk->size;
        out->populated = populated(disk);
        cfs_source_close(disk);
        err = cfs_slice_source_open(content, off, len, &out->src);
        if (err)
            goto failed;
        return 0;
    }
    /* The view rounds the capacity up to whole grains (formats.md §3.5);
     * the descriptor must say the same. */
    out->capacity = (disk->size + CFS_GRAIN_BYTES - 1) & ~(uint64_t)(CFS_GRAIN_BYTES - 1);
    if (out->capacity == 0)
        out->capacity = CFS_GRAIN_BYTES;
    out->populated = populated(disk);
    out->converted = true;
    return vmdk_stream_zip_open(disk, file_name, pkg_name_seed(file_name), "lsilogic", zip,
                                &out->src);
failed:
    cfs_log_error("%s: %s", label, strerror(-err));
    return err;
}

/* [A-Za-z0-9._-], a run of anything else one '_', no leading dot. */
static char *disk_file_name(const char *name)
{
    char base[NAME_MAX_BYTES + 1];
    size_t n = 0;
    bool alnum = false;
    for (const char *p = name; *p && n < NAME_MAX_BYTES; p++) {
        char c = *p;
        if (!pkg_plain_name((char[]){ c, '\0' }) || (n == 0 && c == '.')) {
            if (n > 0 && base[n - 1] == '_')
                continue;
            c = '_';
        }
        alnum |= (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        base[n++] = c;
    }
    base[n] = '\0';
    return cfs_printf("%s.vmdk", alnum ? base : "disk1");
}

/* A disk: one VMDK and the descriptor ovf_build makes for it. */
/* The source image's properties, "key\0value\0" pairs, as ovf_params.prop:
 * the generated OVF then carries its hw_* (disk bus, NIC, firmware). */
struct src_props {
    const char *v;
    size_t len;
};

static const char *src_prop(const void *ctx, const char *key)
{
    const struct src_props *sp = ctx;
    for (size_t off = 0; off < sp->len;) {
        const char *k = sp->v + off, *value = k + strlen(k) + 1;
        if (strcmp(k, key) == 0)
            return value;
        off = (size_t)(value - sp->v) + strlen(value) + 1;
    }
    return NULL;
}

static int package_disk(struct cfs_source *content, enum cfs_fmt fmt, const char *name,
                        const struct ovf_defaults *ovf, const struct src_props *sp, int zip,
                        const char *label, struct cfs_package *out)
{
    struct pkg_disk d;
    char *href = disk_file_name(name);
    if (!href)
        return -ENOMEM;
    int err = pkg_disk_open(content, 0, content->size, fmt, href, zip, label, &d);
    if (err) {
        free(href);
        return err;
    }
    out->files[0].href = href;
    out->files[0].src = d.src;
    out->n_files = 1;
    struct ovf_params p = {
        .name = name,
        .vmdk_name = href,
        .vmdk_size = d.src->size,
        .capacity = d.capacity,
        .populated = d.populated,
        .prop = sp->v ? src_prop : NULL,
        .prop_ctx = sp,
        .defaults = ovf,
    };
    err = ovf_build(&p, &out->ovf, &out->warnings);
    if (err) {
        cfs_log_error("%s: cannot build its OVF descriptor: %s", label, strerror(-err));
        return err;
    }
    out->ovf_len = strlen(out->ovf);
    if (out->warnings)
        cfs_log_warn("%s: the OVF's hardware may not suit this guest: %s", label, out->warnings);
    return 0;
}

/* What sniffs as raw but is not a guest disk: a tar without an .ovf, or
 * an image or archive format cloudfs does not decode. Sent as a raw disk,
 * it would fail only at the import, after the whole upload. */
static const char *not_raw(struct cfs_source *content)
{
    static const struct {
        size_t off, len;
        const char *magic, *what;
    } magics[] = {
        { 0, 8, "vhdxfile", "a VHDX image (not supported)" },
        { 64, 4, "\x7f\x10\xda\xbe", "a VirtualBox VDI image (not supported)" },
        { 0, 4, "QFI\xfb", "a QED image (not supported)" },
        { 0, 4, "COWD", "an ESX vmfsSparse extent (not supported)" },
        { 0, 2, "\x1f\x8b", "gzip-compressed: decompress it first" },
        { 0, 6,
          "\xfd"
          "7zXZ\0",
          "xz-compressed: decompress it first" },
        { 0, 4, "\x28\xb5\x2f\xfd", "zstd-compressed: decompress it first" },
        { 0, 3, "BZh", "bzip2-compressed: decompress it first" },
    };
    unsigned char h[SECTOR];
    ssize_t n = read_full(content, h, SECTOR, 0);
    if (n == SECTOR && cfs_sniff_tar_header(h, SECTOR))
        return "a tar archive without an .ovf descriptor is not an OVA";
    for (size_t i = 0; n > 0 && i < CFS_ARRAY_SIZE(magics); i++)
        if ((size_t)n >= magics[i].off + magics[i].len &&
            memcmp(h + magics[i].off, magics[i].magic, magics[i].len) == 0)
            return magics[i].what;
    return NULL;
}

int cfs_package_make(struct cfs_source *content, const char *fname, const char *name,
                     const struct ovf_defaults *ovf, const char *props, size_t props_len, int zip,
                     const char *label, struct cfs_package *out)
{
    const struct src_props sp = { props, props ? props_len : 0 };
    enum cfs_fmt fmt;
    const char *why;
    char name_why[300];
    size_t base_len;
    int err;

    memset(out, 0, sizeof *out);
    err = cfs_sniff(content, &fmt);
    if (err) {
        cfs_log_error("%s: reading it: %s", label, strerror(-err));
        return err;
    }
    /* Raw is what no format claims, a text file too: only a raw name says
     * that such bytes are meant as a disk. */
    if (fname && cfs_fmt_fits_name(fname, fmt, true, &base_len, name_why, sizeof name_why)) {
        cfs_log_error("upload of %s refused: %s", label, name_why);
        return -EINVAL;
    }
    switch (fmt) {
    case CFS_FMT_OVF:
        cfs_log_error("%s: an .ovf descriptor alone cannot be imported: copy the .ova, or the disk",
                      label);
        return -EINVAL;
    case CFS_FMT_VMDK_DESC:
        cfs_log_error("%s: a descriptor-only VMDK: its extents are not here; copy a monolithic or "
                      "streamOptimized VMDK",
                      label);
        return -EINVAL;
    case CFS_FMT_ISO:
        /* A raw image that holds an ISO 9660 file system is still a disk:
         * the VM sees it as one. (vCD's media items would take it as a CD,
         * but a catalog directory holds templates.) */
        cfs_log_info("%s: an ISO 9660 image: imported as a raw disk", label);
        err = package_disk(content, CFS_FMT_RAW, name, ovf, &sp, zip, label, out);
        break;
    case CFS_FMT_OVA:
        err = pkg_ova(content, zip, label, out);
        break;
    case CFS_FMT_RAW:
        if ((why = not_raw(content))) {
            cfs_log_error("%s: %s", label, why);
            return -EINVAL;
        }
        /* fall through */
    default:
        err = package_disk(content, fmt, name, ovf, &sp, zip, label, out);
        break;
    }
    if (err)
        cfs_package_free(out);
    return err;
}

void cfs_package_free(struct cfs_package *p)
{
    for (size_t i = 0; i < p->n_files; i++) {
        free(p->files[i].href);
        cfs_source_close(p->files[i].src);
    }
    free(p->ovf);
    free(p->warnings);
    memset(p, 0, sizeof *p);
}
