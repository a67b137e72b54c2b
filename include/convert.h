/* A disk converted for an upload into the format its target's name chose
 * (cloudfs(1), "The target's name chooses the format"): the content is
 * decoded (qcow2, VMDK, VHD; raw is the disk itself) and re-encoded by the
 * view of that format, exact size up front, read while it is sent:
 * nothing is staged. */
#ifndef CFS_CONVERT_H
#define CFS_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "package.h"
#include "views.h"

struct cfs_convert {
    const char *name;    /* the disk's: a VMDK's descriptor names its file after it */
    const char *adapter; /* a VMDK's ddb.adapterType: "lsilogic", "ide" */
    int vmdk_zip;        /* a VMDK's grains: 0 stored, 1..12 a DEFLATE level */
    enum vhd_kind vhd;   /* a VHD: fixed or dynamic */
    bool vhd_azure;      /* ... sized to a whole MiB */
    const char *label;   /* for log lines */
};

/* The disk format fname's extension names, as the view that makes it
 * (CFS_VIEW_QCOW2 for "x.qcow2", and raw, vmdk, vhd; any case), or -1:
 * ".img", ".iso", ".ova" and names without a disk extension keep the
 * content's format (fmt_name.c). */
int cfs_fmt_name_view(const char *fname);

/* True if a disk in format from can become format to: from is decodable
 * (raw, qcow2, a sparse VMDK, VHD) and to is a disk view (raw, qcow2,
 * vmdk, vhd). */
bool cfs_convert_possible(enum cfs_fmt from, enum cfs_view to);

/* Opens the view to over the disk in [off, off + len) of content (not
 * owned: it must outlive *out), whose bytes are in format from. 0,
 * -EINVAL (not possible: see above), or the decoder's error (logged by
 * it, naming how->label). */
int cfs_convert_open(struct cfs_source *content, uint64_t off, uint64_t len, enum cfs_fmt from,
                     enum cfs_view to, const struct cfs_convert *how, struct cfs_source **out);

#endif
