/* What a vCD import is made of (core/format/sniff.c, package.c,
 * package_ova.c, slice_source.c): inputs made by qemu-img and tar, the
 * package written out and judged by independent readers: qemu-img info
 * (createType), compare (same guest disk) and check, the DMTF schema
 * (xmllint), xmllint's XPath for the descriptor's sizes. Refusals must be
 * -EINVAL and one log line naming the file. Needs qemu-img (exit 77). */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "package.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024 * KiB)

static char dir[] = "/tmp/cfs-package-XXXXXX";
static char log_path[PATH_MAX];
static bool have_schemas;

#include "imgtest.h"

static const struct ovf_defaults hw = { 1, 1024, 13, "lsilogic", "vmxnet3" };

/* What a command prints, first line, or "" (static buffer). */
static const char *sh_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *sh_line(const char *fmt, ...)
{
    static char line[8192];
    char *cmd, *full;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&full, "cd %s && %s", dir, cmd) < 0)
        abort();
    line[0] = '\0';
    FILE *f = popen(full, "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        while (fgetc(f) != EOF)
            ;
        pclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    free(cmd);
    free(full);
    return line;
}

static uint64_t file_size(const char *name)
{
    struct stat st;
    return stat(P(name), &st) == 0 ? (uint64_t)st.st_size : 0;
}

static uint64_t vsize(const char *name, const char *fmt)
{
    const char *line = sh_line("qemu-img info -f %s --output=json %s | tr -d '\\n'", fmt, name);
    json_t *j = json_loads(line, 0, NULL);
    json_t *x = j ? json_object_get(j, "virtual-size") : NULL;
    uint64_t v = json_is_integer(x) ? (uint64_t)json_integer_value(x) : 0;
    json_decref(j);
    return v;
}

/* A number the descriptor holds, by XPath on local names. */
static uint64_t ovf_number(const char *ovf, const char *element, const char *attr)
{
    const char *s =
        sh_line("xmllint --xpath \"string(//*[local-name()='%s']/@*[local-name()='%s'])\" %s",
                element, attr, ovf);
    return strtoull(s, NULL, 10);
}

static void write_source(struct cfs_source *src, const char *name)
{
    static char buf[1 << 20];
    int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    for (uint64_t off = 0; fd >= 0 && off < src->size;) {
        ssize_t n = cfs_source_pread(src, buf, sizeof buf, off);
        CHECK(n > 0);
        if (n <= 0)
            break;
        CHECK(pwrite(fd, buf, (size_t)n, (off_t)off) == n);
        off += (uint64_t)n;
    }
    if (fd >= 0)
        close(fd);
}

static void write_text(const char *name, const char *text, size_t len)
{
    int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, len) == (ssize_t)len);
    if (fd >= 0)
        close(fd);
}

static struct cfs_source *open_in(const char *name)
{
    struct cfs_source *src = NULL;
    CHECK(cfs_file_source_open(P(name), &src) == 0);
    return src;
}

static enum cfs_fmt sniff_of(const char *name)
{
    enum cfs_fmt f = (enum cfs_fmt) - 1;
    struct cfs_source *src = open_in(name);
    if (src)
        CHECK(cfs_sniff(src, &f) == 0);
    cfs_source_close(src);
    return f;
}

/* The last sector of a file is zero: the end-of-stream marker ESXi wants. */
static bool ends_with_eos(const char *name)
{
    unsigned char b[512];
    int fd = open(P(name), O_RDONLY);
    uint64_t size = file_size(name);
    bool ok = fd >= 0 && size >= 512 && pread(fd, b, 512, (off_t)(size - 512)) == 512;
    for (int i = 0; ok && i < 512; i++)
        ok = b[i] == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A streamOptimized VMDK that qemu-img reads as the same guest disk. */
static void check_vmdk(const char *vmdk, const char *input, const char *fmt)
{
    CHECK(strcmp(sh_line("qemu-img info --output=json %s | tr -d '\\n ' | "
                         "grep -o '\"create-type\":\"[A-Za-z]*\"'",
                         vmdk),
                 "\"create-type\":\"streamOptimized\"") == 0);
    CHECK(sh("qemu-img compare -q -f %s -F vmdk %s %s", fmt, input, vmdk) == 0);
    CHECK(sh("qemu-img check -q -f vmdk %s", vmdk) == 0);
    CHECK(ends_with_eos(vmdk));
}

static void check_descriptor(const char *ovf, const char *vmdk, uint64_t capacity)
{
    if (have_schemas)
        CHECK(sh("/work/shared/schemas/validate ovf %s >/dev/null 2>&1", ovf) == 0);
    CHECK(ovf_number(ovf, "File", "size") == file_size(vmdk));
    CHECK(ovf_number(ovf, "Disk", "capacity") == capacity);
    CHECK(strcmp(sh_line("xmllint --xpath \"string(//*[local-name()='Disk']/@*[local-name()="
                         "'format'])\" %s",
                         ovf),
                 "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized") == 0);
}

/* Packages input (sniffed as want, read by qemu-img as fmt): one VMDK,
 * written out as out.vmdk, and its descriptor as out.ovf; as_is: the VMDK
 * is input byte for byte. */
static void check_disk(const char *input, enum cfs_fmt want, const char *fmt, bool as_is)
{
    struct cfs_package pkg;
    struct cfs_source *src = open_in(input);
    fprintf(stderr, "package: %s\n", input);
    CHECK(sniff_of(input) == want);
    if (!src)
        return;
    CHECK(cfs_package_make(src, NULL, "My VM \xc3\xbc/1", &hw, NULL, 0, 0, input, &pkg) == 0);
    if (pkg.n_files == 1) {
        CHECK_STR(pkg.files[0].href, "My_VM_1.vmdk");
        write_source(pkg.files[0].src, "out.vmdk");
        write_text("out.ovf", pkg.ovf, pkg.ovf_len);
        CHECK(strlen(pkg.ovf) == pkg.ovf_len);
        check_vmdk("out.vmdk", input, fmt);
        if (as_is)
            CHECK(sh("cmp -s %s out.vmdk", input) == 0);
        /* A converted disk's capacity is whole grains (the view's). */
        uint64_t cap = as_is ? vsize(input, fmt) : (vsize(input, fmt) + 65535) & ~65535ull;
        check_descriptor("out.ovf", "out.vmdk", cap);
    } else {
        CHECK(pkg.n_files == 1);
    }
    cfs_package_free(&pkg);
    cfs_source_close(src);
}

/* A raw guest disk of an odd size: data at the start, the end and a few
 * places between, holes elsewhere. */
static void make_raw(const char *name, uint64_t size)
{
    CHECK(sh("truncate -s %llu %s", (unsigned long long)size, name) == 0);
    CHECK(sh("head -c 200000 /dev/urandom | dd of=%s conv=notrunc status=none", name) == 0);
    CHECK(sh("head -c 70000 /dev/urandom | dd of=%s bs=1 seek=%llu conv=notrunc status=none", name,
             (unsigned long long)(3 * MiB + 1000)) == 0);
    CHECK(sh("head -c 4096 /dev/urandom | dd of=%s bs=512 seek=%llu conv=notrunc status=none", name,
             (unsigned long long)(size / 512 - 8)) == 0);
}

/* Patches bytes of a file in the test directory. */
static void patch(const char *name, uint64_t off, const void *bytes, size_t len)
{
    int fd = open(P(name), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, bytes, len, (off_t)off) == (ssize_t)len);
    if (fd >= 0)
        close(fd);
}

/* A stream ESXi would refuse is converted, with one line saying why. */
static void check_unfit_stream(const char *name, const char *why)
{
    int named;
    log_skip();
    check_disk(name, CFS_FMT_VMDK_STREAM, "vmdk", false);
    CHECK(log_lines(name, &named) == 1 && named == 1);
    CHECK(strstr(log_last, why) != NULL);
}

static void test_disks(void)
{
    make_raw("in.raw", 8 * MiB + 1536);
    check_disk("in.raw", CFS_FMT_RAW, "raw", false);
    CHECK(sh("qemu-img convert -O qcow2 in.raw in.qcow2") == 0);
    check_disk("in.qcow2", CFS_FMT_QCOW2, "qcow2", false);
    CHECK(sh("qemu-img convert -O vmdk in.raw in-sparse.vmdk") == 0);
    check_disk("in-sparse.vmdk", CFS_FMT_VMDK_SPARSE, "vmdk", false);
    CHECK(sh("qemu-img convert -O vpc -o subformat=fixed in.raw in-fixed.vhd") == 0);
    check_disk("in-fixed.vhd", CFS_FMT_VHD, "vpc", false);
    CHECK(sh("qemu-img convert -O vpc -o subformat=dynamic in.raw in-dyn.vhd") == 0);
    check_disk("in-dyn.vhd", CFS_FMT_VHD, "vpc", false);

    /* qemu-img's streams (7.2 ends them with zero sectors) go as they are;
     * so does the package's own VMDK. */
    CHECK(sh("qemu-img convert -O vmdk -o subformat=streamOptimized in.raw in-stream.vmdk") == 0);
    check_disk("in-stream.vmdk", CFS_FMT_VMDK_STREAM, "vmdk", true);
    CHECK(sh("cp out.vmdk own.vmdk") == 0);
    check_disk("own.vmdk", CFS_FMT_VMDK_STREAM, "vmdk", true);

    /* Old qemu wrote version 1; without the end-of-stream marker ESXi
     * stops reading (ref/formats.md §3.5). */
    CHECK(sh("cp in-stream.vmdk v1.vmdk") == 0);
    patch("v1.vmdk", 4, "\1", 1);
    check_unfit_stream("v1.vmdk", "version 3");
    uint64_t size = file_size("in-stream.vmdk");
    CHECK(sh("head -c %llu in-stream.vmdk >no-eos.vmdk && "
             "head -c 512 /dev/urandom >>no-eos.vmdk",
             (unsigned long long)(size - 1024)) == 0);
    check_unfit_stream("no-eos.vmdk", "end-of-stream");
}

/* ---- OVAs ---- */

/* A descriptor as a person writes one (after ref/vcd-api.md A.6): sizes
 * and format wrong on purpose, a second file that is not a disk. */
static void write_ovf(const char *name, const char *disk_href, const char *format,
                      uint64_t capacity)
{
    char *xml;
    CHECK(asprintf(&xml,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
                   "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
                   "xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                   "CIM_ResourceAllocationSettingData\" "
                   "xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
                   "CIM_VirtualSystemSettingData\">\n"
                   "  <References>\n"
                   "    <File ovf:href=\"%s\" ovf:id=\"file1\" ovf:size=\"1\"/>\n"
                   "    <File ovf:href=\"notes.txt\" ovf:id=\"file2\"/>\n"
                   "  </References>\n"
                   "  <DiskSection>\n"
                   "    <Info>Virtual disk information</Info>\n"
                   "    <Disk ovf:capacity=\"%llu\" ovf:capacityAllocationUnits=\"byte\" "
                   "ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\" ovf:populatedSize=\"1\" "
                   "ovf:format=\"%s\"/>\n"
                   "  </DiskSection>\n"
                   "  <VirtualSystem ovf:id=\"vm1\">\n"
                   "    <Info>A virtual machine</Info>\n"
                   "    <Name>vm1</Name>\n"
                   "    <VirtualHardwareSection>\n"
                   "      <Info>Virtual hardware requirements</Info>\n"
                   "      <Item>\n"
                   "        <rasd:ElementName>Hard Disk 1</rasd:ElementName>\n"
                   "        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n"
                   "        <rasd:InstanceID>4</rasd:InstanceID>\n"
                   "        <rasd:ResourceType>17</rasd:ResourceType>\n"
                   "      </Item>\n"
                   "    </VirtualHardwareSection>\n"
                   "  </VirtualSystem>\n"
                   "</Envelope>\n",
                   disk_href, (unsigned long long)capacity, format) > 0);
    write_text(name, xml, strlen(xml));
    free(xml);
}

/* An attribute of the element of local name el whose ovf:attr key equals
 * val (XPath on local names). */
static const char *ovf_attr(const char *ovf, const char *el, const char *key, const char *val,
                            const char *attr)
{
    return sh_line("xmllint --xpath \"string(//*[local-name()='%s'][@*[local-name()='%s']='%s']"
                   "/@*[local-name()='%s'])\" %s",
                   el, key, val, attr, ovf);
}

static uint64_t ovf_attr_u64(const char *ovf, const char *el, const char *key, const char *val,
                             const char *attr)
{
    return strtoull(ovf_attr(ovf, el, key, val, attr), NULL, 10);
}

static int package_of(const char *name, struct cfs_package *pkg)
{
    struct cfs_source *src = open_in(name);
    if (!src)
        return -ENOENT;
    int err = cfs_package_make(src, NULL, "vm", &hw, NULL, 0, 0, name, pkg);
    if (err == 0) {
        for (size_t i = 0; i < pkg->n_files; i++)
            write_source(pkg->files[i].src, pkg->files[i].href);
        write_text("pkg.ovf", pkg->ovf, pkg->ovf_len);
    }
    cfs_package_free(pkg);
    cfs_source_close(src);
    return err;
}

/* The OVA's own descriptor kept, its disk converted and the descriptor
 * saying so; the manifest left behind. */
/* The source image's properties reach the generated OVF (a Glance image
 * copied into a catalog): its disk bus, NIC and firmware, not the mount's
 * defaults. */
static void test_props(void)
{
    static const char props[] = "hw_disk_bus\0sata\0hw_vif_model\0e1000e\0"
                                "hw_firmware_type\0uefi\0";
    struct cfs_package pkg;
    make_raw("p.raw", 2 * MiB);
    struct cfs_source *src = open_in("p.raw");
    if (!src)
        return;
    CHECK(cfs_package_make(src, NULL, "vm", &hw, props, sizeof props - 1, 0, "p.raw", &pkg) == 0);
    CHECK(pkg.ovf && strstr(pkg.ovf, "vmware.sata.ahci") != NULL);
    CHECK(pkg.ovf && strstr(pkg.ovf, ">E1000e<") != NULL);
    CHECK(pkg.ovf && strstr(pkg.ovf, "vmw:value=\"efi\"") != NULL);
    CHECK(pkg.ovf && strstr(pkg.ovf, "lsilogic") == NULL);
    cfs_package_free(&pkg);
    cfs_source_close(src);
}

static void test_ova_convert(void)
{
    struct cfs_package pkg;
    CHECK(sh("mkdir -p ova && cp in-sparse.vmdk ova/disk1.vmdk && echo hello >ova/notes.txt && "
             "echo 'SHA1(disk1.vmdk)= 00' >ova/vm.mf") == 0);
    write_ovf("ova/vm.ovf", "disk1.vmdk",
              "http://www.vmware.com/interfaces/specifications/vmdk.html#sparse",
              vsize("in-sparse.vmdk", "vmdk"));
    CHECK(sh("tar --format=ustar -C ova -cf vm.ova vm.ovf vm.mf disk1.vmdk notes.txt") == 0);
    CHECK(sniff_of("vm.ova") == CFS_FMT_OVA);
    CHECK(sh("rm -f disk1.vmdk notes.txt vm.mf") == 0);
    CHECK(package_of("vm.ova", &pkg) == 0);
    check_vmdk("disk1.vmdk", "in-sparse.vmdk", "vmdk");
    CHECK(sh("cmp -s notes.txt ova/notes.txt") == 0);
    CHECK(access(P("vm.mf"), F_OK) != 0);
    if (have_schemas)
        CHECK(sh("/work/shared/schemas/validate ovf pkg.ovf >/dev/null 2>&1") == 0);
    CHECK(ovf_attr_u64("pkg.ovf", "File", "href", "disk1.vmdk", "size") == file_size("disk1.vmdk"));
    CHECK(ovf_attr_u64("pkg.ovf", "File", "href", "notes.txt", "size") == 6);
    CHECK_STR(ovf_attr("pkg.ovf", "Disk", "diskId", "vmdisk1", "format"),
              "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized");
    /* The VMDK's capacity is whole grains: the descriptor may not say less. */
    CHECK(ovf_attr_u64("pkg.ovf", "Disk", "diskId", "vmdisk1", "capacity") ==
          ((vsize("in-sparse.vmdk", "vmdk") + 65535) & ~65535ull));
    CHECK(ovf_attr_u64("pkg.ovf", "Disk", "diskId", "vmdisk1", "populatedSize") > 1);
    CHECK_STR(sh_line("xmllint --xpath \"string(//*[local-name()='Name'])\" pkg.ovf"), "vm1");
}

/* A streamOptimized disk in an OVA travels as it is; only its size is
 * corrected. */
static void test_ova_as_is(void)
{
    struct cfs_package pkg;
    const char *url = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";
    CHECK(sh("rm -rf ova && mkdir ova && cp in-stream.vmdk ova/d.vmdk && echo hi >ova/notes.txt") ==
          0);
    write_ovf("ova/a.ovf", "d.vmdk", url, vsize("in-stream.vmdk", "vmdk"));
    /* The descriptor not first: found by listing the archive. */
    CHECK(sh("tar --format=ustar -C ova -cf s.ova notes.txt a.ovf d.vmdk") == 0);
    CHECK(sniff_of("s.ova") == CFS_FMT_OVA);
    CHECK(package_of("s.ova", &pkg) == 0);
    CHECK(sh("cmp -s d.vmdk in-stream.vmdk") == 0);
    CHECK(ovf_attr_u64("pkg.ovf", "File", "href", "d.vmdk", "size") == file_size("d.vmdk"));
    CHECK_STR(ovf_attr("pkg.ovf", "Disk", "diskId", "vmdisk1", "format"), url);
    CHECK(ovf_attr_u64("pkg.ovf", "Disk", "diskId", "vmdisk1", "populatedSize") == 1);
}

/* Refused with -EINVAL and one log line naming the file, containing why. */
static void check_refused(const char *name, const char *why)
{
    struct cfs_package pkg;
    int named;
    fprintf(stderr, "refuse: %s\n", name);
    log_skip();
    CHECK(package_of(name, &pkg) == -EINVAL);
    CHECK(log_lines(name, &named) == 1 && named == 1);
    if (!strstr(log_last, why))
        fprintf(stderr, "log: %s", log_last);
    CHECK(strstr(log_last, why) != NULL);
}

static void test_refusals(void)
{
    /* An OVA that references a file it does not hold. */
    CHECK(sh("rm -rf ova && mkdir ova && cp in-stream.vmdk ova/d.vmdk") == 0);
    write_ovf("ova/a.ovf", "d.vmdk", "x", 1);
    CHECK(sh("tar --format=ustar -C ova -cf missing.ova a.ovf d.vmdk") == 0);
    CHECK(sniff_of("missing.ova") == CFS_FMT_OVA);
    check_refused("missing.ova", "references notes.txt, which it does not contain");

    /* Cut short inside the disk. */
    CHECK(sh("head -c 5000 vm.ova >cut.ova") == 0);
    CHECK(sniff_of("cut.ova") == CFS_FMT_OVA);
    check_refused("cut.ova", "past the end of the archive");

    /* A reference that cannot be a transfer URL's last component. */
    CHECK(sh("echo x >'ova/my disk.vmdk' && echo x >ova/notes.txt") == 0);
    write_ovf("ova/a.ovf", "my disk.vmdk", "x", 1);
    CHECK(sh("tar --format=ustar -C ova -cf space.ova a.ovf 'my disk.vmdk' notes.txt") == 0);
    check_refused("space.ova", "[A-Za-z0-9._-]");

    /* The disk of an OVA is itself a descriptor. */
    CHECK(sh("qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 1M") == 0);
    CHECK(sh("cp flat.vmdk ova/d.vmdk") == 0);
    write_ovf("ova/a.ovf", "d.vmdk", "x", 1);
    CHECK(sh("tar --format=ustar -C ova -cf desc.ova a.ovf d.vmdk notes.txt") == 0);
    check_refused("desc.ova", "descriptor-only");

    /* Alone: a descriptor, a descriptor-only VMDK, a tar that is no OVA,
     * an empty file. */
    CHECK(sh("cp ova/a.ovf lone.ovf") == 0);
    CHECK(sniff_of("lone.ovf") == CFS_FMT_OVF);
    check_refused("lone.ovf", "an .ovf descriptor alone cannot be imported");
    CHECK(sniff_of("flat.vmdk") == CFS_FMT_VMDK_DESC);
    check_refused("flat.vmdk", "descriptor-only VMDK");
    CHECK(sh("tar --format=ustar -cf plain.tar in.raw") == 0);
    CHECK(sniff_of("plain.tar") == CFS_FMT_RAW);
    check_refused("plain.tar", "without an .ovf");
    /* Raw by sniffing, but images and archives of other kinds. */
    CHECK(sh("qemu-img create -q -f vhdx x.vhdx 1M && qemu-img create -q -f vdi x.vdi 1M && "
             "gzip -c in.raw >in.raw.gz") == 0);
    CHECK(sniff_of("x.vhdx") == CFS_FMT_RAW);
    check_refused("x.vhdx", "VHDX");
    check_refused("x.vdi", "VDI");
    check_refused("in.raw.gz", "gzip");
    CHECK(sh(": >empty.raw") == 0);
    check_refused("empty.raw", "empty");
}

/* ---- sniffing corners ---- */

static void test_sniff(void)
{
    static const char *const ovfs[] = {
        "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<ovf:Envelope "
        "xmlns:ovf=\"x\"/>",
        "  <Envelope>",
    };
    static const char *const not_ovfs[] = { "<Envelopes>", "<?xml version=\"1.0\"?><html>",
                                            "<!-- unterminated" };
    for (size_t i = 0; i < sizeof ovfs / sizeof *ovfs; i++) {
        write_text("t.ovf", ovfs[i], strlen(ovfs[i]));
        CHECK(sniff_of("t.ovf") == CFS_FMT_OVF);
    }
    for (size_t i = 0; i < sizeof not_ovfs / sizeof *not_ovfs; i++) {
        write_text("t.ovf", not_ovfs[i], strlen(not_ovfs[i]));
        CHECK(sniff_of("t.ovf") == CFS_FMT_RAW);
    }
    /* A raw disk that ends in a VHD cookie by chance is still raw. */
    CHECK(sh("cp in.raw cookie.raw && printf conectix | dd of=cookie.raw bs=1 seek=%llu "
             "conv=notrunc status=none",
             (unsigned long long)(file_size("in.raw") - 512)) == 0);
    CHECK(sniff_of("cookie.raw") == CFS_FMT_RAW);
    CHECK(strcmp(cfs_fmt_ext(CFS_FMT_VMDK_STREAM), "vmdk") == 0);
    CHECK(strcmp(cfs_fmt_ext(CFS_FMT_VHD), "vhd") == 0);
    CHECK(strcmp(cfs_fmt_ext(CFS_FMT_OVA), "ova") == 0);
    CHECK(strcmp(cfs_fmt_ext(CFS_FMT_ISO), "iso") == 0);
}

/* A window onto a source: reads clamp to it, holes carry through. */
static void test_slice(void)
{
    char *data = calloc(1, 4 * CFS_GRAIN_BYTES);
    struct cfs_source *mem = NULL, *s = NULL;
    char b[16];
    memcpy(data + CFS_GRAIN_BYTES + 10, "0123456789", 10);
    CHECK(cfs_mem_source_new(data, 4 * CFS_GRAIN_BYTES, &mem) == 0);
    CHECK(cfs_slice_source_open(mem, CFS_GRAIN_BYTES + 10, 5, &s) == 0);
    CHECK(s->size == 5 && s->alloc == NULL);
    CHECK(cfs_source_pread(s, b, sizeof b, 0) == 5 && memcmp(b, "01234", 5) == 0);
    CHECK(cfs_source_pread(s, b, sizeof b, 3) == 2 && memcmp(b, "34", 2) == 0);
    CHECK(cfs_source_pread(s, b, sizeof b, 5) == 0);
    cfs_source_close(s);
    CHECK(cfs_slice_source_open(mem, 1, 4 * CFS_GRAIN_BYTES, &s) == -EINVAL);
    cfs_source_close(mem);

    /* A sparse file: the window's grains are allocated where the file's are. */
    CHECK(sh("truncate -s 1M holes.raw && printf x | dd of=holes.raw bs=1 seek=%u conv=notrunc "
             "status=none",
             3 * CFS_GRAIN_BYTES) == 0);
    struct cfs_source *f = open_in("holes.raw");
    if (f && f->alloc) {
        CHECK(cfs_slice_source_open(f, CFS_GRAIN_BYTES + 512, 4 * CFS_GRAIN_BYTES, &s) == 0);
        CHECK(s->alloc && s->alloc->n_grains == 4 && s->alloc->n_alloc == 2);
        CHECK(cfs_alloc_test(s->alloc, 1) && cfs_alloc_test(s->alloc, 2));
        cfs_source_close(s);
    }
    cfs_source_close(f);
}

/* ---- the shared corpus: packaged and equal, or refused in one line ---- */

static void test_corpus(void)
{
    static const struct {
        const char *name, *qemu_fmt;
        enum cfs_fmt fmt;
        int err;
    } corpus[] = {
        { "ext2.qcow2", "qcow2", CFS_FMT_QCOW2, 0 },
        { "windows_volume.qcow2", "qcow2", CFS_FMT_QCOW2, 0 },
        { "ext2.vmdk", "vmdk", CFS_FMT_VMDK_SPARSE, 0 },
        { "ext2.vhd", "vpc", CFS_FMT_VHD, 0 },
        { "iso9660.raw", "raw", CFS_FMT_ISO, 0 },
        { "fat-differential.vhd", "vpc", CFS_FMT_VHD, -ENOTSUP },
        { "image.vhd", "vpc", CFS_FMT_VHD, -EIO },
        { "image-differential.vhd", "vpc", CFS_FMT_VHD, -EIO },
    };
    const char *cdir = "/work/shared/corpus";
    if (access(cdir, R_OK) != 0) {
        printf("skip: no corpus in %s\n", cdir);
        return;
    }
    for (size_t i = 0; i < sizeof corpus / sizeof *corpus; i++) {
        char path[PATH_MAX];
        struct cfs_package pkg;
        int named;
        snprintf(path, sizeof path, "%s/%s", cdir, corpus[i].name);
        CHECK(sh("cp %s c-%s", path, corpus[i].name) == 0);
        char name[PATH_MAX];
        snprintf(name, sizeof name, "c-%s", corpus[i].name);
        fprintf(stderr, "corpus: %s\n", name);
        CHECK(sniff_of(name) == corpus[i].fmt);
        log_skip();
        int err = package_of(name, &pkg);
        if (err != corpus[i].err)
            fprintf(stderr, "%s: %d\n", name, err);
        CHECK(err == corpus[i].err);
        if (err) {
            CHECK(log_lines(name, &named) == 1 && named == 1);
        } else {
            /* package_of wrote the disk under its href: vm.vmdk. */
            check_vmdk("vm.vmdk", name, corpus[i].qemu_fmt);
        }
    }
}

/* The disks of an OVA for Glance (ova_disks.c): only the files the
 * DiskSection names, where they lie in the archive, their format; the
 * descriptor; the refusals of the vCD path. */
static void test_ova_disks(void)
{
    struct cfs_ova_disk disks[OVF_MAX_ITEMS];
    size_t n = 0;
    char *ovf = NULL;
    struct cfs_source *src = open_in("vm.ova");

    CHECK(cfs_ova_disks(src, "vm.ova", disks, &n, &ovf) == 0);
    CHECK(n == 1);
    CHECK_STR(disks[0].href, "disk1.vmdk");
    CHECK(disks[0].fmt == CFS_FMT_VMDK_SPARSE);
    CHECK(disks[0].len == file_size("in-sparse.vmdk"));
    CHECK(sh("cmp -s -i 0:%llu -n %llu in-sparse.vmdk vm.ova", (unsigned long long)disks[0].off,
             (unsigned long long)disks[0].len) == 0);
    CHECK(ovf && strstr(ovf, "<Envelope") != NULL);
    free(ovf);
    cfs_ova_disks_free(disks, &n);
    CHECK(n == 0);
    cfs_source_close(src);

    /* A missing file that is no disk does not matter here (missing.ova);
     * a missing disk does. */
    src = open_in("missing.ova");
    CHECK(cfs_ova_disks(src, "missing.ova", disks, &n, NULL) == 0 && n == 1);
    cfs_ova_disks_free(disks, &n);
    cfs_source_close(src);
    write_ovf("ova/a.ovf", "gone.vmdk", "x", 1);
    CHECK(sh("tar --format=ustar -C ova -cf gone.ova a.ovf notes.txt") == 0);
    static const char *const refused[] = { "gone.ova", "desc.ova", "cut.ova" };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        src = open_in(refused[i]);
        CHECK(cfs_ova_disks(src, refused[i], disks, &n, NULL) == -EINVAL);
        CHECK(n == 0);
        cfs_source_close(src);
    }
}

int main(void)
{
    if (system("qemu-img --version >/dev/null 2>&1 && xmllint --version >/dev/null 2>&1") != 0) {
        printf("skip: qemu-img or xmllint not found\n");
        return 77;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    CHECK(cfs_log_open(log_path, CFS_LOG_INFO) == 0);
    have_schemas = access("/work/shared/schemas/validate", X_OK) == 0;

    test_slice();
    test_disks();
    test_sniff();
    test_props();
    test_ova_convert();
    test_ova_as_is();
    test_refusals();
    test_ova_disks();
    test_corpus();

    if (unit_failures)
        printf("%d failures; files kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
