/* What a file written into images/ becomes (glance_props.c) and the
 * stored mtime's text (mtime.c): no network. */
#include "mtime.h"
#include "openstack.h"
#include "views.h"
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

static int target(const char *fname, enum cfs_fmt fmt, struct glance_target *t, char *why)
{
    return glance_target_for(fname, fmt, t, why, 200);
}

static void test_targets(void)
{
    struct glance_target t;
    char why[200];

    CHECK(target("centos.qcow2", CFS_FMT_QCOW2, &t, why) == 0);
    CHECK_STR(t.name, "centos");
    CHECK_STR(t.disk_format, "qcow2");
    CHECK_STR(t.container_format, "bare");
    CHECK(t.convert == -1);
    glance_target_free(&t);

    /* Raw content under another format's name cannot be told from
     * garbage: refused. */
    CHECK(target("x.qcow2", CFS_FMT_RAW, &t, why) == -EINVAL);
    CHECK_STR(why, "x.qcow2 holds a raw disk");
    CHECK(target("X.QCOW2", CFS_FMT_RAW, &t, why) == -EINVAL);
    CHECK(target("x.vmdk", CFS_FMT_ISO, &t, why) == -EINVAL);
    CHECK(target("x.iso", CFS_FMT_RAW, &t, why) == -EINVAL);
    CHECK(target("x.ova", CFS_FMT_QCOW2, &t, why) == -EINVAL);

    /* A container under another disk format's name: converted to it. */
    CHECK(target("x.raw", CFS_FMT_QCOW2, &t, why) == 0);
    CHECK_STR(t.name, "x");
    CHECK_STR(t.disk_format, "raw");
    CHECK_STR(t.container_format, "bare");
    CHECK(t.convert == CFS_VIEW_RAW);
    glance_target_free(&t);
    CHECK(target("x.vhd", CFS_FMT_VMDK_STREAM, &t, why) == 0);
    CHECK_STR(t.disk_format, "vhd");
    CHECK(t.convert == CFS_VIEW_VHD);
    glance_target_free(&t);
    CHECK(target("a.b.QCOW2", CFS_FMT_VMDK_SPARSE, &t, why) == 0);
    CHECK_STR(t.name, "a.b");
    CHECK_STR(t.disk_format, "qcow2");
    CHECK(t.convert == CFS_VIEW_QCOW2);
    glance_target_free(&t);
    CHECK(target("x.vmdk", CFS_FMT_VHD, &t, why) == 0);
    CHECK_STR(t.disk_format, "vmdk");
    CHECK(t.convert == CFS_VIEW_VMDK);
    glance_target_free(&t);
    CHECK(target("x.qcow2", CFS_FMT_VMDK_DESC, &t, why) == -EINVAL);

    /* .img takes anything, and keeps the content's format. */
    CHECK(target("cirros.img", CFS_FMT_QCOW2, &t, why) == 0);
    CHECK_STR(t.name, "cirros");
    CHECK_STR(t.disk_format, "qcow2");
    CHECK(t.convert == -1);
    glance_target_free(&t);
    CHECK(target("v.img", CFS_FMT_VMDK_STREAM, &t, why) == 0);
    CHECK_STR(t.disk_format, "vmdk");
    CHECK(t.convert == -1);
    glance_target_free(&t);

    /* .raw takes an ISO, stored as raw; .iso as iso. */
    CHECK(target("d.raw", CFS_FMT_ISO, &t, why) == 0);
    CHECK_STR(t.disk_format, "raw");
    glance_target_free(&t);
    CHECK(target("d.iso", CFS_FMT_ISO, &t, why) == 0);
    CHECK_STR(t.disk_format, "iso");
    glance_target_free(&t);

    /* Both VMDK kinds are vmdk; a descriptor alone is refused. */
    CHECK(target("v.vmdk", CFS_FMT_VMDK_SPARSE, &t, why) == 0);
    CHECK_STR(t.disk_format, "vmdk");
    glance_target_free(&t);
    CHECK(target("v.vmdk", CFS_FMT_VMDK_DESC, &t, why) == -EINVAL);
    CHECK(target("v.ovf", CFS_FMT_OVF, &t, why) == -EINVAL);

    /* An OVA: container ova, its disks vmdk. */
    CHECK(target("app.ova", CFS_FMT_OVA, &t, why) == 0);
    CHECK_STR(t.name, "app");
    CHECK_STR(t.disk_format, "vmdk");
    CHECK_STR(t.container_format, "ova");
    glance_target_free(&t);

    /* Only a format's extension is taken off the name. */
    CHECK(target("ubuntu-22.04", CFS_FMT_RAW, &t, why) == 0);
    CHECK_STR(t.name, "ubuntu-22.04");
    glance_target_free(&t);
    CHECK(target("noext", CFS_FMT_QCOW2, &t, why) == 0);
    CHECK_STR(t.name, "noext");
    glance_target_free(&t);
    CHECK(target("a.b.vhd", CFS_FMT_VHD, &t, why) == 0);
    CHECK_STR(t.name, "a.b");
    glance_target_free(&t);

    /* Formats Glance knows but cloudfs cannot recognise; no name left. */
    CHECK(target("w.vhdx", CFS_FMT_RAW, &t, why) == -EINVAL);
    CHECK(target("w.vdi", CFS_FMT_RAW, &t, why) == -EINVAL);
    CHECK(target(".qcow2", CFS_FMT_QCOW2, &t, why) == 0); /* a dot-file: the name is all */
    CHECK_STR(t.name, ".qcow2");
    glance_target_free(&t);
}

static void test_props(void)
{
    CHECK(glance_prop_allowed("os_distro"));
    CHECK(glance_prop_allowed("hw_disk_bus"));
    CHECK(glance_prop_allowed("min_ram"));
    CHECK(glance_prop_allowed("my_prop"));
    CHECK(!glance_prop_allowed("checksum"));
    CHECK(!glance_prop_allowed("id"));
    CHECK(!glance_prop_allowed("size"));
    CHECK(!glance_prop_allowed("status"));
    CHECK(!glance_prop_allowed("owner"));
    CHECK(!glance_prop_allowed("visibility"));
    CHECK(!glance_prop_allowed("disk_format"));
    CHECK(!glance_prop_allowed("os_glance_import_task"));
    CHECK(!glance_prop_allowed("cloudfs_upload"));
    CHECK(!glance_prop_allowed("cloudfs_mtime"));
    CHECK(!glance_prop_allowed("kernel_id"));
    CHECK(!glance_prop_allowed(""));

    static const char xattrs[] = "user.glance.os_distro\0debian\0user.other\0x\0"
                                 "user.glance.min_ram\0"
                                 "512\0user.glance.checksum\0bad\0";
    static const char src[] = "os_distro\0centos\0hw_vif_model\0e1000\0min_disk\0abc\0"
                              "id\0"
                              "123\0os_hash_value\0ff\0";
    struct glance_target t = { .name = "n", .disk_format = "raw", .container_format = "bare" };
    struct cfs_put req = {
        .fname = "n.raw",
        .xattrs = xattrs,
        .xattrs_len = sizeof xattrs - 1,
        .src_props = src,
        .src_props_len = sizeof src - 1,
        .marker = "cloudfs-upload:v1:h:1:2:3",
    };
    char *body = NULL;
    CHECK(glance_create_body(&t, &req, &body) == 0);
    json_t *doc = json_loads(body ? body : "", 0, NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "name")), "n");
    CHECK_STR(json_string_value(json_object_get(doc, "disk_format")), "raw");
    CHECK_STR(json_string_value(json_object_get(doc, "cloudfs_upload")),
              "cloudfs-upload:v1:h:1:2:3");
    /* The tag the sweep lists by. */
    CHECK_STR(json_string_value(json_array_get(json_object_get(doc, "tags"), 0)), "cloudfs-upload");
    /* The file's attribute wins over the source's. */
    CHECK_STR(json_string_value(json_object_get(doc, "os_distro")), "debian");
    CHECK_STR(json_string_value(json_object_get(doc, "hw_vif_model")), "e1000");
    CHECK(json_integer_value(json_object_get(doc, "min_ram")) == 512);
    CHECK(!json_object_get(doc, "min_disk")); /* not a number: left out */
    CHECK(!json_object_get(doc, "checksum"));
    CHECK(!json_object_get(doc, "id"));
    CHECK(!json_object_get(doc, "os_hash_value"));
    CHECK(!json_object_get(doc, "other"));
    CHECK(json_object_size(doc) == 8);
    json_decref(doc);
    free(body);

    /* The source's hardware warnings become cloudfs_warnings; a source
     * property of that name does not. */
    static const char forged[] = "cloudfs_warnings\0forged\0";
    req.src_props = forged;
    req.src_props_len = sizeof forged - 1;
    req.src_warnings = "controller lsilogic: no equivalent";
    CHECK(glance_create_body(&t, &req, &body) == 0);
    doc = json_loads(body ? body : "", 0, NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "cloudfs_warnings")),
              "controller lsilogic: no equivalent");
    json_decref(doc);
    free(body);
}

static void test_mtime(void)
{
    struct timespec t = { .tv_sec = 1577934245, .tv_nsec = 123456789 }, u;
    char text[CFS_MTIME_MAX];
    cfs_mtime_format(&t, text);
    CHECK_STR(text, "1577934245.123456789");
    CHECK(cfs_mtime_parse(text, &u) == 0 && u.tv_sec == t.tv_sec && u.tv_nsec == t.tv_nsec);
    CHECK(cfs_mtime_parse("12", &u) == 0 && u.tv_sec == 12 && u.tv_nsec == 0);
    CHECK(cfs_mtime_parse("12.5", &u) == 0 && u.tv_nsec == 500000000);
    CHECK(cfs_mtime_parse("12.", &u) == -EINVAL);
    CHECK(cfs_mtime_parse("12.1234567890", &u) == -EINVAL);
    CHECK(cfs_mtime_parse("-1", &u) == -EINVAL);
    CHECK(cfs_mtime_parse("1e9", &u) == -EINVAL);
    CHECK(cfs_mtime_parse("", &u) == -EINVAL);
    CHECK(cfs_mtime_parse(NULL, &u) == -EINVAL);
    CHECK(cfs_mtime_parse("99999999999999999999999", &u) == -EINVAL);
}

int main(void)
{
    test_targets();
    test_props();
    test_mtime();
    return UNIT_RESULT();
}
