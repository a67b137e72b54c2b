/* The .vmdk, .ovf and .ova views (core/format/vmdk_stream.c, ovf.c, ova.c),
 * checked by independent readers: qemu-img compare/check/info and libvmdk's
 * vmdkinfo read the VMDK, the DMTF/VMware schemas (xmllint) and libxml2's
 * XPath read the OVF, GNU tar reads the OVA. Guest disks are sparse local
 * files made here with plain file I/O. Exit 77 when a reader is missing. */
#define _GNU_SOURCE
#include "format.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

static char dir[512];
static char validator[4096];

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Runs a shell command; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    if (rc)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    free(cmd);
    return rc;
}

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static char *path(const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    return p;
}

static void pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        abort();
}

static void pwrite_random(int fd, uint64_t off, size_t len)
{
    unsigned char *b = malloc(len);
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)rnd();
    pwrite_all(fd, b, len, off);
    free(b);
}

/* Reads all of src into a file, in chunks of odd sizes; the byte count. */
static uint64_t dump(struct cfs_source *src, const char *file)
{
    static const size_t chunks[] = { 1, 511, 4097, 65537, 131075, 1048577, 66048 };
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    unsigned char *buf = malloc(1048577);
    uint64_t off = 0;
    for (int i = 0;; i++) {
        size_t want = chunks[i % 7];
        ssize_t n = cfs_source_pread(src, buf, want, off);
        CHECK(n >= 0);
        if (n <= 0)
            break;
        CHECK((size_t)n == want || off + (uint64_t)n == src->size);
        pwrite_all(fd, buf, (size_t)n, off);
        off += (uint64_t)n;
    }
    free(buf);
    close(fd);
    return off;
}

static unsigned char *slurp(const char *file, size_t *len)
{
    int fd = open(file, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        abort();
    unsigned char *b = malloc((size_t)st.st_size + 1);
    if (pread(fd, b, (size_t)st.st_size, 0) != st.st_size)
        abort();
    close(fd);
    b[st.st_size] = 0;
    *len = (size_t)st.st_size;
    return b;
}

/* Random reads through the view equal the bytes of the file made of it. */
static void random_reads(struct cfs_source *src, const unsigned char *file, size_t len, int n)
{
    unsigned char *b = malloc(300 * KiB);
    for (int i = 0; i < n; i++) {
        uint64_t off = rnd() % (len + 1000), want = rnd() % (300 * KiB);
        if (i % 4 == 0 && len > 66048) /* around record and table boundaries */
            off = len - 512 - 66048 * (rnd() % 3) - (rnd() % 16);
        ssize_t got = cfs_source_pread(src, b, (size_t)want, off);
        uint64_t expect = off >= len ? 0 : (want < len - off ? want : len - off);
        CHECK(got == (ssize_t)expect);
        if (got > 0)
            CHECK(memcmp(b, file + off, (size_t)got) == 0);
    }
    free(b);
}

struct reader {
    struct cfs_source *src;
    const unsigned char *file;
    size_t len;
    int bad;
    uint64_t seed;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    unsigned char *b = malloc(200 * KiB);
    uint64_t s = r->seed;
    for (int i = 0; i < 300; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint64_t off = s % r->len, want = (s >> 20) % (200 * KiB);
        if (want > r->len - off)
            want = r->len - off;
        ssize_t got = cfs_source_pread(r->src, b, (size_t)want, off);
        if (got != (ssize_t)want || memcmp(b, r->file + off, (size_t)want) != 0)
            r->bad++;
    }
    free(b);
    return NULL;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* ---- .vmdk ---- */

static uint64_t overhead(uint64_t size)
{
    uint64_t ng = size ? (size + 65535) / 65536 : 1, ngt = (ng + 511) / 512,
             gds = (4 * ngt + 511) / 512;
    return 21 + gds + 4 * ngt;
}

/* Builds the view of guest file raw, checks it; returns the view's size. */
static uint64_t check_vmdk(const char *name, const char *adapter, struct cfs_source *disk,
                           const char *raw)
{
    char vmdk_name[128];
    snprintf(vmdk_name, sizeof vmdk_name, "%s.vmdk", name);
    char *out = path(vmdk_name);
    uint64_t size = disk->size;
    uint64_t na = disk->alloc ? disk->alloc->n_alloc : (size + 65535) / 65536;
    struct cfs_source *v;

    CHECK(vmdk_stream_open(disk, vmdk_name, 0x1a2b3c4d, adapter, &v) == 0);
    uint64_t expect = 512 * (overhead(size) + 129 * na + 1);
    CHECK(v->size == expect);
    CHECK(dump(v, out) == v->size);
    struct stat st;
    CHECK(stat(out, &st) == 0 && (uint64_t)st.st_size == expect);

    size_t len;
    unsigned char *file = slurp(out, &len);
    CHECK(memcmp(file, "KDMV", 4) == 0);
    CHECK(le(file + 4, 4) == 3 && le(file + 8, 4) == 0x30001);
    CHECK(le(file + 12, 8) == (size ? (size + 65535) / 65536 : 1) * 128);
    CHECK(le(file + 56, 8) == 21 && le(file + 64, 8) == overhead(size));
    CHECK(strstr((char *)file + 512, vmdk_name) != NULL);
    for (size_t i = len - 512; i < len; i++)
        if (file[i]) {
            CHECK(!"end-of-stream marker is zeros");
            break;
        }
    random_reads(v, file, len, 300);

    /* Several readers at once share the grain cache. */
    struct reader r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct reader){ v, file, len, 0, rnd() | 1 };
        pthread_create(&t[i], NULL, reader_main, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(r[i].bad == 0);
    }
    cfs_source_close(v);
    free(file);

    CHECK(sh("qemu-img compare -q -f raw -F vmdk '%s' '%s'", raw, out) == 0);
    CHECK(sh("qemu-img check -q -f vmdk '%s'", out) == 0);
    CHECK(sh("qemu-img info -f vmdk '%s' | grep -q 'create type: streamOptimized'", out) == 0);
    CHECK(sh("vmdkinfo '%s' >/dev/null", out) == 0);
    free(out);
    return expect;
}

static void vmdk_of_file(const char *name, uint64_t size, void (*fill)(int fd, uint64_t size),
                         const char *adapter)
{
    char raw_name[128];
    snprintf(raw_name, sizeof raw_name, "%s.raw", name);
    char *raw = path(raw_name);
    int fd = open(raw, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
    if (fill)
        fill(fd, size);
    close(fd);

    struct cfs_source *disk;
    CHECK(cfs_file_source_open(raw, &disk) == 0);
    fprintf(stderr, "vmdk %s: %llu bytes, %llu grains allocated\n", name, (unsigned long long)size,
            (unsigned long long)disk->alloc->n_alloc);
    check_vmdk(name, adapter, disk, raw);
    free(raw);
}

static void fill_tail_byte(int fd, uint64_t size)
{
    pwrite_all(fd, "\x5a", 1, size - 1);
}

static void fill_scattered(int fd, uint64_t size)
{
    for (int i = 0; i < 40; i++)
        pwrite_random(fd, rnd() % (size / 4096) * 4096, 4096);
    for (int i = 1; i < 6; i++) /* across grain boundaries */
        pwrite_random(fd, (uint64_t)i * 7 * 65536 - 100, 4096);
}

static void fill_full(int fd, uint64_t size)
{
    pwrite_random(fd, 0, (size_t)size);
}

static void fill_odd(int fd, uint64_t size)
{
    pwrite_random(fd, 0, 70000);
    pwrite_random(fd, size - 1000, 1000); /* the partial last grain */
}

static void fill_big(int fd, uint64_t size)
{
    pwrite_random(fd, 0, 4096);
    pwrite_random(fd, 2 * GiB - 2048, 4096); /* across 2^31 */
    pwrite_random(fd, 3 * GiB + 12345, MiB);
    pwrite_random(fd, 4 * GiB - 100, 200); /* across 2^32 */
    pwrite_random(fd, size - 10, 10);
}

/* A disk with no allocation map: every grain is a record. */
static void vmdk_of_memory(void)
{
    size_t len = MiB + 1000;
    char *data = malloc(len), *raw = path("memory.raw");
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i % 251 ? rnd() : 0);
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pwrite_all(fd, data, len, 0);
    close(fd);
    struct cfs_source *disk;
    CHECK(cfs_mem_source_new(data, len, &disk) == 0);
    CHECK(disk->alloc == NULL);
    CHECK(check_vmdk("memory", "buslogic", disk, raw) == 512 * (overhead(len) + 129 * 17 + 1));
    free(raw);
}

static void vmdk_refusals(void)
{
    struct cfs_source *disk, *v;
    CHECK(cfs_mem_source_new(calloc(1, 512), 512, &disk) == 0);
    CHECK(vmdk_stream_open(disk, "a\"b.vmdk", 1, "lsilogic", &v) == -EINVAL);
    CHECK(cfs_mem_source_new(calloc(1, 512), 512, &disk) == 0);
    CHECK(vmdk_stream_open(disk, "a\nb.vmdk", 1, "lsilogic", &v) == -EINVAL);
    CHECK(cfs_mem_source_new(calloc(1, 512), 512, &disk) == 0);
    CHECK(vmdk_stream_open(disk, "a.vmdk", 1, "virtio", &v) == -EINVAL);
}

/* ---- .ovf ---- */

static const char *kv(const void *ctx, const char *key)
{
    for (const char *const *p = ctx; *p; p += 2)
        if (strcmp(p[0], key) == 0)
            return p[1];
    return NULL;
}

static char *xpath(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr c = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(c, BAD_CAST "e", BAD_CAST "http://schemas.dmtf.org/ovf/envelope/1");
    xmlXPathRegisterNs(c, BAD_CAST "ovf", BAD_CAST "http://schemas.dmtf.org/ovf/envelope/1");
    xmlXPathRegisterNs(
        c, BAD_CAST "rasd",
        BAD_CAST
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData");
    xmlXPathRegisterNs(
        c, BAD_CAST "vssd",
        BAD_CAST "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData");
    xmlXPathRegisterNs(c, BAD_CAST "vmw", BAD_CAST "http://www.vmware.com/schema/ovf");
    char *full;
    if (asprintf(&full, "string(%s)", expr) < 0)
        abort();
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST full, c);
    char *s = strdup(r && r->stringval ? (char *)r->stringval : "(error)");
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(c);
    free(full);
    return s;
}

#define OS         "/e:Envelope/e:VirtualSystem/e:OperatingSystemSection"
#define ITEM(type) "//e:Item[rasd:ResourceType='" type "']"
#define CTL        "//e:Item[rasd:InstanceID='3']"

struct expect {
    const char *xpath, *value;
};

static void ovf_case(const char *label, const char *const *props, const struct ovf_defaults *d,
                     const struct expect *ex, const char *warning)
{
    struct ovf_params p = {
        .name = "vm-name",
        .vmdk_name = "vm-name.vmdk",
        .vmdk_size = 1208832,
        .capacity = 104923136,
        .populated = 1179648,
        .prop = kv,
        .prop_ctx = props,
        .defaults = d,
    };
    char *xml, *warnings, *file = path("case.ovf");
    if (strcmp(label, "escaping") == 0) {
        p.name = "a<b>&\"c' d\x01\xff</Name>";
        p.vmdk_name = "x&y <z>\".vmdk";
    }
    CHECK(ovf_build(&p, &xml, &warnings) == 0);
    if (!xml)
        return;
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pwrite_all(fd, xml, strlen(xml), 0);
    close(fd);
    if (validator[0] && sh("'%s' ovf '%s' 2>/dev/null", validator, file) != 0 &&
        sh("'%s' ovf '%s'", validator, file) != 0) {
        fprintf(stderr, "%s: OVF does not validate:\n%s\n", label, xml);
        unit_failures++;
    }

    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "case.ovf", NULL, XML_PARSE_NONET);
    CHECK(doc != NULL);
    for (; doc && ex && ex->xpath; ex++) {
        char *got = xpath(doc, ex->xpath);
        if (strcmp(got, ex->value) != 0) {
            fprintf(stderr, "%s: %s is '%s', not '%s'\n", label, ex->xpath, got, ex->value);
            unit_failures++;
        }
        free(got);
    }
    xmlFreeDoc(doc);
    if (!warning ? warnings != NULL : !warnings || !strstr(warnings, warning)) {
        fprintf(stderr, "%s: warnings '%s', expected %s%s\n", label, warnings ? warnings : "(none)",
                warning ? "one with " : "none", warning ? warning : "");
        unit_failures++;
    }
    free(xml);
    free(warnings);
    free(file);
}

static void ovf_cases(void)
{
    static const struct ovf_defaults hw17 = { 2, 4096, 17, "lsilogic", "vmxnet3" };
    static const struct ovf_defaults hw14 = { 1, 1024, 14, "pvscsi", "e1000" };

    /* Nothing known: the defaults, no warning. */
    {
        const char *props[] = { NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "otherGuest64" },
                               { OS "/@ovf:id", "102" },
                               { "//e:File/@ovf:href", "vm-name.vmdk" },
                               { "//e:File/@ovf:size", "1208832" },
                               { "//e:Disk/@ovf:capacity", "104923136" },
                               { "//e:Disk/@ovf:populatedSize", "1179648" },
                               { "//e:VirtualSystem/e:Name", "vm-name" },
                               { "//vssd:VirtualSystemType", "vmx-13" },
                               { ITEM("3") "/rasd:VirtualQuantity", "1" },
                               { "count(" ITEM("3") "/vmw:CoresPerSocket)", "0" },
                               { ITEM("4") "/rasd:VirtualQuantity", "1024" },
                               { CTL "/rasd:ResourceType", "6" },
                               { CTL "/rasd:ResourceSubType", "VirtualSCSI" },
                               { ITEM("17") "/rasd:Parent", "3" },
                               { ITEM("17") "/rasd:HostResource", "ovf:/disk/vmdisk1" },
                               { ITEM("10") "/rasd:ResourceSubType", "VmxNet3" },
                               { ITEM("10") "/rasd:Connection", "VM Network" },
                               { "//e:NetworkSection/e:Network/@ovf:name", "VM Network" },
                               { "count(//vmw:Config)", "0" },
                               { NULL, NULL } };
        ovf_case("defaults", props, NULL, ex, NULL);
    }
    /* Mount defaults. */
    {
        const char *props[] = { NULL };
        struct expect ex[] = { { "//vssd:VirtualSystemType", "vmx-14" },
                               { CTL "/rasd:ResourceSubType", "VirtualSCSI" },
                               { ITEM("10") "/rasd:ResourceSubType", "E1000" },
                               { NULL, NULL } };
        ovf_case("mount defaults", props, &hw14, ex, NULL);
    }
    /* os_type windows: Windows ids, and controller/NIC with inbox drivers. */
    {
        const char *props[] = { "os_type", "windows", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "windows9_64Guest" },
                               { OS "/@ovf:id", "102" },
                               { CTL "/rasd:ResourceSubType", "lsilogicsas" },
                               { ITEM("10") "/rasd:ResourceSubType", "E1000e" },
                               { NULL, NULL } };
        ovf_case("windows", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "os_distro", "windows", "os_version", "Server 2019", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "windows2019srv_64Guest" }, { NULL, NULL } };
        ovf_case("windows 2019 vmx-17", props, &hw17, ex, NULL);
        struct expect ex13[] = { { OS "/@vmw:osType", "windows9Server64Guest" }, { NULL, NULL } };
        ovf_case("windows 2019 vmx-13", props, NULL, ex13, NULL);
    }
    {
        const char *props[] = { "os_type", "windows", "os_version", "2012 R2", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "windows8Server64Guest" },
                               { OS "/@ovf:id", "115" },
                               { NULL, NULL } };
        ovf_case("windows 2012r2", props, NULL, ex, NULL);
    }
    /* Linux distributions. */
    {
        const char *props[] = { "os_type",    "linux", "os_distro", "ubuntu",
                                "os_version", "22.04", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "ubuntu64Guest" },
                               { OS "/@ovf:id", "94" },
                               { NULL, NULL } };
        ovf_case("ubuntu", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "os_distro", "centos", "os_version", "7", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "centos7_64Guest" },
                               { OS "/@ovf:id", "107" },
                               { NULL, NULL } };
        ovf_case("centos 7", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "os_distro", "debian", "os_version", "10", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "debian10_64Guest" },
                               { OS "/@ovf:id", "96" },
                               { NULL, NULL } };
        ovf_case("debian 10 vmx-14", props, &hw14, ex, NULL);
        struct expect ex13[] = { { OS "/@vmw:osType", "debian9_64Guest" }, { NULL, NULL } };
        ovf_case("debian 10 vmx-13", props, NULL, ex13, NULL);
    }
    {
        const char *props[] = { "os_type", "linux", "os_distro", "gentoo", NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "otherLinux64Guest" },
                               { OS "/@ovf:id", "101" },
                               { NULL, NULL } };
        ovf_case("other linux", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "os_distro", "ubuntu", "architecture", "aarch64", NULL };
        ovf_case("arm", props, NULL, NULL, "architecture=aarch64");
    }
    /* An image made on VMware says what it is. */
    {
        const char *props[] = { "vmware_ostype",
                                "rhel7_64Guest",
                                "vmware_adaptertype",
                                "paraVirtual",
                                "os_distro",
                                "ubuntu",
                                NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "rhel7_64Guest" },
                               { CTL "/rasd:ResourceSubType", "VirtualSCSI" },
                               { NULL, NULL } };
        ovf_case("vmware properties", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "vmware_ostype",      "bad\"id", "os_distro", "fedora",
                                "vmware_adaptertype", "ide",     NULL };
        struct expect ex[] = { { OS "/@vmw:osType", "fedora64Guest" },
                               { CTL "/rasd:ResourceType", "5" },
                               { NULL, NULL } };
        ovf_case("bad vmware_ostype", props, NULL, ex, "vmware_ostype=bad\"id");
    }
    /* Disk bus. */
    {
        const char *props[] = { "hw_disk_bus", "scsi", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceType", "6" },
                               { CTL "/rasd:ResourceSubType", "VirtualSCSI" },
                               { NULL, NULL } };
        ovf_case("bus scsi", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_disk_bus", "ide", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceType", "5" },
                               { "count(" CTL "/rasd:ResourceSubType)", "0" },
                               { CTL "/rasd:ElementName", "IDE Controller 0" },
                               { ITEM("17") "/rasd:Parent", "3" },
                               { NULL, NULL } };
        ovf_case("bus ide", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_disk_bus", "sata", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceType", "20" },
                               { CTL "/rasd:ResourceSubType", "vmware.sata.ahci" },
                               { NULL, NULL } };
        ovf_case("bus sata", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_disk_bus", "virtio", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceType", "6" },
                               { CTL "/rasd:ResourceSubType", "VirtualSCSI" },
                               { NULL, NULL } };
        ovf_case("bus virtio", props, NULL, ex, "hw_disk_bus=virtio");
    }
    /* SCSI model. */
    {
        const char *props[] = { "hw_disk_bus", "scsi", "hw_scsi_model", "lsilogic", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceSubType", "lsilogic" }, { NULL, NULL } };
        ovf_case("scsi lsilogic", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_disk_bus", "scsi", "hw_scsi_model", "virtio-scsi", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceSubType", "VirtualSCSI" }, { NULL, NULL } };
        ovf_case("scsi virtio-scsi", props, NULL, ex, "hw_scsi_model=virtio-scsi");
    }
    {
        const char *props[] = { "hw_scsi_model", "pvscsi", NULL };
        struct expect ex[] = { { CTL "/rasd:ResourceSubType", "VirtualSCSI" }, { NULL, NULL } };
        ovf_case("scsi pvscsi", props, NULL, ex, NULL);
    }
    /* NIC. */
    {
        const char *props[] = { "hw_vif_model", "e1000", NULL };
        struct expect ex[] = { { ITEM("10") "/rasd:ResourceSubType", "E1000" }, { NULL, NULL } };
        ovf_case("nic e1000", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_vif_model", "vmxnet3", "os_type", "windows", NULL };
        struct expect ex[] = { { ITEM("10") "/rasd:ResourceSubType", "VmxNet3" }, { NULL, NULL } };
        ovf_case("nic vmxnet3", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_vif_model", "virtio", NULL };
        struct expect ex[] = { { ITEM("10") "/rasd:ResourceSubType", "VmxNet3" }, { NULL, NULL } };
        ovf_case("nic virtio", props, NULL, ex, "hw_vif_model=virtio");
    }
    /* A guest with only virtio drivers: both warnings, "; "-separated. */
    {
        const char *props[] = { "hw_disk_bus", "virtio", "hw_vif_model", "virtio", NULL };
        ovf_case("virtio guest", props, NULL, NULL, "; hw_vif_model=virtio");
    }
    /* Firmware. */
    {
        const char *props[] = { "hw_firmware_type", "uefi", NULL };
        struct expect ex[] = { { "//vmw:Config[@vmw:key='firmware']/@vmw:value", "efi" },
                               { "//vmw:Config/@ovf:required", "false" },
                               { "count(//vmw:Config)", "1" },
                               { NULL, NULL } };
        ovf_case("uefi", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_firmware_type", "uefi", "os_secure_boot", "required", NULL };
        struct expect ex[] = {
            { "//vmw:Config[@vmw:key='bootOptions.efiSecureBootEnabled']/@vmw:value", "true" },
            { NULL, NULL }
        };
        ovf_case("secure boot", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "hw_firmware_type", "bios", NULL };
        struct expect ex[] = { { "count(//vmw:Config)", "0" }, { NULL, NULL } };
        ovf_case("bios", props, NULL, ex, NULL);
    }
    /* CPUs and memory. */
    {
        const char *props[] = {
            "hw_cpu_sockets", "2", "hw_cpu_cores", "4", "min_ram", "2047", NULL
        };
        struct expect ex[] = { { ITEM("3") "/rasd:VirtualQuantity", "8" },
                               { ITEM("3") "/vmw:CoresPerSocket", "4" },
                               { ITEM("4") "/rasd:VirtualQuantity", "2048" },
                               { NULL, NULL } };
        ovf_case("cpu memory", props, NULL, ex, NULL);
    }
    {
        const char *props[] = { "min_ram", "0", NULL };
        struct expect ex[] = { { ITEM("3") "/rasd:VirtualQuantity", "2" },
                               { ITEM("4") "/rasd:VirtualQuantity", "4096" },
                               { NULL, NULL } };
        ovf_case("memory default", props, &hw17, ex, NULL);
    }
    {
        const char *props[] = { "min_ram", "lots", "hw_cpu_cores", "-1", NULL };
        struct expect ex[] = { { ITEM("3") "/rasd:VirtualQuantity", "1" },
                               { ITEM("4") "/rasd:VirtualQuantity", "1024" },
                               { NULL, NULL } };
        ovf_case("bad numbers", props, NULL, ex, "min_ram=lots");
    }
    /* Untrusted names. */
    {
        const char *props[] = { NULL };
        struct expect ex[] = { { "//e:VirtualSystem/e:Name",
                                 "a<b>&\"c' d\xef\xbf\xbd\xef\xbf\xbd</Name>" },
                               { "//e:File/@ovf:href", "x&y <z>\".vmdk" },
                               { NULL, NULL } };
        ovf_case("escaping", props, NULL, ex, NULL);
    }
    /* Bad mount defaults are refused. */
    {
        static const struct ovf_defaults bad = { 1, 1024, 13, "virtio-scsi", "vmxnet3" };
        struct ovf_params p = { .name = "x", .vmdk_name = "x.vmdk", .defaults = &bad };
        char *xml = NULL, *warnings = NULL;
        CHECK(ovf_build(&p, &xml, &warnings) == -EINVAL && !xml && !warnings);
    }
}

/* ---- .ova ---- */

static void ova_of_views(void)
{
    char *raw = path("scattered.raw"), *vmdk_file = path("scattered.vmdk");
    char *ova_file = path("scattered.ova"), *x = path("x");
    struct cfs_source *disk, *vmdk, *ovf, *ova;

    CHECK(cfs_file_source_open(raw, &disk) == 0);
    uint64_t na = disk->alloc->n_alloc, cap = (disk->size + 65535) / 65536 * 65536;
    CHECK(vmdk_stream_open(disk, "scattered.vmdk", 0x1a2b3c4d, "lsilogic", &vmdk) == 0);
    struct ovf_params p = { .name = "scattered",
                            .vmdk_name = "scattered.vmdk",
                            .vmdk_size = vmdk->size,
                            .capacity = cap,
                            .populated = na * 65536 };
    char *xml, *warnings;
    CHECK(ovf_build(&p, &xml, &warnings) == 0);
    size_t xml_len = strlen(xml);
    char *xml_copy = strdup(xml);
    CHECK(cfs_mem_source_new(xml, xml_len, &ovf) == 0);

    struct ova_member m[] = { { "scattered.ovf", ovf }, { "scattered.vmdk", vmdk } };
    uint64_t vmdk_size = vmdk->size;
    CHECK(ova_open(m, 2, 1700000000, &ova) == 0);
    uint64_t expect =
        512 + (xml_len + 511) / 512 * 512 + 512 + (vmdk_size + 511) / 512 * 512 + 1024;
    CHECK(ova->size == expect);
    CHECK(dump(ova, ova_file) == expect);
    size_t len;
    unsigned char *file = slurp(ova_file, &len);
    random_reads(ova, file, len, 300);
    cfs_source_close(ova);
    free(file);

    CHECK(sh("mkdir -p '%s' && tar -xf '%s' -C '%s'", x, ova_file, x) == 0);
    CHECK(sh("cmp '%s' '%s/scattered.vmdk'", vmdk_file, x) == 0);
    CHECK(sh("test \"$(tar -tf '%s')\" = \"$(printf 'scattered.ovf\\nscattered.vmdk')\"",
             ova_file) == 0);
    CHECK(sh("test \"$(stat -c %%Y '%s/scattered.ovf')\" = 1700000000", x) == 0);
    size_t got_len;
    char *ovf_out = path("x/scattered.ovf");
    unsigned char *got = slurp(ovf_out, &got_len);
    CHECK(got_len == xml_len && memcmp(got, xml_copy, xml_len) == 0);
    free(got);
    free(ovf_out);
    free(xml_copy);
    free(warnings);
    free(raw);
    free(vmdk_file);
    free(ova_file);
    free(x);
}

/* A large member of zeros, so an 8 GiB OVA costs nothing. */
static ssize_t zero_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    (void)src, (void)off;
    memset(buf, 0, len);
    return (ssize_t)len;
}

static void zero_close(struct cfs_source *src)
{
    free(src);
}

static const struct cfs_source_ops zero_ops = { .name = "zeros",
                                                .pread = zero_pread,
                                                .close = zero_close };

static void ova_big_member(void)
{
    struct cfs_source *a, *z, *big = calloc(1, sizeof *big), *ova;
    uint64_t big_size = 8 * GiB + 3;
    big->ops = &zero_ops;
    big->size = big_size;
    CHECK(cfs_mem_source_new(strdup("hello\n"), 6, &a) == 0);
    CHECK(cfs_mem_source_new(strdup("bye\n"), 4, &z) == 0);
    struct ova_member m[] = { { "a.txt", a }, { "big.img", big }, { "z.txt", z } };
    CHECK(ova_open(m, 3, 0, &ova) == 0);
    uint64_t big_data = 1024 + 512, big_end = big_data + (big_size + 511) / 512 * 512;
    CHECK(ova->size == big_end + 512 + 512 + 1024);

    /* The file, sparse: the big member's data is a hole. */
    char *file = path("big.ova"), *x = path("y");
    unsigned char *buf = malloc(4096);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(ftruncate(fd, (off_t)ova->size) == 0);
    CHECK(cfs_source_pread(ova, buf, (size_t)big_data, 0) == (ssize_t)big_data);
    pwrite_all(fd, buf, (size_t)big_data, 0);
    CHECK(cfs_source_pread(ova, buf, 4096, big_end) == (ssize_t)(ova->size - big_end));
    pwrite_all(fd, buf, (size_t)(ova->size - big_end), big_end);
    close(fd);
    for (int i = 0; i < 20; i++) {
        uint64_t off = big_data + rnd() % (big_end - big_data);
        ssize_t n = cfs_source_pread(ova, buf, 4096, off);
        CHECK(n > 0);
        for (ssize_t k = 0; k < n; k++)
            CHECK(buf[k] == 0);
    }
    free(buf);
    cfs_source_close(ova);

    CHECK(sh("tar -tvf '%s' | grep -q ' 8589934595 .*big.img'", file) == 0);
    CHECK(sh("mkdir -p '%s' && tar -xf '%s' -C '%s' z.txt && test \"$(cat '%s/z.txt')\" = bye", x,
             file, x, x) == 0);
    free(file);
    free(x);
}

static void ova_refusals(void)
{
    struct cfs_source *a, *b, *ova;
    CHECK(cfs_mem_source_new(strdup("x"), 1, &a) == 0);
    CHECK(cfs_mem_source_new(strdup("y"), 1, &b) == 0);
    struct ova_member m[] = { { "ok.txt", a }, { "../evil", b } };
    CHECK(ova_open(m, 2, 0, &ova) == -EINVAL); /* and both sources closed (ASan) */
    CHECK(cfs_mem_source_new(strdup("x"), 1, &a) == 0);
    CHECK(cfs_mem_source_new(strdup("y"), 1, &b) == 0);
    struct ova_member twice[] = { { "same", a }, { "same", b } };
    CHECK(ova_open(twice, 2, 0, &ova) == -EINVAL);
    CHECK(ova_open(NULL, 0, 0, &ova) == 0 && ova->size == 1024);
    cfs_source_close(ova);
}

static int find_validator(const char *argv0)
{
    const char *env = getenv("CFS_SCHEMAS");
    if (env)
        snprintf(validator, sizeof validator, "%s/validate", env);
    else
        snprintf(validator, sizeof validator, "../shared/schemas/validate");
    if (access(validator, X_OK) == 0)
        return 1;
    snprintf(validator, sizeof validator, "/work/shared/schemas/validate");
    if (access(validator, X_OK) == 0)
        return 1;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = 0; /* <repo>/build/unit/test_views -> <repo>/../shared */
    snprintf(validator, sizeof validator, "%s/../../../shared/schemas/validate", dirname(exe));
    (void)argv0;
    return access(validator, X_OK) == 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    static const char *tools[] = { "qemu-img", "vmdkinfo", "xmllint", "tar", "cmp" };
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
        if (!have(tools[i])) {
            fprintf(stderr, "skip: %s is not installed\n", tools[i]);
            return 77;
        }
    /* Without the schemas the OVF is still checked by XPath, not by schema:
     * the VMDK and OVA checks must not be lost with them. */
    if (!find_validator(argv[0])) {
        fprintf(stderr, "note: no schemas/validate (set CFS_SCHEMAS): OVF schema checks "
                        "skipped\n");
        validator[0] = '\0';
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cfs-views-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;

    vmdk_of_file("zero-size", 0, NULL, "ide"); /* one grain of capacity */
    vmdk_of_file("empty", 10 * MiB, NULL, "lsilogic");
    vmdk_of_file("tail-byte", 10 * MiB, fill_tail_byte, "ide");
    vmdk_of_file("scattered", 64 * MiB, fill_scattered, "lsilogic");
    vmdk_of_file("full", 3 * MiB, fill_full, "lsilogic");
    vmdk_of_file("odd-size", 5 * MiB + 3584, fill_odd, "lsilogic");
    vmdk_of_file("big", 4 * GiB + 100 * KiB, fill_big, "lsilogic");
    vmdk_of_memory();
    vmdk_refusals();
    ovf_cases();
    ova_of_views();
    ova_big_member();
    ova_refusals();

    if (!getenv("KEEP"))
        sh("rm -rf '%s'", dir);
    else
        fprintf(stderr, "kept %s\n", dir);
    return UNIT_RESULT();
}
