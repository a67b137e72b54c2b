/* One upload: the spool as a byte source, the user.* attributes set on
 * the file, the mount's OVF defaults, the hardware of an OVA's VM (as a
 * copied vCD template has it), then the provider's put(), seen in
 * the transfer registry (fs/transfers.h) while it runs. The provider logs
 * why it failed; this logs that an upload ran and how long it took. */
#include "vmdk_compress.h"
#include "pending_upload.h"
#include "forget.h"
#include "log.h"
#include "meter.h"
#include "mount.h"
#include "names.h"
#include "ops.h"
#include "ovf_glance.h"
#include "spool.h"
#include "transfers.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An object of the same name may just have been replaced: the kernel
 * must not keep the attributes of its files (by the listing before the
 * upload, which still shows it). */
static void forget_namesake(struct cfs_pending *p, const char *fname)
{
    const char *slash = strrchr(p->path, '/'), *dot = strrchr(fname, '.');
    size_t stem = dot && dot != fname ? (size_t)(dot - fname) : strlen(fname);
    char *dir = slash ? strndup(p->path, (size_t)(slash - p->path)) : NULL;
    if (dir)
        cfs_forget_object(p->dc, dir, NULL, fname, stem);
    free(dir);
}

/* A time set by utimensat while the file was written goes onto the new
 * object: the one listed under fname, else the one named like fname
 * without its extension (a vCD template made of x.qcow2). Failing here
 * does not fail the upload: the object is complete; a later rsync -a
 * only copies it again. */
static void store_mtime(struct cfs_pending *p, const char *fname, const char *label)
{
    struct cfs_cloud *cloud = cfs_dircache_cloud(p->dc);
    struct cfs_snapshot *snap;
    const struct cfs_object *obj = NULL;
    struct timespec t;

    if (!cfs_pending_mtime(p, &t) || !cloud->provider->set_mtime)
        return;
    cfs_dircache_invalidate(p->dc);
    if (cfs_dircache_get(p->dc, &snap) != 0)
        return;
    const struct cfs_entry *e = cfs_snapshot_find(snap, fname);
    const char *dot = strrchr(fname, '.');
    size_t stem = dot && dot != fname ? (size_t)(dot - fname) : strlen(fname);
    if (e)
        obj = e->obj;
    for (size_t i = 0; !obj && i < snap->objs.n; i++) {
        const struct cfs_object *o = &snap->objs.v[i];
        if (!o->is_dir && strlen(o->name) == stem && strncmp(o->name, fname, stem) == 0)
            obj = o;
    }
    int err = obj ? cloud->provider->set_mtime(cloud, cfs_dircache_dir(p->dc), obj, &t) : -ENOENT;
    if (err)
        cfs_log_warn("upload of %s: its modification time was not stored: %s", label,
                     strerror(err < 0 ? -err : EIO));
    cfs_snapshot_put(snap);
}

void cfs_upload_finish(struct cfs_pending *p, const char *fname, const char *label)
{
    forget_namesake(p, fname);
    store_mtime(p, fname, label);
}

int cfs_upload(struct cfs_pending *p, const char *fname, const struct ovf_defaults *ovf,
               const char *label)
{
    struct cfs_cloud *cloud = cfs_dircache_cloud(p->dc);
    /* Runs in a FUSE request: the mount is the context's. */
    const struct cfs_mount *m = fuse_get_context()->private_data;
    struct cfs_source *src = NULL, *metered = NULL;
    struct cfs_transfer *t = NULL;
    char *xattrs = NULL, *cloud_fname = NULL;
    size_t xattrs_len = 0;
    struct ovf_glance hw = { 0 };
    double t0 = cfs_now();
    int err;

    if (!cfs_pending_begin_upload(p))
        return -EBUSY;
    err = cfs_spool_source(p->fd, &src);
    if (!err)
        err = cfs_pending_xattrs_copy(p, &xattrs, &xattrs_len);
    if (!err && !(cloud_fname = cfs_name_to_cloud(fname)))
        err = -ENOMEM;
    if (!err)
        err = ovf_glance_of_ova(src, label, &hw);
    if (!err) {
        t = cfs_transfer_begin(label, NULL, CFS_XFER_UPLOAD, src->size);
        err = cfs_meter_source_open(src, t, &metered);
    }
    if (err) {
        cfs_log_error("upload of %s: cannot read its spool: %s", label, strerror(-err));
        goto out;
    }
    struct cfs_put req = {
        .dir = cfs_dircache_dir(p->dc),
        .fname = cloud_fname,
        .content = metered,
        .xattrs = xattrs,
        .xattrs_len = xattrs_len,
        .ovf = ovf,
        .vmdk_zip = cfs_vmdk_zip(m),
        .vhd = m->vhd,
        .vhd_azure = m->opts.vhd_azure,
        .label = label,
        .marker = m->marker,
        .cancelled = cfs_transfer_cancelled,
        .cancel_ctx = t,
        .replace = p->replace,
        .src_props = hw.props,
        .src_props_len = hw.props_len,
        .src_warnings = hw.warnings,
    };
    cfs_log_info("upload of %s: %llu bytes to %s/%s", label, (unsigned long long)src->size,
                 cloud->name, req.dir);
    err = cloud->provider->put ? cloud->provider->put(cloud, &req) : -EROFS;
    if (err > 0)
        err = -EIO;
    if (err)
        cfs_log_error("upload of %s: failed after %.1f s: %s", label, cfs_now() - t0,
                      strerror(-err));
    else
        cfs_log_info("upload of %s: done in %.1f s", label, cfs_now() - t0);
    if (!err)
        cfs_upload_finish(p, fname, label);
out:
    cfs_transfer_end(t, err);
    cfs_source_close(metered);
    cfs_source_close(src);
    free(xattrs);
    free(cloud_fname);
    ovf_glance_free(&hw);
    if (!err)
        cfs_dircache_invalidate(p->dc);
    cfs_pending_end_upload(p, err);
    return err;
}
