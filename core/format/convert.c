/* Conversion of a written or copied disk for an upload (include/convert.h):
 * the decoders and views that serve reads, stacked on what is uploaded. */
#include "convert.h"
#include "package_priv.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cfs_convert_possible(enum cfs_fmt from, enum cfs_view to)
{
    bool decodable = from == CFS_FMT_RAW || from == CFS_FMT_QCOW2 || from == CFS_FMT_VMDK_STREAM ||
                     from == CFS_FMT_VMDK_SPARSE || from == CFS_FMT_VHD;
    return decodable && (to == CFS_VIEW_RAW || to == CFS_VIEW_QCOW2 || to == CFS_VIEW_VMDK ||
                         to == CFS_VIEW_VHD);
}

int cfs_convert_open(struct cfs_source *content, uint64_t off, uint64_t len, enum cfs_fmt from,
                     enum cfs_view to, const struct cfs_convert *how, struct cfs_source **out)
{
    struct cfs_source *file = NULL, *disk = NULL;

    if (!cfs_convert_possible(from, to))
        return -EINVAL;
    int err = cfs_slice_source_open(content, off, len, &file);
    if (err)
        return err;
    /* The decoder owns file from here, also when it fails. */
    err = pkg_decode(file, from, how->label, &disk);
    if (err)
        return err;
    uint32_t seed = pkg_name_seed(how->name ? how->name : "");
    switch (to) {
    case CFS_VIEW_QCOW2:
        return qcow2_view_open(disk, out);
    case CFS_VIEW_VHD:
        return vhd_view_open(disk, how->vhd, how->vhd_azure, seed, out);
    case CFS_VIEW_VMDK: {
        /* A name the descriptor can hold as it is, or a neutral one. */
        bool plain = pkg_plain_name(how->name) && strlen(how->name) <= 64;
        char *file = cfs_printf("%s.vmdk", plain ? how->name : "disk");
        if (!file) {
            cfs_source_close(disk);
            return -ENOMEM;
        }
        err = vmdk_stream_zip_open(disk, file, seed, how->adapter ? how->adapter : "lsilogic",
                                   how->vmdk_zip, out);
        free(file);
        return err;
    }
    default:
        *out = disk; /* the guest disk: holes read as zeros */
        return 0;
    }
}
