/* The pure parts of libraries/ of the vsphere provider (library.c,
 * rest.c): which files of an OVF item are its disks and in which order,
 * the .ova size the listing promises (checked against the archive
 * ova_open builds), and vAPI error answers as errno. */
#define _GNU_SOURCE
#include "format.h"
#include "unit.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>

/* References: a CD image between two disks; the DiskSection names the
 * second disk file first (References order decides). */
static const char OVF[] =
    "<?xml version=\"1.0\"?>\n"
    "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
    "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">"
    "<References><File ovf:href=\"a.vmdk\" ovf:id=\"f1\"/>"
    "<File ovf:href=\"c.iso\" ovf:id=\"f3\"/>"
    "<File ovf:href=\"b.vmdk\" ovf:id=\"f2\"/></References>"
    "<DiskSection><Info>d</Info>"
    "<Disk ovf:capacity=\"1073741824\" ovf:diskId=\"d2\" ovf:fileRef=\"f2\"/>"
    "<Disk ovf:capacity=\"1073741824\" ovf:diskId=\"d1\" ovf:fileRef=\"f1\"/></DiskSection>"
    "<VirtualSystem ovf:id=\"vm\"><Info>v</Info></VirtualSystem></Envelope>\n";

static json_t *file_list(const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    CHECK(json_is_array(v));
    return v;
}

static void test_layout(void)
{
    struct ovf_info info;
    struct vs_item_layout l;
    json_t *files = file_list("[{\"name\": \"t.ovf\", \"size\": 1234},"
                              " {\"name\": \"b.vmdk\", \"size\": 5},"
                              " {\"name\": \"a.vmdk\", \"size\": 700},"
                              " {\"name\": \"c.iso\", \"size\": 9}]");
    CHECK(ovf_parse(OVF, strlen(OVF), "test", &info) == 0);
    vs_item_layout(files, &info, true, &l);
    CHECK_STR(l.ovf, "t.ovf");
    CHECK(l.ovf_size == 1234);
    CHECK(l.n == 3 && l.n_disks == 2);
    CHECK_STR(l.names[0], "a.vmdk");
    CHECK_STR(l.names[1], "b.vmdk");
    CHECK_STR(l.names[2], "c.iso");
    CHECK(l.sizes[0] == 700 && l.sizes[1] == 5 && l.sizes[2] == 9);
    /* Disk entries: a.vmdk is d1 (the second Disk), b.vmdk d2 (the first). */
    CHECK(l.disk_of[0] == 1 && l.disk_of[1] == 0);
    json_decref(files);

    /* A referenced file the item lacks is left out. */
    files = file_list("[{\"name\": \"t.ovf\", \"size\": 10}, {\"name\": \"b.vmdk\", \"size\": 5}]");
    vs_item_layout(files, &info, true, &l);
    CHECK(l.n == 1 && l.n_disks == 1);
    CHECK_STR(l.names[0], "b.vmdk");
    json_decref(files);
    ovf_info_free(&info);

    /* No descriptor to go by: the .vmdk files in the server's order; a
     * size that is no number makes a file unusable. */
    memset(&info, 0, sizeof info);
    files =
        file_list("[{\"name\": \"z.vmdk\", \"size\": 3}, {\"name\": \"y.txt\", \"size\": 1},"
                  " {\"name\": \"x.vmdk\", \"size\": \"7\"}, {\"name\": \"w.vmdk\", \"size\": 4}]");
    vs_item_layout(files, &info, false, &l);
    CHECK(l.ovf == NULL);
    CHECK(l.n == 2 && l.n_disks == 2);
    CHECK_STR(l.names[0], "z.vmdk");
    CHECK_STR(l.names[1], "w.vmdk");
    json_decref(files);
}

static struct cfs_source *zeros(uint64_t size)
{
    struct cfs_source *s = NULL;
    char *buf = calloc(1, size ? size : 1);
    CHECK(buf && cfs_mem_source_new(buf, (size_t)size, &s) == 0);
    return s;
}

/* The size listed for the .ova is the size of the archive an open builds. */
static void test_ova_size(void)
{
    const uint64_t sizes[][3] = {
        { 1, 0, 0 }, { 512, 512, 0 }, { 3521, 3184128, 1 }, { 1000, 513, 1023 }
    };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct vs_item_layout l = { .ovf = "t.ovf", .ovf_size = sizes[k][0] };
        struct ova_member m[3] = { { "t.ovf", zeros(sizes[k][0]) } };
        static const char *const names[] = { "t.vmdk", "t-disk2.vmdk" };
        for (size_t i = 1; i < 3; i++) {
            l.names[l.n] = names[i - 1];
            l.sizes[l.n++] = sizes[k][i];
            m[i] = (struct ova_member){ names[i - 1], zeros(sizes[k][i]) };
        }
        struct cfs_source *ova = NULL;
        CHECK(ova_open(m, 3, 0, &ova) == 0);
        CHECK(ova && ova->size == vs_item_ova_size(&l));
        if (ova)
            cfs_source_close(ova);
    }
}

static void test_errno(void)
{
    CHECK(vs_rest_errno(404, NULL) == -ENOENT);
    CHECK(vs_rest_errno(401, NULL) == -EACCES);
    CHECK(vs_rest_errno(403, "{}") == -EACCES);
    CHECK(vs_rest_errno(400, "{\"type\":\"com.vmware.vapi.std.errors.already_exists\"}") ==
          -EEXIST);
    CHECK(vs_rest_errno(400, "{\"error_type\":\"ALREADY_EXISTS\",\"messages\":[]}") == -EEXIST);
    CHECK(vs_rest_errno(400, "{\"type\":\"com.vmware.vapi.std.errors.invalid_argument\"}") ==
          -EINVAL);
    CHECK(vs_rest_errno(500, NULL) == -EIO);
}

int main(void)
{
    test_layout();
    test_ova_size();
    test_errno();
    return UNIT_RESULT();
}
