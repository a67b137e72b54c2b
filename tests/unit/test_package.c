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
    CHECK(cfs_package_make(src, "My VM \xc3\xbc/1", &hw, input, &pkg) == 0);
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

    test_disks();

    if (unit_failures)
        printf("%d failures; files kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
