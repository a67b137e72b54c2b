/* Which views an image offers and how a view is stacked on the image's
 * stored bytes (DESIGN.md §1, §4): decoder, then view. fs/ asks for a view
 * by kind and names; the formats stay behind this interface. */
#ifndef CFS_VIEWS_H
#define CFS_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "source.h"

enum cfs_view {
    CFS_VIEW_RAW,
    CFS_VIEW_VMDK,
    CFS_VIEW_VHD,
    CFS_VIEW_QCOW2,
    CFS_VIEW_OVF,
    CFS_VIEW_OVA,
    CFS_VIEW_COUNT
};

/* The extension of a view's file: "raw", "vmdk", "ovf", "ova". */
const char *cfs_view_ext(enum cfs_view v);

/* Parses a views= list ("vmdk:ovf:ova", "raw", "vhd", "qcow2", "all", "none"; ',' works when
 * escaped) into a bit mask of (1 << enum cfs_view). 0 or -EINVAL. */
int cfs_view_parse_list(const char *s, unsigned *mask);

/* The default list: vmdk, ovf, ova. */
#define CFS_VIEWS_DEFAULT ((1u << CFS_VIEW_VMDK) | (1u << CFS_VIEW_OVF) | (1u << CFS_VIEW_OVA))

/* True if an image stored as native_ext (its file extension: "qcow2",
 * "raw", "vmdk", "vhd") can be shown as view v: it can be decoded and v is
 * not the native format itself. An .ovf is offered only next to a .vmdk
 * view (it references one); the .ova holds its own. */
bool cfs_view_offered(enum cfs_view v, const char *native_ext);

struct cfs_view_spec {
    const char *base;      /* the view's file name without its extension */
    const char *vmdk_name; /* the .vmdk an .ovf view references */
    uint32_t cid;          /* stable per image: VMDK content ids */
    uint64_t mtime;        /* for the OVA's members */
    const char *label;     /* for log lines */
    /* The image's properties (hw_disk_bus, os_type, min_ram, ...). */
    const char *(*prop)(const void *ctx, const char *key);
    const void *prop_ctx;
    const struct ovf_defaults *defaults;
    /* The cloud's digest of the stored bytes (os_hash_algo, os_hash_value),
     * or NULL: a whole read of the view is checked against it. */
    const char *digest_algo;
    const char *digest_hex;
    enum vhd_kind vhd; /* .vhd views: fixed or dynamic */
    bool vhd_azure;    /* .vhd views: Azure's whole-MiB size */
};

/* True if ovf_build accepts these defaults (mount options are checked at
 * mount time, not at the first .ovf). */
bool cfs_ovf_defaults_valid(const struct ovf_defaults *d);

/* Opens view v over an image's stored bytes (file, in format native_ext;
 * owned from the call on). With a digest in spec, the bytes the view reads
 * are checked (include/verify.h): a whole read, and the view's finish(),
 * fail with EIO unless they match. *warnings, when not NULL, receives the OVF
 * warnings (malloc'd) or NULL. 0, -ENOTSUP (not decodable), or the
 * decoder's error. */
int cfs_view_open(struct cfs_source *file, const char *native_ext, enum cfs_view v,
                  const struct cfs_view_spec *spec, struct cfs_source **out, char **warnings);

#endif
