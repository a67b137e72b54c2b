/* Whether a file's name agrees with what its bytes are (cfs_fmt_fits_name),
 * for every cloud a file is written into. The format is the content's; an
 * extension that names a disk format must agree with it ("x.qcow2" holding
 * a raw disk is refused). ".img" names no format (cloud images ship qcow2
 * as .img), so it takes any; ".raw" also takes an ISO 9660 image, whose
 * bytes are a raw disk. vhdx, vdi and ploop cannot be told by content:
 * those names are refused rather than stored as raw.
 * A Glance upload converts a container whose name asks for another disk
 * format (cfs_fmt_name_view): the extensions that name a format a view can
 * make. */
#include "convert.h"
#include "package.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BIT(f) (1u << (f))
#define ANY    0xffffu

static const struct {
    const char *ext;
    unsigned accepts; /* enum cfs_fmt bits; 0: refused whatever it holds */
} exts[] = {
    { "qcow2", BIT(CFS_FMT_QCOW2) },
    { "raw", BIT(CFS_FMT_RAW) | BIT(CFS_FMT_ISO) },
    { "img", ANY },
    { "vmdk", BIT(CFS_FMT_VMDK_STREAM) | BIT(CFS_FMT_VMDK_SPARSE) | BIT(CFS_FMT_VMDK_DESC) },
    { "vhd", BIT(CFS_FMT_VHD) },
    { "iso", BIT(CFS_FMT_ISO) },
    { "ova", BIT(CFS_FMT_OVA) },
    { "vhdx", 0 },
    { "vdi", 0 },
    { "ploop", 0 },
};

static const char *what_it_holds(enum cfs_fmt f)
{
    switch (f) {
    case CFS_FMT_QCOW2:
        return "a qcow2 disk";
    case CFS_FMT_VMDK_STREAM:
    case CFS_FMT_VMDK_SPARSE:
        return "a VMDK disk";
    case CFS_FMT_VMDK_DESC:
        return "a VMDK descriptor";
    case CFS_FMT_VHD:
        return "a VHD disk";
    case CFS_FMT_OVA:
        return "an OVA";
    case CFS_FMT_OVF:
        return "an OVF descriptor";
    case CFS_FMT_ISO:
        return "an ISO image";
    case CFS_FMT_RAW:
    default:
        return "a raw disk";
    }
}

int cfs_fmt_fits_name(const char *fname, enum cfs_fmt fmt, bool raw_named_only, size_t *base_len,
                      char *why, size_t why_len)
{
    const char *dot = strrchr(fname, '.');
    bool raw_name = false;

    why[0] = '\0';
    *base_len = strlen(fname);
    if (dot && dot != fname) {
        for (size_t i = 0; i < CFS_ARRAY_SIZE(exts); i++) {
            if (strcasecmp(dot + 1, exts[i].ext) != 0)
                continue;
            if (!exts[i].accepts) {
                snprintf(why, why_len, "cloudfs cannot upload %s disks", exts[i].ext);
                return -EINVAL;
            }
            if (!(exts[i].accepts & BIT(fmt))) {
                snprintf(why, why_len, "%s holds %s", fname, what_it_holds(fmt));
                return -EINVAL;
            }
            *base_len = (size_t)(dot - fname);
            raw_name = exts[i].accepts & BIT(CFS_FMT_RAW);
            break;
        }
    }
    /* Raw is whatever is not a known format: a text file sniffs as raw. */
    if (raw_named_only && fmt == CFS_FMT_RAW && !raw_name) {
        snprintf(why, why_len,
                 "%s holds no disk format cloudfs knows (raw content only as .raw, .img or .iso)",
                 fname);
        return -EINVAL;
    }
    return 0;
}

int cfs_fmt_name_view(const char *fname)
{
    static const struct {
        const char *ext;
        enum cfs_view view;
    } named[] = {
        { "qcow2", CFS_VIEW_QCOW2 },
        { "raw", CFS_VIEW_RAW },
        { "vmdk", CFS_VIEW_VMDK },
        { "vhd", CFS_VIEW_VHD },
    };
    const char *dot = strrchr(fname, '.');
    for (size_t i = 0; dot && dot != fname && i < CFS_ARRAY_SIZE(named); i++)
        if (strcasecmp(dot + 1, named[i].ext) == 0)
            return (int)named[i].view;
    return -1;
}

char *cfs_fmt_base_name(const char *fname)
{
    char *name = strdup(fname);
    char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot || dot == name)
        return name;
    bool known = strcasecmp(dot + 1, "ovf") == 0;
    for (size_t i = 0; i < CFS_ARRAY_SIZE(exts) && !known; i++)
        known = strcasecmp(dot + 1, exts[i].ext) == 0;
    if (known)
        *dot = '\0';
    return name;
}
