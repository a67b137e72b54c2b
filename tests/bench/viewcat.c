/* viewcat IMAGE FORMAT VIEW: writes the view (raw, vmdk, ovf, ova) of a
 * local image file to stdout, through the same decoder and view code as
 * the mount. Used by the benchmark to time the conversion without FUSE or
 * the network. VIEWCAT_ZIP=LEVEL: the .vmdk of a qcow2 or raw image with
 * compressed grains, as a vCD upload with vmdk_compress= sends it. */
#include "log.h"
#include "views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *no_prop(const void *ctx, const char *key)
{
    (void)ctx, (void)key;
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct ovf_defaults defaults = { 1, 1024, 13, "lsilogic", "vmxnet3" };
    struct cfs_source *file, *view;
    enum cfs_view v = CFS_VIEW_COUNT;
    int err;

    if (argc != 4) {
        fprintf(stderr,
                "usage: %s IMAGE qcow2|raw|vmdk|vhd raw|vmdk|vhd|qcow2|ovf|ova > OUT\n"
                "(VIEWCAT_VHD=dynamic|azure for .vhd views; VIEWCAT_ZIP=LEVEL: compressed "
                "vmdk)\n",
                argv[0]);
        return 2;
    }
    for (int i = 0; i < CFS_VIEW_COUNT; i++)
        if (strcmp(argv[3], cfs_view_ext((enum cfs_view)i)) == 0)
            v = (enum cfs_view)i;
    cfs_log_open(NULL, CFS_LOG_WARN);
    err = cfs_file_source_open(argv[1], &file);
    if (err) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(-err));
        return 1;
    }
    struct cfs_view_spec spec = {
        .base = "image",
        .vmdk_name = "image.vmdk",
        .cid = 1,
        .label = argv[1],
        .prop = no_prop,
        .defaults = &defaults,
        .vhd = VHD_FIXED,
    };
    const char *vhd = getenv("VIEWCAT_VHD"); /* "dynamic", "azure" */
    if (vhd && strcmp(vhd, "dynamic") == 0)
        spec.vhd = VHD_DYNAMIC;
    if (vhd && strcmp(vhd, "azure") == 0)
        spec.vhd_azure = true;
    const char *zip = getenv("VIEWCAT_ZIP");
    if (zip && v == CFS_VIEW_VMDK) {
        struct cfs_source *disk = file;
        err = strcmp(argv[2], "qcow2") == 0 ? qcow2_open(file, argv[1], &disk) : 0;
        if (!err)
            err = vmdk_stream_zip_open(disk, "image.vmdk", 1, "lsilogic", atoi(zip), &view);
    } else {
        err = cfs_view_open(file, argv[2], v, &spec, &view, NULL);
    }
    if (err) {
        fprintf(stderr, "%s: cannot open the %s view: %s\n", argv[1], argv[3], strerror(-err));
        return 1;
    }
    size_t bufsize = 1 << 20;
    char *buf = malloc(bufsize);
    for (uint64_t off = 0; buf && off < view->size;) {
        ssize_t n = cfs_source_pread(view, buf, bufsize, off);
        if (n <= 0) {
            fprintf(stderr, "read at %llu: %s\n", (unsigned long long)off,
                    n < 0 ? strerror((int)-n) : "short");
            return 1;
        }
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(1, buf + w, (size_t)(n - w));
            if (k < 0)
                return 1;
            w += k;
        }
        off += (uint64_t)n;
    }
    free(buf);
    cfs_source_close(view);
    return 0;
}
