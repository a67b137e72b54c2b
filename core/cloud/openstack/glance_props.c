/* What a file written into images/ becomes in Glance, decided without
 * the network: the image's name and formats from the file name and the
 * sniffed content, and the properties of the create request.
 *
 * Decisions (documented in cloudfs(1)):
 * - The target's name chooses the format: "x.qcow2", "x.raw", "x.vmdk",
 *   "x.vhd" land in that format, a container of another (qcow2, VMDK,
 *   VHD) converted while it is sent (glance_upload.c). Raw content under
 *   another format's name is refused: it cannot be told from garbage.
 *   ".img" and names without a disk extension keep the content's format
 *   (cfs_fmt_fits_name, cfs_fmt_name_view: core/format/fmt_name.c).
 * - Only a disk extension is taken off for the image's name: a file
 *   "ubuntu-22.04" keeps its dots.
 * - Properties: user.glance.<key> attributes of the written file win
 *   over those carried over from a copied image; Glance's own fields
 *   (checksum, size, status ...), os_glance_* (reserved by Glance),
 *   cloudfs_* (ours) and ids that point into the source cloud
 *   (kernel_id, ramdisk_id) are never copied. min_ram and min_disk are
 *   integers in Glance's schema; everything else is a string.
 * - The source's hardware that has no equivalent (cfs_put.src_warnings)
 *   is logged and kept as the property cloudfs_warnings. */
#define _GNU_SOURCE
#include "openstack.h"
#include "convert.h"
#include "log.h"
#include "mtime.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void glance_target_free(struct glance_target *t)
{
    free(t->name);
    t->name = NULL;
}

int glance_target_for(const char *fname, enum cfs_fmt fmt, struct glance_target *out, char *why,
                      size_t why_len)
{
    const char *dot = strrchr(fname, '.');
    size_t name_len;

    memset(out, 0, sizeof *out);
    out->convert = -1;
    int err = cfs_fmt_fits_name(fname, fmt, false, &name_len, why, why_len);
    int named = cfs_fmt_name_view(fname);
    if (err == -EINVAL && named >= 0 && fmt != CFS_FMT_RAW &&
        cfs_convert_possible(fmt, (enum cfs_view)named)) {
        out->convert = named;
        name_len = (size_t)(dot - fname);
        why[0] = '\0';
        err = 0;
    }
    if (err)
        return err;
    /* Raw stays raw under ".raw", even when it is an ISO. */
    bool raw_named = dot && strcasecmp(dot + 1, "raw") == 0;
    switch (fmt) {
    case CFS_FMT_RAW:
        out->disk_format = "raw";
        break;
    case CFS_FMT_ISO:
        out->disk_format = raw_named ? "raw" : "iso";
        break;
    case CFS_FMT_QCOW2:
        out->disk_format = "qcow2";
        break;
    case CFS_FMT_VMDK_STREAM:
    case CFS_FMT_VMDK_SPARSE:
        out->disk_format = "vmdk";
        break;
    case CFS_FMT_VHD:
        out->disk_format = "vhd";
        break;
    case CFS_FMT_OVA:
        /* Glance's convention for an OVA: the container says ova, the
         * disk format that of the disks inside. */
        out->disk_format = "vmdk";
        out->container_format = "ova";
        break;
    case CFS_FMT_VMDK_DESC:
        snprintf(why, why_len, "%s is a VMDK descriptor without its extents", fname);
        return -EINVAL;
    case CFS_FMT_OVF:
        snprintf(why, why_len, "%s is an OVF descriptor alone: copy the .ova or the disk", fname);
        return -EINVAL;
    }
    /* Converted (glance_upload.c): what the name says. */
    if (out->convert >= 0)
        out->disk_format = cfs_view_ext((enum cfs_view)out->convert);
    if (!out->container_format)
        out->container_format = "bare";
    if (name_len == 0) {
        snprintf(why, why_len, "%s leaves no image name", fname);
        return -EINVAL;
    }
    out->name = strndup(fname, name_len);
    return out->name ? 0 : -ENOMEM;
}

bool glance_prop_allowed(const char *key)
{
    static const char *const reserved[] = {
        "id",
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "size",
        "virtual_size",
        "owner",
        "created_at",
        "updated_at",
        "locations",
        "direct_url",
        "self",
        "file",
        "schema",
        "tags",
        "disk_format",
        "container_format",
        "stores",
        "kernel_id",
        "ramdisk_id",
        "deleted",
        "deleted_at",
        "members",
    };
    size_t n = strlen(key);
    if (n == 0 || n > 255 || strncmp(key, "os_glance", 9) == 0 || strncmp(key, "cloudfs_", 8) == 0)
        return false;
    for (size_t i = 0; i < CFS_ARRAY_SIZE(reserved); i++)
        if (strcmp(key, reserved[i]) == 0)
            return false;
    return true;
}

/* Adds key=value to props unless reserved or already set (earlier
 * callers win). */
static int add_prop(json_t *props, const char *key, const char *value, const char *label)
{
    json_t *v;
    if (!glance_prop_allowed(key) || json_object_get(props, key))
        return 0;
    if (strcmp(key, "min_ram") == 0 || strcmp(key, "min_disk") == 0) {
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        if (!*value || *end || errno || n < 0 || n > INT32_MAX) {
            cfs_log_warn("glance: upload of %s: property %s=%s is not a size in MiB/GiB, left out",
                         label, key, value);
            return 0;
        }
        v = json_integer(n);
    } else {
        if (strlen(value) > 65535)
            return 0;
        v = json_string(value);
    }
    if (!v || json_object_set_new(props, key, v) != 0)
        return -ENOMEM;
    return 0;
}

int glance_create_body(const struct glance_target *t, const struct cfs_put *req, char **out)
{
    json_t *doc = json_object();
    const char *label = req->label ? req->label : req->fname;
    int err = 0;

    *out = NULL;
    if (!doc)
        return -ENOMEM;
    if (json_object_set_new(doc, "name", json_string(t->name)) ||
        json_object_set_new(doc, "disk_format", json_string(t->disk_format)) ||
        json_object_set_new(doc, "container_format", json_string(t->container_format)))
        err = -ENOMEM;
    if (!err && req->marker &&
        (json_object_set_new(doc, GLANCE_MARKER_KEY, json_string(req->marker)) ||
         json_object_set_new(doc, "tags", json_pack("[s]", GLANCE_MARKER_TAG))))
        err = -ENOMEM;
    /* The file's own attributes first: they win. */
    for (size_t off = 0; !err && req->xattrs && off < req->xattrs_len;) {
        const char *name = req->xattrs + off;
        const char *value = name + strlen(name) + 1;
        off = (size_t)(value - req->xattrs) + strlen(value) + 1;
        if (strncmp(name, "user.glance.", 12) == 0)
            err = add_prop(doc, name + 12, value, label);
    }
    for (size_t off = 0; !err && req->src_props && off < req->src_props_len;) {
        const char *key = req->src_props + off;
        const char *value = key + strlen(key) + 1;
        off = (size_t)(value - req->src_props) + strlen(value) + 1;
        err = add_prop(doc, key, value, label);
    }
    /* Hardware of the source with no equivalent here: one log line, and
     * the property the listing shows as user.cloudfs.warnings. */
    if (!err && req->src_warnings && *req->src_warnings) {
        cfs_log_warn("glance: upload of %s: the source's hardware has no equivalent here: %s",
                     label, req->src_warnings);
        if (json_object_set_new(
                doc, GLANCE_WARNINGS_KEY,
                json_stringn(req->src_warnings, strnlen(req->src_warnings, GLANCE_WARNINGS_MAX))))
            err = -ENOMEM;
    }
    if (!err) {
        *out = json_dumps(doc, JSON_COMPACT);
        err = *out ? 0 : -ENOMEM;
    }
    json_decref(doc);
    return err;
}
