/* VMDK text descriptors (core/format/vmdk_desc.c): what a datastore's
 * disk.vmdk says, and what hostile ones are refused with. */
#include "format.h"
#include "log.h"
#include "unit.h"

static int parse(const char *text, struct vmdk_desc *d)
{
    return vmdk_desc_parse(text, strlen(text), "test", d);
}

int main(void)
{
    struct vmdk_desc d;
    cfs_log_open("/dev/null", CFS_LOG_ERROR);

    /* As ESXi writes a thick or thin disk on VMFS. */
    CHECK(parse("# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=fffffffe\n"
                "parentCID=ffffffff\ncreateType=\"vmfs\"\n\n# Extent description\n"
                "RW 4194304 VMFS \"web1-flat.vmdk\"\n\nddb.adapterType = \"lsilogic\"\n",
                &d) == 0);
    CHECK_STR(d.create_type, "vmfs");
    CHECK(!d.has_parent);
    CHECK(d.n_extents == 1);
    CHECK(d.extents[0].writable && d.extents[0].sectors == 4194304 && d.extents[0].offset == 0);
    CHECK_STR(d.extents[0].type, "VMFS");
    CHECK_STR(d.extents[0].file, "web1-flat.vmdk");

    /* Hosted monolithicFlat with an offset, CRLF line ends, a ZERO extent. */
    CHECK(parse("createType=\"monolithicFlat\"\r\nRW 2048 FLAT \"a b-flat.vmdk\" 128\r\n"
                "RDONLY 1024 ZERO\r\n",
                &d) == 0);
    CHECK(d.n_extents == 2);
    CHECK_STR(d.extents[0].file, "a b-flat.vmdk");
    CHECK(d.extents[0].offset == 128);
    CHECK(!d.extents[1].writable && d.extents[1].file[0] == '\0');
    CHECK_STR(d.extents[1].type, "ZERO");

    /* A snapshot's delta disk names its parent. */
    CHECK(parse("parentCID=1234abcd\nparentFileNameHint=\"web1.vmdk\"\ncreateType=\"vmfsSparse\"\n"
                "RW 4194304 VMFSSPARSE \"web1-000001-delta.vmdk\"\n",
                &d) == 0);
    CHECK(d.has_parent);
    CHECK_STR(d.parent_hint, "web1.vmdk");

    /* Refused: extents outside the directory, no name, bad numbers, binary. */
    CHECK(parse("createType=\"vmfs\"\nRW 8 VMFS \"../other/x-flat.vmdk\"\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 8 VMFS \"/etc/passwd\"\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 8 VMFS \"..\"\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 8 VMFS noquote\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 0 VMFS \"x.vmdk\"\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 99999999999999999 VMFS \"x.vmdk\"\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\nRW 8 FLAT \"x.vmdk\" zz\n", &d) == -EINVAL);
    CHECK(parse("createType=\"vmfs\"\n", &d) == -EINVAL);
    CHECK(parse("RW 8 VMFS \"x.vmdk\"\n", &d) == -EINVAL);
    /* A NUL inside is binary; NULs only after the text are qemu-img's padding. */
    CHECK(vmdk_desc_parse("createType=\"vmfs\"\0\nRW 8 VMFS \"x.vmdk\"\n", 38, "test", &d) ==
          -EINVAL);
    CHECK(vmdk_desc_parse("createType=\"vmfs\"\nRW 8 VMFS \"x.vmdk\"\n\0\0\0", 40, "test", &d) ==
          0);
    CHECK(d.n_extents == 1 && d.extents[0].sectors == 8);
    return UNIT_RESULT();
}
