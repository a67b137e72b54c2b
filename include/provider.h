/* The provider interface: one table of callbacks per kind of cloud
 * (nbdkit's struct nbdkit_plugin is the model). fs/ knows clouds only
 * through this table. */
#ifndef CFS_PROVIDER_H
#define CFS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "format.h"
#include "source.h"

/* One listed cloud object (an image, a template's file). */
struct cfs_object {
    char *id;   /* the cloud's id: letters, digits, '-' only */
    char *name; /* the cloud's name, any bytes but NUL */
    char *ext;  /* file extension of the stored bytes: "qcow2", "raw", ... */
    uint64_t size;
    struct timespec mtime, ctime;
    bool immutable;    /* content never changes: the kernel may cache it */
    bool is_dir;       /* a directory (a vCD catalog): listed as dir "<dir>/<name>" */
    bool no_views;     /* show the stored bytes only, no converted views */
    bool size_at_open; /* size unknown until open() (a vCD template before its
                          export): stat says 0 and is not cached; open() finds it */
    char *digest_algo; /* the cloud's digest of the content, or NULL */
    char *digest_hex;
    /* Metadata shown as extended attributes: "name\0value\0" pairs, names
     * with their namespace ("user.glance.os_distro"). */
    char *xattrs;
    size_t xattrs_len;
    /* The virtual hardware of the machine the object is (a Nova server's
     * flavor), 0 where unknown: the .ovf view and the OVF of a copy into
     * vCD take vCPUs and memory from it, a copy into Glance min_ram and
     * min_disk. */
    struct cfs_vm_hw {
        unsigned cpus, memory_mb, disk_gb;
    } hw;
};

/* The value of an extended attribute of obj, or NULL. */
const char *cfs_object_xattr(const struct cfs_object *obj, const char *name);

/* Appends name=value to obj's attributes. 0 or -ENOMEM. */
int cfs_object_add_xattr(struct cfs_object *obj, const char *name, const char *value);

struct cfs_object_list {
    struct cfs_object *v;
    size_t n;
};

void cfs_object_list_free(struct cfs_object_list *list);

/* Frees obj's members and zeroes it. */
void cfs_object_clear(struct cfs_object *obj);

/* Appends obj (its members are the list's from then on); *cap is the
 * list's allocated length. 0, -ENOMEM, or -EFBIG past CFS_LIST_MAX, which
 * bounds what a hostile server can make one listing hold. */
#define CFS_LIST_MAX 1000000
int cfs_object_list_add(struct cfs_object_list *list, size_t *cap, const struct cfs_object *obj);

/* The Glance properties of the hardware in info (a VMware VM's: a vCD
 * template's OVF, a vSphere VM's devices) for disk number disk (an index
 * of info->disks), as obj's user.cloudfs.props.<key> attributes, which
 * copies into Glance and the .ovf view read, and what has no equivalent
 * as user.cloudfs.warnings (core/format/ovf_glance.c). 0 or -ENOMEM. */
int cfs_object_add_hw(struct cfs_object *obj, const struct ovf_info *info, size_t disk);

struct cfs_cloud;
struct ovf_defaults;
struct cfs_marker_self;

/* A file written into the mount, handed to the provider on close. */
struct cfs_put {
    const char *dir;            /* "images", "catalogs/migrated" */
    const char *fname;          /* the file name written: "centos7.vmdk" */
    struct cfs_source *content; /* the bytes written, exact size; not owned */
    /* user.* attributes set on the file before close: "name\0value\0"... */
    const char *xattrs;
    size_t xattrs_len;
    /* OVF hardware when a descriptor must be generated (mount options). */
    const struct ovf_defaults *ovf;
    /* DEFLATE level (libdeflate) of the grains of a disk converted to VMDK for the upload
     * (vmdk_compress=): 0 stored, else compressed (fewer bytes, more CPU). */
    int vmdk_zip;
    /* A disk converted to VHD for the upload (the target's name asks for .vhd): vhd=, vhd_azure. */
    enum vhd_kind vhd;
    bool vhd_azure;
    const char *label; /* for log lines: the path in the mount */
    /* Properties of the object content was copied from (a view of another
     * cloud's image: os_type, os_distro, min_ram, min_disk, hw_* ...), as
     * "key\0value\0" pairs without namespace, or NULL. Carried over where
     * the target has such properties. */
    const char *src_props;
    size_t src_props_len;
    /* What the source's hardware has no equivalent for, "; "-separated
     * (its user.cloudfs.warnings), or NULL: logged once and kept with the
     * new object where the target can (Glance: user.cloudfs.warnings). */
    const char *src_warnings;
    /* The digest of the object content is, byte for byte, a copy of (a
     * native file copied between clouds), which confirm() proves it read;
     * NULL otherwise. A target that stores the same digest may compare it
     * with this instead of hashing every byte again. */
    const char *src_digest_algo, *src_digest_hex;
    /* allow_delete: an object of the same name is replaced (the new one is
     * made first, the old one deleted after success); else EEXIST. */
    bool replace;
    /* Stored on the object while it is being made (include/marker.h), so a
     * later mount can find what a killed one left half-made; removed (or
     * made harmless) once the object is complete. */
    const char *marker;
    /* Polled (about once a second, and between requests): true aborts the
     * upload, cleans up, and put returns -ECANCELED. NULL: never. */
    bool (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* Called once every byte of content has been sent, before the object
     * is complete or replaces another: the content's source must prove it
     * read what its cloud's digest covers (a copy between clouds). Nonzero
     * (a negative errno, logged by it) fails the upload, which removes the
     * new object. NULL: nothing to confirm. */
    int (*confirm)(void *ctx);
    void *confirm_ctx;
};

/* open() flags: the bytes go to a decoder, which reads metadata here and
 * there before it reads data. */
#define CFS_OPEN_DECODE 1u
/* A copy between clouds reads the object once: through the block cache
 * only if the cache holds it verified; nothing is stored for it. */
#define CFS_OPEN_NO_FILL 2u
/* The caller checks the bytes against the object's digest itself
 * (include/verify.h): the download need not hash them a second time. */
#define CFS_OPEN_CHECKED 4u
/* verify=none: nobody checks the bytes, so none of them may be stored in
 * the block cache, whose chunks later mounts trust as verified. */
#define CFS_OPEN_UNCHECKED (CFS_OPEN_CHECKED | CFS_OPEN_NO_FILL)

struct cfs_provider {
    const char *type;        /* "openstack" */
    const char *const *dirs; /* directories under /<cloud>/, NULL-terminated */
    /* The views (enum cfs_view bits) its files show when the mount says no
     * views=; 0: the mount's default (CFS_VIEWS_DEFAULT). */
    unsigned default_views;
    /* Must not touch the network: clouds authenticate on first use. */
    int (*create)(const struct cfs_cloud_config *cfg, struct cfs_cloud **out);
    void (*destroy)(struct cfs_cloud *cloud);
    /* Every object of a directory (all pages). 0 or -errno. */
    int (*list)(struct cfs_cloud *cloud, const char *dir, struct cfs_object_list *out);
    /* A byte source over an object's stored bytes. 0 or -errno. */
    int (*open)(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                unsigned flags, struct cfs_source **out);
    /* May files be created in dir? 0, -EROFS (a provider that cannot
     * write, a read-only catalog) or -EACCES. NULL: never. */
    int (*can_put)(struct cfs_cloud *cloud, const char *dir);
    /* Creates the cloud object for a file written into dir; synchronous:
     * returns once the object is usable (vCD template status 8, Glance
     * image active). On failure nothing half-made is left behind, one log
     * line names the cause, and the result is a precise -errno (DESIGN.md
     * §6: EEXIST for a duplicate name, EINVAL for content that cannot be
     * imported, EIO, ETIMEDOUT, EACCES, ENOSPC/EDQUOT ...). */
    int (*put)(struct cfs_cloud *cloud, const struct cfs_put *req);
    /* Deletes an object (rm, with the allow_delete option). 0 or -errno. */
    int (*remove)(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj);
    /* Renames an object within dir (mv in one directory): the same object
     * and id under new_name, the cloud's spelling without an extension.
     * Synchronous; one log line; on failure the object keeps its name.
     * 0 or -errno (EEXIST: the name is taken). NULL: EPERM. */
    int (*rename)(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                  const char *new_name);
    /* Stores a modification time on the object (a Glance property, vCD
     * metadata) that later listings report as its mtime, so a second
     * rsync -a finds the file unchanged. 0 or -errno. */
    int (*set_mtime)(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                     const struct timespec *mtime);
    /* Removes what uploads of an earlier mount left half-made: objects whose
     * marker cfs_marker_stale() judges stale for this mount, one log line
     * each. Called once at mount, in the background, for one cloud of
     * each scope (cfs_cloud.scope). 0 or -errno. */
    int (*sweep)(struct cfs_cloud *cloud, const struct cfs_marker_self *self);
};

/* What fs/ gives providers that must prepare an object before its bytes
 * can be read (a Nova server's snapshot): bounds from the mount options,
 * and the mount's transfer registry, where the preparation is shown while
 * it runs (fs/transfers.h, direction "snapshot"). */
struct cfs_prepare {
    unsigned timeout_s; /* snapshot_timeout=: the object must be ready by then */
    unsigned reuse_s;   /* snapshot_reuse=: a preparation this young is reused */
    /* path: what is prepared, as a path in the mount ("/os/servers/web1").
     * begin returns a handle for progress and end, or NULL. */
    void *(*begin)(const char *path);
    void (*progress)(void *t, uint64_t done);
    void (*end)(void *t, int err);
};

/* Providers embed this as their first member. */
struct cfs_cloud {
    const struct cfs_provider *provider;
    char *name;
    /* The mount's cache directory (spool and download files), set by fs/
     * after create() and before any other call; not owned. */
    const char *cache_dir;
    /* Set with cache_dir: the free space files written there must leave
     * (cache_reserve=), and the bytes of downloads kept there for later
     * opens (cache_size=, or its default). */
    uint64_t cache_reserve_bytes;
    uint64_t cache_keep_bytes;
    /* The on-disk block cache of immutable images, or NULL; not owned. */
    struct cfs_cache *block_cache;
    /* Set with cache_dir; NULL: defaults (600 s, 300 s) and no registry. */
    const struct cfs_prepare *prepare;
    /* Which objects the cloud sees, for the sweep at mount: clouds of one
     * mount with equal scopes (the same Keystone project and image
     * endpoint, the same vCD url and org) see the same objects, and one
     * sweep serves them all. Set by create(), freed by destroy(); NULL:
     * a scope of its own. */
    char *scope;
};

const struct cfs_provider *cfs_provider_find(const char *type);

#endif
