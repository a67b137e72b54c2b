/* What package.c (disks, the generated descriptor) and package_ova.c (an
 * OVA's own descriptor, rewritten) share. Private to core/format/. */
#ifndef CFS_PACKAGE_PRIV_H
#define CFS_PACKAGE_PRIV_H

#include "package.h"

#define PKG_STREAM_FORMAT \
    "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"

/* One disk file of a package. */
struct pkg_disk {
    struct cfs_source *src; /* what is uploaded, exact size */
    uint64_t capacity;      /* bytes: the VMDK header's capacity */
    uint64_t populated;     /* bytes of allocated grains */
    bool converted;         /* src is a new streamOptimized VMDK */
};

/* The disk in [off, off + len) of content, sniffed as fmt: a
 * streamOptimized VMDK fit for vCD as is, anything decodable converted
 * (its descriptor names file_name). Refusals are logged once, naming
 * label. */
int pkg_disk_open(struct cfs_source *content, uint64_t off, uint64_t len, enum cfs_fmt fmt,
                  const char *file_name, int zip, const char *label, struct pkg_disk *out);

/* An OVA's package: its descriptor, with every file's size exact and the
 * converted disks' format rewritten. */
int pkg_ova(struct cfs_source *content, int zip, const char *label, struct cfs_package *out);

/* True for a name made of [A-Za-z0-9._-] only, not "." or "..". */
bool pkg_plain_name(const char *s);

/* The guest disk of file holding fmt (qcow2, VMDK, VHD decoded; raw as
 * it is); owns file, also on failure (-EINVAL for other formats). */
int pkg_decode(struct cfs_source *file, enum cfs_fmt fmt, const char *label,
               struct cfs_source **disk);

/* A seed for a generated disk's ids, stable per name (FNV-1a). */
uint32_t pkg_name_seed(const char *s);

/* sniff.c: the createType of a sparse VMDK's embedded descriptor, or "". */
int cfs_sniff_create_type(struct cfs_source *src, char *type, size_t cap);

/* sniff.c: a ustar header whose checksum holds. */
bool cfs_sniff_tar_header(const unsigned char *h, size_t n);

#endif
