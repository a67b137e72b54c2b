/* What a vCD import needs, made from whatever bytes a user copied in
 * (DESIGN.md §5, ref/vcd-api.md §5, §13): an OVF 1.x descriptor and the
 * files it references, every disk a streamOptimized VMDK of exact size.
 * Sniffing decides by content, never by file name. */
#ifndef CFS_PACKAGE_H
#define CFS_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "source.h"

/* What a file's bytes are (cfs_sniff). */
enum cfs_fmt {
    CFS_FMT_RAW, /* none of the below: a raw disk */
    CFS_FMT_QCOW2,
    CFS_FMT_VMDK_STREAM, /* sparse VMDK, createType streamOptimized */
    CFS_FMT_VMDK_SPARSE, /* sparse VMDK, any other createType (monolithicSparse) */
    CFS_FMT_VMDK_DESC,   /* a text descriptor of extents elsewhere: unusable alone */
    CFS_FMT_VHD,         /* fixed or dynamic */
    CFS_FMT_OVA,         /* a tar holding an .ovf */
    CFS_FMT_OVF,         /* an OVF descriptor alone */
    CFS_FMT_ISO,         /* an ISO 9660 image */
};

/* "raw", "qcow2", "vmdk", "vmdk", "vmdk", "vhd", "ova", "ovf", "iso". */
const char *cfs_fmt_ext(enum cfs_fmt f);

/* Looks at a few sectors of src (start and end). 0 or a read's -errno. */
int cfs_sniff(struct cfs_source *src, enum cfs_fmt *out);

/* Does fname's extension agree with content of format fmt (fmt_name.c)?
 * raw_named_only: raw content (also what no format claims, a text file)
 * only under .raw, .img or .iso. *base_len: the name without a known
 * extension. 0, or -EINVAL with the reason in why. */
int cfs_fmt_fits_name(const char *fname, enum cfs_fmt fmt, bool raw_named_only, size_t *base_len,
                      char *why, size_t why_len);

/* The object a file written as fname makes is named fname without its
 * image extension (those above, and .ovf): "centos7.vmdk" -> "centos7".
 * malloc'd, or NULL. */
char *cfs_fmt_base_name(const char *fname);

struct cfs_package_file {
    char *href;             /* ovf:href: [A-Za-z0-9._-] only */
    struct cfs_source *src; /* exact size = the descriptor's ovf:size */
};

struct cfs_package {
    char *ovf; /* the descriptor, NUL-terminated; every ovf:size exact */
    size_t ovf_len;
    struct cfs_package_file files[OVF_MAX_ITEMS];
    size_t n_files;
    char *warnings; /* OVF mapping warnings, or NULL */
};

/* Makes the package for content (not owned: it must stay open until the
 * package is freed). streamOptimized VMDK is sent as is; monolithicSparse
 * VMDK, qcow2, raw and VHD are converted to streamOptimized through the
 * views; an OVA is unpacked and its own OVF used (disks that are not
 * streamOptimized converted, the references rewritten). name is the
 * template's name (the generated OVF's VM, the disk's file name); fname
 * the file written, whose name the content must agree with
 * (cfs_fmt_fits_name: raw only as .raw or .img), or NULL; ovf the
 * hardware for a generated descriptor, which props ("key\0value\0" pairs
 * of the source image's properties, or NULL) override as the .ovf view's
 * mapping does (hw_disk_bus, hw_vif_model, hw_firmware_type, ...); zip the DEFLATE level of
 * converted disks' grains (0: stored, the exact size without reading; 1..12: each grain compressed
 * once at this call to learn the size, for slow links). -EINVAL with one log line naming label for
 * what cannot be imported (a lone OVF: "copy the .ova or the disk"; a descriptor-only VMDK; an OVA
 * without OVF or with missing files), or a decoder's error. */
int cfs_package_make(struct cfs_source *content, const char *fname, const char *name,
                     const struct ovf_defaults *ovf, const char *props, size_t props_len, int zip,
                     const char *label, struct cfs_package *out);
void cfs_package_free(struct cfs_package *p);

/* One disk of an OVA (cfs_ova_disks): a file of the archive. */
struct cfs_ova_disk {
    char *href;        /* its name in the archive and the descriptor */
    uint64_t off, len; /* where its bytes lie in the archive */
    enum cfs_fmt fmt;  /* what they are (an ISO 9660 image: raw) */
};

/* The disks of the OVA in content (at most OVF_MAX_ITEMS), in the order
 * of its descriptor's DiskSection; *ovf, when not NULL, the descriptor
 * (malloc'd, NUL-terminated). -EINVAL with one log line naming label: not
 * a tar, no .ovf, a file it references missing, a disk that is no disk
 * image, no disk at all; or a read's -errno. */
int cfs_ova_disks(struct cfs_source *content, const char *label, struct cfs_ova_disk *out,
                  size_t *n, char **ovf);
void cfs_ova_disks_free(struct cfs_ova_disk *disks, size_t *n);

/* A source over inner (owned from the call on) that calls on_close(ctx)
 * once inner is closed. 0 or -ENOMEM (inner stays the caller's). */
int cfs_hook_source_open(struct cfs_source *inner, void (*on_close)(void *ctx), void *ctx,
                         struct cfs_source **out);

/* A source over [off, off + len) of parent, which it does not own. */
int cfs_slice_source_open(struct cfs_source *parent, uint64_t off, uint64_t len,
                          struct cfs_source **out);

#endif
