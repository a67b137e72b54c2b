/* The state of one mount: options and the clouds it shows. */
#ifndef CFS_MOUNT_H
#define CFS_MOUNT_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "dircache.h"
#include "format.h"
#include "marker.h"
#include "options.h"
#include "provider.h"

struct cfs_mcloud {
    struct cfs_cloud *cloud;
    size_t n_dirs; /* the provider's directories */
    struct cfs_dircache **dirs;
};

struct cfs_subdirs;
struct cfs_pending_table;
struct cfs_opensize;

/* vmdk_compress=auto: decided per upload (cfs_vmdk_zip). */
#define VMDK_COMPRESS_AUTO (-1)

struct cfs_mount {
    struct cfs_options opts;
    char *mountpoint;
    struct cfs_mcloud *clouds; /* sorted by name */
    size_t n_clouds;
    uid_t uid;
    gid_t gid;
    mode_t umask; /* umask=: cleared from every mode the mount shows */
    struct timespec started;
    unsigned views;                /* enum cfs_view bits shown with each image */
    struct ovf_defaults ovf;       /* OVF hardware when an image says nothing */
    enum vhd_kind vhd;             /* .vhd views: fixed or dynamic */
    int vmdk_compress;             /* DEFLATE level for vCD uploads, or VMDK_COMPRESS_AUTO */
    bool verify;                   /* reads are checked against the clouds' digests (verify=all) */
    struct cfs_viewinfo *viewinfo; /* sizes of views, by image */
    struct cfs_verified *verified; /* images read whole and checked */
    struct cfs_subdirs *subdirs;   /* listings of catalogs and other subdirectories */
    struct cfs_pending_table *pending;  /* files being written */
    struct cfs_opensize *opensize;      /* sizes found by open() (size_at_open objects) */
    struct cfs_cache *block_cache;      /* chunks of immutable images on disk, or NULL */
    char *cache_dir;                    /* spool files (and the providers' downloads) */
    uint64_t cache_reserve_bytes;       /* free space writes leave on the cache's file system */
    uint64_t cache_size_bytes;          /* cache_size= or its default: the block cache's cap */
    struct cfs_prepare prepare;         /* given to the clouds (snapshot_* options) */
    struct cfs_marker_self marker_self; /* this mount, as upload markers name it */
    char marker[CFS_MARKER_MAX];        /* the marker of this mount's uploads (cfs_put.marker) */
};

/* A mode the mount shows: base (0444 for files, 0555 for directories,
 * 0777 where files can be created, 0666 while written) less umask=. */
static inline mode_t cfs_mount_mode(const struct cfs_mount *m, mode_t base)
{
    return base & ~m->umask;
}

#endif
