/* One upload: the spool as a byte source, the user.* attributes set on
 * the file, the mount's OVF defaults, then the provider's put(), seen in
 * the transfer registry (fs/transfers.h) while it runs. The provider logs
 * why it failed; this logs that an upload ran and how long it took. */
#include "pending_upload.h"
#include "log.h"
#include "meter.h"
#include "mount.h"
#include "ops.h"
#include "spool.h"
#include "transfers.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cfs_upload(struct cfs_pending *p, const char *fname, const struct ovf_defaults *ovf,
               const char *label)
{
    struct cfs_cloud *cloud = cfs_dircache_cloud(p->dc);
    struct cfs_source *src = NULL, *metered = NULL;
    struct cfs_transfer *t = NULL;
    char *xattrs = NULL;
    size_t xattrs_len = 0;
    double t0 = cfs_now();
    int err;

    if (!cfs_pending_begin_upload(p))
        return -EBUSY;
    err = cfs_spool_source(p->fd, &src);
    if (!err)
        err = cfs_pending_xattrs_copy(p, &xattrs, &xattrs_len);
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
        .fname = fname,
        .content = metered,
        .xattrs = xattrs,
        .xattrs_len = xattrs_len,
        .ovf = ovf,
        .label = label,
        /* Runs in a FUSE request: the mount is the context's. */
        .marker = ((const struct cfs_mount *)fuse_get_context()->private_data)->marker,
        .cancelled = cfs_transfer_cancelled,
        .cancel_ctx = t,
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
out:
    cfs_transfer_end(t, err);
    cfs_source_close(metered);
    cfs_source_close(src);
    free(xattrs);
    if (!err)
        cfs_dircache_invalidate(p->dc);
    cfs_pending_end_upload(p, err);
    return err;
}
