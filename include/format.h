/* Disk formats: decoders (an image file's bytes in, a guest disk out) and
 * views (a guest disk in, a file of another format out), all byte sources
 * stacked on byte sources (DESIGN.md §2, §4; ref/formats.md).
 *
 * Ownership: each *_open takes ownership of the source(s) it is given and
 * closes them when closed itself, also when it fails. Every size is exact
 * when *_open returns; nothing but metadata is read before a pread. */
#ifndef CFS_FORMAT_H
#define CFS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* ---- decoders ---- */

/* qcow2 v2/v3 (ref/formats.md §1): file is the image's bytes; *disk the
 * guest disk, size = virtual size, alloc = grains holding data or
 * compressed clusters, built from the header, L1 and L2 tables only.
 * Refused with one log line naming label: -ENOTSUP (encryption, backing
 * file, external data file, unknown features or compression), -EIO
 * (corrupt bit, a table or pointer failing the checks of §1.8). */
int qcow2_open(struct cfs_source *file, const char *label, struct cfs_source **disk);

/* True if the first bytes (at least 4) are a qcow2 header's magic. */
bool qcow2_probe(const void *head, size_t len);

/* VMDK hosted sparse extents (ref/formats.md §3): monolithicSparse and
 * streamOptimized, with the grain directory in the header, or at the end
 * (GD_AT_END: footer), or without tables (a stream: indexed by one scan of
 * the grain markers). A descriptor-only VMDK (flat/split extents) is
 * refused. Same contract as qcow2_open: allocation from metadata (or the
 * one scan), every bound checked, one log line per refusal. */
int vmdk_open(struct cfs_source *file, const char *label, struct cfs_source **disk);
bool vmdk_probe(const void *head, size_t len);

/* A VMDK text descriptor (vmdk_desc.c): the disk.vmdk a datastore keeps
 * beside its extents (disk-flat.vmdk). Extent files are plain names in the
 * descriptor's directory (one with a '/' is refused). */
#define VMDK_DESC_MAX_BYTES   (64u << 10)
#define VMDK_DESC_MAX_EXTENTS 64
struct vmdk_extent {
    bool writable;    /* RW (else RDONLY, NOACCESS) */
    uint64_t sectors; /* of 512 bytes */
    char type[16];    /* FLAT, VMFS, SPARSE, VMFSSPARSE, SESPARSE, ZERO, ... */
    char file[256];   /* "" for ZERO */
    uint64_t offset;  /* sectors into file (FLAT) */
};
struct vmdk_desc {
    char create_type[64]; /* "vmfs", "monolithicFlat", "vmfsSparse", ... */
    bool has_parent;      /* parentCID other than ffffffff: a delta disk */
    char parent_hint[256];
    struct vmdk_extent extents[VMDK_DESC_MAX_EXTENTS];
    size_t n_extents;
};
/* 0, -EINVAL (not a descriptor, a hostile line; one log line naming
 * label), -ENOMEM. */
int vmdk_desc_parse(const char *text, size_t len, const char *label, struct vmdk_desc *out);

/* Checks a streamOptimized VMDK as its bytes arrive (vmdk_check.c), for a
 * file that comes with no digest: header, descriptor, markers up to the
 * end-of-stream marker, each grain's zlib stream and Adler-32; then, once
 * the file is whole, its grain tables against the records. expect is the
 * file's size (0: unknown). feed, end and tables return 0 or -EIO (one log
 * line naming label and the cause) or -ENOMEM; an error is sticky. */
struct vmdk_check;
int vmdk_check_new(const char *label, uint64_t expect, struct vmdk_check **out);
int vmdk_check_feed(struct vmdk_check *k, const void *data, size_t len);
int vmdk_check_end(struct vmdk_check *k);
int vmdk_check_tables(struct vmdk_check *k, struct cfs_source *file);
void vmdk_check_free(struct vmdk_check *k);

/* VHD fixed and dynamic (ref/formats.md §4); differencing, a bad footer or
 * header checksum refused. file->size must be the whole file (the footer
 * of a fixed VHD is its last 512 bytes). */
int vhd_open(struct cfs_source *file, const char *label, struct cfs_source **disk);
/* True if a footer/header cookie "conectix" starts head (dynamic VHDs and
 * the footer copy); fixed VHDs are known by their last 512 bytes. */
bool vhd_probe(const void *head, size_t len);

/* A disk with no allocation map (a flat disk read over HTTP) learns one by
 * being read once, whole, in order (zero_scan.c): the grains that hold a
 * byte other than zero. For a copy into a format that stores only data
 * (qcow2, VMDK, a dynamic VHD), whose layout must be known before its
 * first byte. *out serves disk's bytes with that map; it takes ownership
 * of disk. The read stops with -ECANCELED once cancelled(ctx) says so.
 * One log line names label, the data found and the time taken. */
int cfs_zero_scan_open(struct cfs_source *disk, const char *label, bool (*cancelled)(void *ctx),
                       void *ctx, struct cfs_source **out);

/* ---- views ---- */

/* streamOptimized VMDK, Layout A of ref/formats.md §3.6: header, embedded
 * descriptor, GD and GTs, one stored-DEFLATE record per allocated grain,
 * end-of-stream marker. file_name is the name the .vmdk is shown under
 * (its descriptor names it); cid seeds the content ids (stable per image);
 * adapter is ddb.adapterType ("lsilogic", "ide", ...). */
int vmdk_stream_open(struct cfs_source *disk, const char *file_name, uint32_t cid,
                     const char *adapter, struct cfs_source **out);
/* The same with grains DEFLATE-compressed at libdeflate level 1..12 (0: stored,
 * as vmdk_stream_open): open compresses every allocated grain once on all
 * cores to learn the exact size; reads compress them again (ref/formats.md
 * §3.9). For uploads over slow links; a read costs CPU, not disk. */
int vmdk_stream_zip_open(struct cfs_source *disk, const char *file_name, uint32_t cid,
                         const char *adapter, int level, struct cfs_source **out);

/* VHD view (ref/formats.md §4.1-4.6): fixed (raw + footer) or dynamic
 * (footer copy, header, BAT, 2 MiB blocks with bitmaps, footer), creator
 * "qem2" so that qemu takes the exact size; azure rounds the size up to a
 * whole MiB (fixed only). seed makes the UUID and timestamp stable per image. */
enum vhd_kind { VHD_FIXED, VHD_DYNAMIC };
int vhd_view_open(struct cfs_source *disk, enum vhd_kind kind, bool azure, uint32_t seed,
                  struct cfs_source **out);

/* qcow2 view of a guest disk (for images whose native format is not
 * qcow2): v3, 64 KiB clusters, layout computed from the allocation map, so
 * the size is exact up front; clean for qemu-img check and qcowinfo. */
int qcow2_view_open(struct cfs_source *disk, struct cfs_source **out);

/* ustar archive of members, in order (ref/formats.md §6): the OVA view. */
struct ova_member {
    const char *name;          /* file name in the archive, <= 100 bytes */
    struct cfs_source *source; /* owned by the archive from the call on */
};
int ova_open(const struct ova_member *members, size_t n, uint64_t mtime, struct cfs_source **out);

/* The OVF 1.x descriptor of one disk (ref/formats.md §5, DESIGN.md §4). */
struct ovf_defaults {
    unsigned cpus; /* when the image says nothing */
    unsigned memory_mb;
    unsigned hw_version; /* vmx-NN */
    const char *scsi;    /* controller when hw_scsi_model is absent: pvscsi */
    const char *nic;     /* NIC when hw_vif_model is absent: vmxnet3 */
};

struct ovf_params {
    const char *name;      /* the VM's name */
    const char *vmdk_name; /* the disk's file name, referenced by the descriptor */
    uint64_t vmdk_size;    /* exact bytes of that file */
    uint64_t capacity;     /* virtual disk size in bytes (VMDK capacity * 512) */
    uint64_t populated;    /* bytes of data (allocated grains * 64 KiB) */
    /* The image's properties (Glance: os_type, os_distro, min_ram,
     * hw_disk_bus, hw_scsi_model, hw_vif_model, hw_firmware_type, ...). */
    const char *(*prop)(const void *ctx, const char *key);
    const void *prop_ctx;
    const struct ovf_defaults *defaults;
};

/* Builds the descriptor. *xml is NUL-terminated, malloc'd; *warnings is a
 * malloc'd text of "; "-separated warnings (a guest that may not boot on
 * the mapped hardware), or NULL when there is none. 0 or -errno. */
int ovf_build(const struct ovf_params *p, char **xml, char **warnings);

/* ---- readers of what users bring (the write path: an OVA copied in) ---- */

/* One member of a tar archive (ustar, with GNU base-256 sizes and pax
 * headers skipped): its name and where its data lies in the archive. */
struct tar_member {
    char name[256];
    uint64_t offset; /* of the data, in the archive */
    uint64_t size;
};

/* Lists the regular-file members of the archive in src (at most max).
 * Checked: header checksums, numeric fields, member data inside the
 * archive, names without directories, "." or "..". 0, -EINVAL (not a tar
 * or a hostile one, logged with label), -E2BIG (more than max members). */
int tar_list(struct cfs_source *src, const char *label, struct tar_member *out, size_t max,
             size_t *n);

/* What an OVF descriptor says about its files and disks (ref/formats.md
 * §5), parsed with no network and no entity expansion. */
#define OVF_MAX_ITEMS 16
struct ovf_file {
    char *id, *href;
    uint64_t size; /* 0 when not given */
};
struct ovf_disk {
    char *disk_id, *file_ref, *format;
    uint64_t capacity; /* bytes */
    /* The controller the disk hangs on (its Item's Parent), in the
     * VirtualSystem of disk 0: CIM ResourceType 5 IDE, 6 SCSI, 20 SATA
     * (0: not found) and its ResourceSubType ("lsilogic", "VirtualSCSI",
     * "vmware.sata.ahci" ...) or NULL. */
    int controller;
    char *controller_subtype;
};
/* The virtual hardware of the VirtualSystem that holds disk 0 (or the
 * first one; also inside a VirtualSystemCollection, as vCD exports it),
 * as VMware writes it; 0, false or NULL where the descriptor says nothing. */
struct ovf_vm {
    unsigned cpus;             /* ResourceType 3 VirtualQuantity */
    unsigned cores_per_socket; /* its vmw:CoresPerSocket */
    uint64_t memory_mb;        /* ResourceType 4, in MiB (rounded up) */
    char *nic;                 /* ResourceSubType of the first NIC (10) */
    bool efi;                  /* vmw:Config firmware=efi */
    bool secure_boot;          /* vmw:Config bootOptions.efiSecureBootEnabled=true */
    char *os_type;             /* OperatingSystemSection vmw:osType */
};
struct ovf_info {
    char *name; /* the VirtualSystem's Name, or NULL */
    struct ovf_file files[OVF_MAX_ITEMS];
    size_t n_files;
    struct ovf_disk disks[OVF_MAX_ITEMS];
    size_t n_disks;
    struct ovf_vm vm;
};

/* 0, -EINVAL (not OVF 1.x, a DOCTYPE, a reference that escapes the
 * package, ...; logged with label), -EFBIG (over 12 MiB, vCD's bound). */
int ovf_parse(const char *xml, size_t len, const char *label, struct ovf_info *out);
void ovf_info_free(struct ovf_info *info);

#endif
