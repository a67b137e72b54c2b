/* The streaming check of a downloaded streamOptimized VMDK
 * (core/format/vmdk_check.c): qemu-img's streamOptimized output with an
 * end-of-stream marker appended (what the vCD emulator's export serves)
 * and cloudfs's own .vmdk view pass however their bytes are split; a byte changed (XOR 0xff, as the
 * fault proxy does) in the header, the descriptor, a marker, a grain's
 * zlib stream or the grain tables is refused with one log line, and so
 * are a missing end-of-stream marker, a cut file and a non-zero byte after
 * the end.
 * Needs qemu-img (exit 77 without). */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "source.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/cfs-vmdkcheck-XXXXXX";
static char log_path[PATH_MAX];

#include "imgtest.h"

static unsigned char *load(const char *name, size_t *len)
{
    FILE *f = fopen(P(name), "rb");
    struct stat st;
    unsigned char *b = NULL;
    if (f && fstat(fileno(f), &st) == 0 && (b = malloc((size_t)st.st_size + 1)) &&
        fread(b, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
        *len = (size_t)st.st_size;
    else {
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    return b;
}

static void save(const char *name, const unsigned char *b, size_t len)
{
    FILE *f = fopen(P(name), "wb");
    CHECK(f && fwrite(b, 1, len, f) == len);
    if (f)
        fclose(f);
}

/* The whole check of b: fed in pieces of random sizes (1 byte to 200 KiB,
 * or all at once), then the tables read back from the file it is saved
 * as. 0 or the error. */
static int check(const unsigned char *b, size_t len, uint64_t expect, bool whole)
{
    struct vmdk_check *k;
    struct cfs_source *src;
    int err = vmdk_check_new("check.vmdk", expect, &k);
    if (err)
        return err;
    for (size_t off = 0; !err && off < len;) {
        size_t n = whole ? len : (size_t)(rnd() % 3 == 0 ? rnd() % 16 + 1 : rnd() % 204800 + 1);
        if (n > len - off)
            n = len - off;
        err = vmdk_check_feed(k, b + off, n);
        off += n;
    }
    if (!err)
        err = vmdk_check_end(k);
    if (!err) {
        save("check.vmdk", b, len);
        err = cfs_file_source_open(P("check.vmdk"), &src);
        if (!err) {
            err = vmdk_check_tables(k, src);
            cfs_source_close(src);
        }
    }
    vmdk_check_free(k);
    return err;
}

/* A refusal is -EIO and exactly one log line naming the file. */
static void expect_refused(const unsigned char *b, size_t len, uint64_t expect, const char *what)
{
    int named, err;
    log_skip();
    err = check(b, len, expect, false);
    int lines = log_lines("check.vmdk", &named);
    if (err != -EIO || lines != 1 || named != 1) {
        fprintf(stderr, "%s: error %d, %d log line(s) (%d naming it); last: %s", what, err, lines,
                named, log_last);
        unit_failures++;
    }
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void flip_at(unsigned char *b, size_t len, size_t at, const char *what)
{
    char label[128];
    snprintf(label, sizeof label, "%s at byte %zu", what, at);
    b[at] ^= 0xff;
    expect_refused(b, len, len, label);
    b[at] ^= 0xff;
}

static void test_image(const char *name)
{
    size_t len = 0;
    unsigned char *b = load(name, &len);
    CHECK(b != NULL);
    if (!b)
        return;
    /* A good file passes, whole, split and without a known size. */
    CHECK(check(b, len, len, true) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(check(b, len, i % 2 ? len : 0, false) == 0);

    /* Header fields readers use. */
    static const size_t fields[] = { 0, 3, 4, 8, 10, 12, 15, 20, 28, 36, 44, 56, 64, 73, 75, 77 };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        flip_at(b, len, fields[i], "header");

    uint64_t desc = le64(b + 28) * 512, oh = le64(b + 64) * 512, gd = le64(b + 56) * 512;
    uint64_t cap = le64(b + 12), grain = le64(b + 20), gtes = le32(b + 44);
    size_t text = strnlen((const char *)b + desc, (size_t)(oh - desc));
    for (size_t i = 0; i < 24; i++)
        flip_at(b, len, (size_t)(desc + rnd() % text), "descriptor");
    flip_at(b, len, (size_t)(desc + text + 1), "descriptor padding");

    /* Grain directory and every entry of a table. */
    uint64_t n_grains = (cap + grain - 1) / grain, n_gt = (n_grains + gtes - 1) / gtes;
    for (uint64_t t = 0; t < n_gt; t++) {
        flip_at(b, len, (size_t)(gd + 4 * t), "grain directory");
        uint64_t gt = (uint64_t)le32(b + gd + 4 * t) * 512;
        for (uint64_t i = 0; i < gtes && t * gtes + i < n_grains; i += 1 + rnd() % 7)
            flip_at(b, len, (size_t)(gt + 4 * i + rnd() % 2), "grain table entry");
    }

    /* Markers and the bytes of each grain's zlib stream. */
    uint64_t off = oh, records = 0;
    while (off + 16 <= len && le32(b + off + 8)) {
        uint32_t size = le32(b + off + 8);
        flip_at(b, len, (size_t)(off + rnd() % 12), "grain marker");
        for (int i = 0; i < 3; i++)
            flip_at(b, len, (size_t)(off + 12 + rnd() % size), "grain data");
        flip_at(b, len, (size_t)(off + 12 + size - 1), "grain Adler-32");
        off = (off + 12 + size + 511) / 512 * 512;
        records++;
    }
    CHECK(records > 3);
    CHECK(off + 512 == len); /* the end-of-stream marker */
    flip_at(b, len, (size_t)off, "end-of-stream marker");
    flip_at(b, len, (size_t)off + 12, "end-of-stream marker type");

    /* Cut, missing the end-of-stream marker, or longer. */
    expect_refused(b, len - 512, 0, "no end-of-stream marker");
    expect_refused(b, (size_t)(oh + 700), 0, "cut in a grain");
    expect_refused(b, len - 1, len, "one byte short");
    unsigned char *more = calloc(1, len + 512);
    memcpy(more, b, len);
    CHECK(check(more, len + 512, 0, false) == 0); /* zeros after it, as qemu-img leaves */
    expect_refused(more, len + 1, len, "more than expected");
    more[len + 100] = 1;
    expect_refused(more, len + 512, 0, "a non-zero byte after the end-of-stream marker");
    free(more);
    free(b);
}

/* qemu-img's streamOptimized file, padded to a sector and with the
 * end-of-stream marker qemu leaves out (as the vCD emulator exports). */
static void make(const char *name, const char *opts)
{
    CHECK(sh("head -c 3M /dev/urandom > %s.raw && truncate -s 8M %s.raw && "
             "dd if=/dev/urandom of=%s.raw bs=64k seek=100 count=3 conv=notrunc status=none && "
             "yes cloudfs | head -c 512k | dd of=%s.raw bs=64k seek=70 conv=notrunc status=none",
             name, name, name, name) == 0);
    CHECK(sh("qemu-img convert -f raw -O vmdk -o subformat=streamOptimized%s %s.raw %s.vmdk", opts,
             name, name) == 0);
    CHECK(sh("s=$(stat -c %%s %s.vmdk) && truncate -s $(( (s + 511) / 512 * 512 + 512 )) %s.vmdk",
             name, name) == 0);
}

/* cloudfs's own .vmdk view (stored grains, Layout A) of name.raw. */
static void make_view(const char *name)
{
    struct cfs_source *raw, *view;
    char file[64];
    snprintf(file, sizeof file, "%s.vmdk", name);
    CHECK(cfs_file_source_open(P("qemu.raw"), &raw) == 0);
    CHECK(vmdk_stream_open(raw, file, 0x1234, "lsilogic", &view) == 0);
    unsigned char *b = malloc(view->size);
    CHECK(b && cfs_source_pread(view, b, view->size, 0) == (ssize_t)view->size);
    save(file, b, view->size);
    free(b);
    cfs_source_close(view);
}

int main(void)
{
    if (system("qemu-img --version >/dev/null 2>&1") != 0) {
        printf("skip: qemu-img not found\n");
        return 77;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    CHECK(cfs_log_open(log_path, CFS_LOG_INFO) == 0);

    make("qemu", "");
    test_image("qemu.vmdk");
    make("qemu-ide", ",adapter_type=ide");
    test_image("qemu-ide.vmdk");
    make_view("view");
    test_image("view.vmdk");

    expect_refused((const unsigned char *)"# Disk DescriptorFile\n", 22, 0, "text descriptor");

    if (unit_failures)
        printf("%d failures; images kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
