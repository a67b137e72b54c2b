/* VMDK decoder (core/format/vmdk*.c, ref/formats.md §3): images made by
 * qemu-img (monolithicSparse, streamOptimized) and by a small writer of
 * the spec's stream layout (GD_AT_END with a footer, without one, without
 * tables) are read back through vmdk_open and compared with `qemu-img
 * convert -O raw`, the independent reader (for the layouts qemu cannot
 * read, with the raw file they were made from); hostile images, made by
 * patching bytes, must be refused with the right errno and one log line
 * naming the image. Needs qemu-img and qemu-io (exit 77 without). */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "source.h"
#include "unit.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define KiB       1024ull
#define MiB       (1024 * KiB)
#define GiB       (1024 * MiB)
#define CHUNK     (4 * MiB)
#define N_RANDOM  300
#define GD_AT_END 0xffffffffffffffffull

static char dir[] = "/tmp/cfs-vmdk-XXXXXX";
static char log_path[PATH_MAX];

#include "imgtest.h"

/* ---- reading the log: every refusal is exactly one line naming the image ---- */

static int open_disk(const char *name, struct cfs_source **disk)
{
    struct cfs_source *file;
    int err = cfs_file_source_open(P(name), &file);
    if (err)
        return err;
    return vmdk_open(file, name, disk);
}

/* ---- checking a decoded image against a raw file ---- */

static bool is_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

struct compare_job {
    struct cfs_source *disk;
    int raw_fd;
    uint64_t seed;
    int n;
    int mismatches;
};

/* Random preads of the disk against the raw file; also run on threads. */
static void *random_reads(void *arg)
{
    struct compare_job *job = arg;
    uint64_t size = job->disk->size, s = job->seed;
    unsigned char *a = malloc(512 * KiB), *b = malloc(512 * KiB);
    if (!a || !b)
        abort();
    for (int k = 0; k < job->n && size; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint64_t off = s % size, len = (s >> 40) % (300 * KiB) + 1;
        if (k % 4 == 0) /* also just before and across grain edges */
            off = (off & ~(8 * KiB - 1)) + ((s >> 20) % 3) * 512;
        if (off >= size)
            off = size - 1;
        if (len > size - off)
            len = size - off;
        ssize_t n = cfs_source_pread(job->disk, a, len, off);
        ssize_t m = pread(job->raw_fd, b, len, (off_t)off);
        if (n != (ssize_t)len || m != (ssize_t)len || memcmp(a, b, len) != 0) {
            if (job->mismatches++ < 3)
                fprintf(stderr, "random read %llu+%llu differs (%zd, %zd)\n",
                        (unsigned long long)off, (unsigned long long)len, n, m);
        }
    }
    free(a);
    free(b);
    return NULL;
}

/* Every byte (chunks), random reads on 4 threads, and every non-zero
 * grain allocated. ref: the raw file to compare with; NULL: qemu-img
 * convert -O raw of name. full = false: only the random reads. */
static void verify_image(const char *name, const char *ref, bool full, uint64_t want_alloc)
{
    struct cfs_source *disk;
    char raw[PATH_MAX];
    int err = open_disk(name, &disk);
    CHECK(err == 0);
    if (err) {
        fprintf(stderr, "%s: vmdk_open: %s\n", name, strerror(-err));
        return;
    }
    if (ref) {
        snprintf(raw, sizeof raw, "%s", ref);
    } else {
        snprintf(raw, sizeof raw, "%.200s.raw", name);
        CHECK(sh("qemu-img convert -f vmdk -O raw %s %s", name, raw) == 0);
    }
    int fd = open(P(raw), O_RDONLY);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    CHECK((uint64_t)st.st_size == disk->size);

    int bad_bytes = 0, bad_alloc = 0;
    if (full) {
        unsigned char *a = malloc(CHUNK), *b = malloc(CHUNK);
        if (!a || !b)
            abort();
        for (uint64_t off = 0; off < disk->size; off += CHUNK) {
            uint64_t len = disk->size - off < CHUNK ? disk->size - off : CHUNK;
            ssize_t n = cfs_source_pread(disk, a, len, off);
            ssize_t m = pread(fd, b, len, (off_t)off);
            if (n != (ssize_t)len || m != (ssize_t)len || memcmp(a, b, len) != 0) {
                if (bad_bytes++ < 3)
                    fprintf(stderr, "%s: chunk at %llu differs (%zd)\n", name,
                            (unsigned long long)off, n);
                continue;
            }
            for (uint64_t g = 0; g < len; g += CFS_GRAIN_BYTES) {
                uint64_t gl = len - g < CFS_GRAIN_BYTES ? len - g : CFS_GRAIN_BYTES;
                if (!is_zero(a + g, gl) &&
                    !cfs_alloc_test(disk->alloc, (off + g) >> CFS_GRAIN_SHIFT) && bad_alloc++ < 3)
                    fprintf(stderr, "%s: grain %llu has data but is not allocated\n", name,
                            (unsigned long long)((off + g) >> CFS_GRAIN_SHIFT));
            }
        }
        free(a);
        free(b);
    }
    pthread_t t[4];
    struct compare_job jobs[4];
    int bad_random = 0;
    for (int k = 0; k < 4; k++) {
        jobs[k] = (struct compare_job){ disk, fd, rnd() | 1, N_RANDOM / 2, 0 };
        CHECK(pthread_create(&t[k], NULL, random_reads, &jobs[k]) == 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(t[k], NULL);
        bad_random += jobs[k].mismatches;
    }
    bool alloc_ok = want_alloc == UINT64_MAX || disk->alloc->n_alloc == want_alloc;
    CHECK(bad_bytes == 0);
    CHECK(bad_alloc == 0);
    CHECK(bad_random == 0);
    CHECK(alloc_ok);
    printf("%-5s %-30s %14llu bytes, %7llu grains allocated\n",
           bad_bytes || bad_alloc || bad_random || !alloc_ok ? "FAIL" : "ok", name,
           (unsigned long long)disk->size, (unsigned long long)disk->alloc->n_alloc);
    close(fd);
    cfs_source_close(disk);
    if (!ref)
        unlink(P(raw));
}

/* ---- making images ---- */

/* A qcow2 written by qemu-io, converted by qemu-img into name.vmdk
 * (opts: -o of the vmdk) and name.raw (the reference). */
static void make(const char *name, const char *opts, uint64_t size, const char *io)
{
    CHECK(sh("qemu-img create -q -f qcow2 %s.qcow2 %llu", name, (unsigned long long)size) == 0);
    if (io && *io)
        CHECK(sh("qemu-io -f qcow2 %s %s.qcow2 >/dev/null", io, name) == 0);
    CHECK(sh("qemu-img convert -f qcow2 -O vmdk %s%s %s.qcow2 %s.vmdk", *opts ? "-o " : "", opts,
             name, name) == 0);
    CHECK(sh("qemu-img convert -f qcow2 -O raw %s.qcow2 %s.raw", name, name) == 0);
}

/* Writes spread over an image of size bytes: aligned and not, at both
 * ends, compressible and (with urandom) incompressible. */
static const char *writes_for(uint64_t size)
{
    static char io[1024];
    uint64_t mid = size / 2, quarter = size / 4 < MiB ? size / 4 : MiB;
    snprintf(io, sizeof io,
             "-c 'write -P 0x11 0 64k' -c 'write -P 0x22 100000 3000' "
             "-c 'write -P 0x33 %llu %llu' -c 'write -P 0x44 %llu 4096' "
             "-c 'write -P 0x55 %llu 777' -c 'write -z %llu %llu'",
             (unsigned long long)mid, (unsigned long long)quarter,
             (unsigned long long)(size - 4096), (unsigned long long)(size - 5000),
             (unsigned long long)(mid + quarter / 4), (unsigned long long)(quarter / 2));
    return io;
}

/* Random bytes into a raw file (incompressible grains). */
static void scribble(const char *raw, uint64_t off, uint64_t len)
{
    CHECK(sh("head -c %llu /dev/urandom | dd of=%s bs=1 seek=%llu conv=notrunc status=none",
             (unsigned long long)len, raw, (unsigned long long)off) == 0);
}

static void put_le(unsigned char *p, int bytes, uint64_t v)
{
    for (int i = 0; i < bytes; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

enum stream_layout {
    STREAM_FOOTER,    /* GD_AT_END, GT/GD markers, footer, EOS (§3.8 Layout B) */
    STREAM_NO_FOOTER, /* GD_AT_END, GT markers, a progress marker, EOS, no GD or footer */
    STREAM_NO_TABLES, /* gdOffset 0, grain markers only, no EOS (ends at EOF) */
};

/* A streamOptimized file in the spec's stream order from a raw file:
 * grain_sectors per grain, zlib level (0: stored blocks), raw deflate
 * without the zlib header when raw_deflate. */
static void write_stream(const char *raw_name, const char *name, enum stream_layout layout,
                         unsigned grain_sectors, int level)
{
    int in = open(P(raw_name), O_RDONLY);
    FILE *out = fopen(P(name), "w");
    struct stat st;
    CHECK(in >= 0 && out && fstat(in, &st) == 0);
    uint64_t cap = ((uint64_t)st.st_size + 511) / 512, gb = grain_sectors * 512ull;
    uint64_t ng = (cap + grain_sectors - 1) / grain_sectors, ngt = (ng + 511) / 512;
    uint64_t gds = (ngt * 4 + 511) / 512, sector = 21;
    uint32_t *gd = calloc(gds * 128, 4), gt[512];
    unsigned char hdr[512] = { 0 }, desc[20 * 512] = { 0 }, sec[512];
    unsigned char *grain = malloc(gb), *rec = malloc(2 * gb + 1024);
    CHECK(gd && grain && rec);

    memcpy(hdr, "KDMV", 4);
    put_le(hdr + 4, 4, 3);
    put_le(hdr + 8, 4, 0x30001);
    put_le(hdr + 12, 8, cap);
    put_le(hdr + 20, 8, grain_sectors);
    put_le(hdr + 28, 8, 1);
    put_le(hdr + 36, 8, 20);
    put_le(hdr + 44, 4, 512);
    put_le(hdr + 56, 8, layout == STREAM_NO_TABLES ? 0 : GD_AT_END);
    put_le(hdr + 64, 8, 21);
    memcpy(hdr + 73, "\n \r\n", 4);
    put_le(hdr + 77, 2, 1);
    snprintf((char *)desc, sizeof desc,
             "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
             "createType=\"streamOptimized\"\n\nRW %llu SPARSE \"%s\"\n",
             (unsigned long long)cap, name);
    fwrite(hdr, 1, 512, out);
    fwrite(desc, 1, sizeof desc, out);
    for (uint64_t t = 0; t < ngt; t++) {
        bool any = false;
        memset(gt, 0, sizeof gt);
        for (uint64_t i = 0; i < 512 && t * 512 + i < ng; i++) {
            uint64_t g = t * 512 + i;
            memset(grain, 0, gb);
            ssize_t n = pread(in, grain, gb, (off_t)(g * gb));
            if (n <= 0 || is_zero(grain, (size_t)n))
                continue;
            uLongf clen = (uLongf)(2 * gb);
            CHECK(compress2(rec + 12, &clen, grain, gb, level) == Z_OK);
            put_le(rec, 8, g * grain_sectors);
            put_le(rec + 8, 4, clen);
            uint64_t len = (12 + clen + 511) & ~511ull;
            memset(rec + 12 + clen, 0, len - 12 - clen);
            fwrite(rec, 1, len, out);
            gt[i] = htole32((uint32_t)sector);
            sector += len / 512;
            any = true;
        }
        if (!any || layout == STREAM_NO_TABLES)
            continue;
        memset(sec, 0, sizeof sec);
        put_le(sec, 8, 4);
        put_le(sec + 12, 4, 1); /* GT marker */
        fwrite(sec, 1, 512, out);
        fwrite(gt, 1, sizeof gt, out);
        gd[t] = htole32((uint32_t)(sector + 1));
        sector += 5;
        if (layout == STREAM_NO_FOOTER) { /* a progress marker, skipped by readers */
            memset(sec, 0, sizeof sec);
            put_le(sec, 8, 0);
            put_le(sec + 12, 4, 4);
            fwrite(sec, 1, 512, out);
            sector++;
        }
    }
    if (layout == STREAM_FOOTER) {
        memset(sec, 0, sizeof sec);
        put_le(sec, 8, gds);
        put_le(sec + 12, 4, 2); /* GD marker */
        fwrite(sec, 1, 512, out);
        fwrite(gd, 4, gds * 128, out);
        uint64_t gd_at = sector + 1;
        memset(sec, 0, sizeof sec);
        put_le(sec, 8, 1);
        put_le(sec + 12, 4, 3); /* footer marker */
        fwrite(sec, 1, 512, out);
        put_le(hdr + 56, 8, gd_at);
        fwrite(hdr, 1, 512, out);
    }
    if (layout != STREAM_NO_TABLES) {
        memset(sec, 0, sizeof sec);
        fwrite(sec, 1, 512, out); /* EOS */
    }
    CHECK(fclose(out) == 0);
    close(in);
    free(gd);
    free(grain);
    free(rec);
}

/* ---- patching images ---- */

static void copy(const char *from, const char *to)
{
    CHECK(sh("cp %s %s", from, to) == 0);
}

static uint64_t get_le(const char *name, uint64_t off, int bytes)
{
    unsigned char b[8] = { 0 };
    int fd = open(P(name), O_RDONLY);
    CHECK(fd >= 0 && pread(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void put_at(const char *name, uint64_t off, int bytes, uint64_t v)
{
    unsigned char b[8];
    put_le(b, bytes, v);
    int fd = open(P(name), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
}

/* Replaces text in the embedded descriptor (sectors 1..20). */
static void patch_descriptor(const char *name, const char *from, const char *to)
{
    char d[20 * 512 + 1] = { 0 }, out[20 * 512] = { 0 };
    int fd = open(P(name), O_RDWR);
    CHECK(fd >= 0 && pread(fd, d, 20 * 512, 512) == 20 * 512);
    char *at = strstr(d, from);
    CHECK(at != NULL);
    if (at) {
        snprintf(out, sizeof out, "%.*s%s%s", (int)(at - d), d, to, at + strlen(from));
        CHECK(pwrite(fd, out, sizeof out, 512) == (ssize_t)sizeof out);
    }
    close(fd);
}

static uint64_t file_size(const char *name)
{
    struct stat st;
    CHECK(stat(P(name), &st) == 0);
    return (uint64_t)st.st_size;
}

/* Opening name must fail with err and log one line naming it. */
static void expect_refused(const char *name, int err, const char *what)
{
    struct cfs_source *disk = NULL;
    int named;
    log_skip();
    int rc = open_disk(name, &disk);
    int lines = log_lines(name, &named);
    CHECK(rc == err);
    CHECK(lines == 1 && named == 1);
    printf("%-5s refused %-28s %-9s (%s)\n", rc == err && lines == 1 && named == 1 ? "ok" : "FAIL",
           name,
           rc == -ENOTSUP ? "ENOTSUP"
           : rc == -EIO   ? "EIO"
                          : strerror(-rc),
           what);
    if (rc == 0)
        cfs_source_close(disk);
}

/* Reading guest_off of name must fail with -EIO and one log line. */
static void expect_read_eio(const char *name, uint64_t guest_off, const char *what)
{
    struct cfs_source *disk = NULL;
    static unsigned char buf[8192];
    int named;
    CHECK(open_disk(name, &disk) == 0);
    if (!disk)
        return;
    log_skip();
    ssize_t n = cfs_source_pread(disk, buf, sizeof buf, guest_off);
    int lines = log_lines(name, &named);
    CHECK(n == -EIO);
    CHECK(lines == 1 && named == 1);
    printf("%-5s read EIO %-27s (%s)\n", n == -EIO && lines == 1 && named == 1 ? "ok" : "FAIL",
           name, what);
    cfs_source_close(disk);
}

/* ---- the tests ---- */

static void test_qemu_images(void)
{
    static const struct {
        const char *name, *opts;
        uint64_t size;
    } m[] = {
        { "sparse", "", 100 * MiB },
        { "stream", "subformat=streamOptimized", 100 * MiB },
        { "sparse-odd", "", 1000000 },
        { "stream-odd", "subformat=streamOptimized", 5 * MiB + 1536 },
        { "sparse-v1", "compat6=off", 8 * MiB },
        { "sparse-empty", "", 64 * MiB },
        { "stream-empty", "subformat=streamOptimized", 64 * MiB },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char vmdk[64];
        bool empty = strstr(m[i].name, "empty") != NULL;
        make(m[i].name, m[i].opts, m[i].size, empty ? NULL : writes_for(m[i].size));
        snprintf(vmdk, sizeof vmdk, "%s.vmdk", m[i].name);
        verify_image(vmdk, NULL, true, empty ? 0 : UINT64_MAX);
    }
    /* Fully allocated, incompressible data in both subformats. */
    CHECK(sh("head -c %llu /dev/urandom > full.raw", 12 * MiB) == 0);
    CHECK(sh("qemu-img convert -f raw -O vmdk full.raw full-sparse.vmdk") == 0);
    CHECK(sh("qemu-img convert -f raw -O vmdk -o subformat=streamOptimized full.raw "
             "full-stream.vmdk") == 0);
    verify_image("full-sparse.vmdk", "full.raw", true, 12 * MiB / CFS_GRAIN_BYTES);
    verify_image("full-stream.vmdk", "full.raw", true, 12 * MiB / CFS_GRAIN_BYTES);

    /* Over 2 GiB, sparse: grains at both ends and across GT boundaries. */
    make("big", "", 3 * GiB,
         "-c 'write -P 0x11 0 4k' -c 'write -P 0x22 1073737728 8192' "
         "-c 'write -P 0x33 2147496000 70000' -c 'write -P 0x44 3221221376 4096'");
    verify_image("big.vmdk", "big.raw", false, 6);
    make("big-stream", "subformat=streamOptimized", 3 * GiB,
         "-c 'write -P 0x11 0 4k' -c 'write -P 0x44 3221221376 4096'");
    verify_image("big-stream.vmdk", "big-stream.raw", false, 2);

    /* Zeroed grains (GTE 1, flags bit 2): zeros, not allocated. */
    CHECK(sh("qemu-img create -q -f vmdk -o zeroed_grain=on zg.vmdk 8M") == 0);
    CHECK(sh("qemu-io -f vmdk -c 'write -P 0x66 0 4m' -c 'write -z 1m 1m' zg.vmdk >/dev/null") ==
          0);
    CHECK(get_le("zg.vmdk", 8, 4) & 4);
    verify_image("zg.vmdk", NULL, true, 48);
}

static void test_corpus(void)
{
    /* The shared corpus sits next to the repository (run from its top). */
    const char *from = getenv("CFS_CORPUS");
    if (!from)
        from = access("../shared/corpus", R_OK) == 0 ? "../shared/corpus" : "/work/shared/corpus";
    char src[PATH_MAX];
    char *abs = realpath(from, NULL);
    snprintf(src, sizeof src, "%.3000s/ext2.vmdk", abs ? abs : from);
    free(abs);
    if (access(src, R_OK) != 0) {
        printf("skip  %s (not found)\n", src);
        return;
    }
    copy(src, "corpus-ext2.vmdk");
    verify_image("corpus-ext2.vmdk", NULL, true, UINT64_MAX);
}

/* The stream layouts qemu does not write: GD_AT_END with a footer (which
 * qemu reads too), and streams to index by the one scan. */
static void test_stream_layouts(void)
{
    uint64_t size = 40 * MiB + 3 * 512;
    CHECK(sh("qemu-img create -q -f raw lay.raw %llu", (unsigned long long)size) == 0);
    CHECK(sh("qemu-io -f raw %s lay.raw >/dev/null", writes_for(size)) == 0);
    scribble("lay.raw", 33 * MiB + 1000, 300 * KiB);
    scribble("lay.raw", size - 700, 700);
    CHECK(sh("qemu-img convert -f raw -O raw lay.raw lay-ref.raw") == 0);

    write_stream("lay.raw", "footer.vmdk", STREAM_FOOTER, 128, 6);
    verify_image("footer.vmdk", NULL, true, UINT64_MAX); /* qemu reads this one */
    verify_image("footer.vmdk", "lay.raw", false, UINT64_MAX);
    write_stream("lay.raw", "footer-stored.vmdk", STREAM_FOOTER, 128, 0);
    verify_image("footer-stored.vmdk", NULL, true, UINT64_MAX);
    write_stream("lay.raw", "footer-g16.vmdk", STREAM_FOOTER, 16, 9);
    verify_image("footer-g16.vmdk", NULL, true, UINT64_MAX);
    write_stream("lay.raw", "nofooter.vmdk", STREAM_NO_FOOTER, 128, 6);
    verify_image("nofooter.vmdk", "lay.raw", true, UINT64_MAX);
    write_stream("lay.raw", "notables.vmdk", STREAM_NO_TABLES, 128, 1);
    verify_image("notables.vmdk", "lay.raw", true, UINT64_MAX);
    write_stream("lay.raw", "notables-g8.vmdk", STREAM_NO_TABLES, 8, 6);
    verify_image("notables-g8.vmdk", "lay.raw", true, UINT64_MAX);

    /* qemu's own stream with its tables removed: the scan finds the same. */
    copy("stream.vmdk", "stream-gd0.vmdk");
    put_at("stream-gd0.vmdk", 56, 8, 0);
    verify_image("stream-gd0.vmdk", "stream.raw", true, UINT64_MAX);
    copy("stream.vmdk", "stream-gdend.vmdk");
    put_at("stream-gdend.vmdk", 56, 8, GD_AT_END);
    verify_image("stream-gdend.vmdk", "stream.raw", true, UINT64_MAX);

    /* Same allocation whichever way the grains were found. */
    struct cfs_source *a = NULL, *b = NULL;
    CHECK(open_disk("footer.vmdk", &a) == 0 && open_disk("notables.vmdk", &b) == 0);
    if (a && b)
        CHECK(a->alloc->n_alloc == b->alloc->n_alloc &&
              memcmp(a->alloc->bits, b->alloc->bits, (a->alloc->n_grains + 63) / 64 * 8) == 0);
    cfs_source_close(a);
    cfs_source_close(b);
}

static void test_hostile(void)
{
    make("h", "", 100 * MiB, writes_for(100 * MiB));
    const char *h = "h.vmdk";
    uint64_t fsize = file_size(h), gd = get_le(h, 56, 8), gt0 = get_le(h, gd * 512, 4);
    uint64_t gte0 = get_le(h, gt0 * 512, 4);
    CHECK(gte0 > 1);

#define HOSTILE(name, err, what, ...)    \
    do {                                 \
        copy(h, name);                   \
        __VA_ARGS__;                     \
        expect_refused(name, err, what); \
    } while (0)

    HOSTILE("bad-magic.vmdk", -EIO, "bad magic", put_at("bad-magic.vmdk", 0, 4, 0x564d444c));
    HOSTILE("cowd.vmdk", -ENOTSUP, "ESX COWD sparse", put_at("cowd.vmdk", 0, 4, 0x44574f43));
    HOSTILE("version0.vmdk", -ENOTSUP, "version 0", put_at("version0.vmdk", 4, 4, 0));
    HOSTILE("version4.vmdk", -ENOTSUP, "version 4", put_at("version4.vmdk", 4, 4, 4));
    HOSTILE("nl.vmdk", -EIO, "newline detector damaged", put_at("nl.vmdk", 75, 1, '\n'));
    HOSTILE("capacity.vmdk", -ENOTSUP, "capacity above 2 TiB",
            put_at("capacity.vmdk", 12, 8, (1ull << 32) + 128));
    HOSTILE("capacity-huge.vmdk", -ENOTSUP, "capacity 2^64-1",
            put_at("capacity-huge.vmdk", 12, 8, ~0ull));
    HOSTILE("grain0.vmdk", -EIO, "grain size 0", put_at("grain0.vmdk", 20, 8, 0));
    HOSTILE("grain3.vmdk", -EIO, "grain size 3", put_at("grain3.vmdk", 20, 8, 3));
    HOSTILE("grain256.vmdk", -ENOTSUP, "grain size 256", put_at("grain256.vmdk", 20, 8, 256));
    HOSTILE("grain4.vmdk", -ENOTSUP, "grain size 4", put_at("grain4.vmdk", 20, 8, 4));
    HOSTILE("gtes0.vmdk", -EIO, "0 GTEs per GT", put_at("gtes0.vmdk", 44, 4, 0));
    HOSTILE("gtes1024.vmdk", -EIO, "1024 GTEs per GT", put_at("gtes1024.vmdk", 44, 4, 1024));
    HOSTILE("gtes1.vmdk", -EIO, "1 GTE per GT, 2 TiB", put_at("gtes1.vmdk", 44, 4, 1);
            put_at("gtes1.vmdk", 12, 8, 1ull << 32); put_at("gtes1.vmdk", 20, 8, 8));
    HOSTILE("compress2.vmdk", -ENOTSUP, "compression algorithm 2",
            put_at("compress2.vmdk", 77, 2, 2));
    HOSTILE("gd-eof.vmdk", -EIO, "GD beyond EOF", put_at("gd-eof.vmdk", 56, 8, fsize / 512));
    HOSTILE("gd-wrap.vmdk", -EIO, "GD offset 2^63", put_at("gd-wrap.vmdk", 56, 8, 1ull << 63));
    HOSTILE("gd-0.vmdk", -EIO, "no GD in a monolithicSparse", put_at("gd-0.vmdk", 56, 8, 0));
    HOSTILE("gt-eof.vmdk", -EIO, "GT beyond EOF",
            put_at("gt-eof.vmdk", gd * 512, 4, fsize / 512 - 1));
    HOSTILE("gt-shared.vmdk", -EIO, "two GD entries, one GT",
            put_at("gt-shared.vmdk", gd * 512 + 4, 4, gt0));
    HOSTILE("gt-overlap.vmdk", -EIO, "GTs overlapping",
            put_at("gt-overlap.vmdk", gd * 512 + 4, 4, gt0 + 1));
    HOSTILE("gte-eof.vmdk", -EIO, "GTE beyond EOF",
            put_at("gte-eof.vmdk", gt0 * 512, 4, fsize / 512 - 1));
    HOSTILE("gte-max.vmdk", -EIO, "GTE 2^32-1", put_at("gte-max.vmdk", gt0 * 512, 4, 0xffffffff));
    HOSTILE("gte-1.vmdk", -EIO, "GTE 1 without the zeroed-grain flag",
            put_at("gte-1.vmdk", gt0 * 512 + 8, 4, 1));
    HOSTILE("desc-big.vmdk", -EIO, "descriptor of 2^40 sectors",
            put_at("desc-big.vmdk", 36, 8, 1ull << 40));
    HOSTILE("desc-eof.vmdk", -EIO, "descriptor beyond EOF",
            put_at("desc-eof.vmdk", 28, 8, fsize / 512));
    HOSTILE("parent.vmdk", -ENOTSUP, "delta disk",
            patch_descriptor("parent.vmdk", "parentCID=ffffffff", "parentCID=1a2b3c4d"));
    HOSTILE("flat-type.vmdk", -ENOTSUP, "createType monolithicFlat",
            patch_descriptor("flat-type.vmdk", "monolithicSparse", "monolithicFlat"));
    HOSTILE("split-type.vmdk", -ENOTSUP, "createType twoGbMaxExtentSparse",
            patch_descriptor("split-type.vmdk", "monolithicSparse", "twoGbMaxExtentSparse"));
    HOSTILE("truncated.vmdk", -EIO, "truncated in the data",
            CHECK(truncate(P("truncated.vmdk"), (off_t)(fsize - 70000)) == 0));
    HOSTILE("truncated-gd.vmdk", -EIO, "truncated in the GD",
            CHECK(truncate(P("truncated-gd.vmdk"), (off_t)gd * 512 + 2) == 0));
    HOSTILE("truncated-100.vmdk", -EIO, "100 bytes",
            CHECK(truncate(P("truncated-100.vmdk"), 100) == 0));
    HOSTILE("truncated-0.vmdk", -EIO, "empty file", CHECK(truncate(P("truncated-0.vmdk"), 0) == 0));

    /* Descriptor-only VMDKs: the extents are other files. */
    CHECK(sh("qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 1M") == 0);
    expect_refused("flat.vmdk", -ENOTSUP, "monolithicFlat descriptor");
    CHECK(sh("qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse split.vmdk 3G") == 0);
    expect_refused("split.vmdk", -ENOTSUP, "twoGbMaxExtentSparse descriptor");
}

static void test_hostile_streams(void)
{
    /* GD_AT_END with a footer that does not fit. */
    const char *f = "footer.vmdk";
    uint64_t fsize = file_size(f), foot = fsize - 1024;
    copy(f, "foot-magic.vmdk");
    put_at("foot-magic.vmdk", foot, 4, 0);
    expect_refused("foot-magic.vmdk", -EIO, "footer magic");
    copy(f, "foot-cap.vmdk");
    put_at("foot-cap.vmdk", foot + 12, 8, get_le(f, 12, 8) + 128);
    expect_refused("foot-cap.vmdk", -EIO, "footer capacity differs");
    copy(f, "foot-gd.vmdk");
    put_at("foot-gd.vmdk", foot + 56, 8, GD_AT_END);
    expect_refused("foot-gd.vmdk", -EIO, "footer without a GD");
    copy(f, "foot-eos.vmdk");
    put_at("foot-eos.vmdk", fsize - 512, 4, 7);
    expect_refused("foot-eos.vmdk", -EIO, "footer without EOS");

    /* Table-less streams: every marker is checked by the scan. */
    const char *s = "notables.vmdk";
    uint64_t first = 21 * 512, size1 = get_le(s, first + 8, 4);
    uint64_t second = first + ((12 + size1 + 511) & ~511ull);
    fsize = file_size(s);
    copy(s, "scan-lba.vmdk");
    put_at("scan-lba.vmdk", first, 8, 1);
    expect_refused("scan-lba.vmdk", -EIO, "marker lba not a grain");
    copy(s, "scan-cap.vmdk");
    put_at("scan-cap.vmdk", first, 8, get_le(s, 12, 8) + 128);
    expect_refused("scan-cap.vmdk", -EIO, "marker lba beyond capacity");
    copy(s, "scan-size.vmdk");
    put_at("scan-size.vmdk", first + 8, 4, 2 * 65536 + 1);
    expect_refused("scan-size.vmdk", -EIO, "compressed size above 2 grains");
    copy(s, "scan-eof.vmdk");
    put_at("scan-eof.vmdk", second + 8, 4, 0xffffffff);
    expect_refused("scan-eof.vmdk", -EIO, "marker size 2^32-1");
    copy(s, "scan-meta.vmdk");
    put_at("scan-meta.vmdk", second, 8, 1ull << 40);
    put_at("scan-meta.vmdk", second + 8, 8, 0x100000000ull);
    expect_refused("scan-meta.vmdk", -EIO, "metadata of 2^40 sectors");
    copy(s, "scan-dup.vmdk");
    put_at("scan-dup.vmdk", second, 8, get_le(s, first, 8));
    expect_refused("scan-dup.vmdk", -EIO, "grain twice");
    copy(s, "scan-overhead.vmdk");
    put_at("scan-overhead.vmdk", 64, 8, fsize / 512 + 1);
    expect_refused("scan-overhead.vmdk", -EIO, "overHead beyond EOF");
    copy(s, "scan-trunc.vmdk");
    CHECK(truncate(P("scan-trunc.vmdk"), (off_t)(fsize - 100)) == 0);
    expect_refused("scan-trunc.vmdk", -EIO, "last record cut");
    /* An all-zero sector is the end of the stream: what follows is not
     * read, the disk reads as zeros there. */
    copy(s, "scan-eos.vmdk");
    CHECK(sh("dd if=/dev/zero of=scan-eos.vmdk bs=512 seek=%llu count=1 conv=notrunc "
             "status=none",
             (unsigned long long)(second / 512)) == 0);
    struct cfs_source *disk = NULL;
    CHECK(open_disk("scan-eos.vmdk", &disk) == 0);
    CHECK(disk && disk->alloc->n_alloc == 1);
    cfs_source_close(disk);

    /* Grain records that fail at read time (qemu's stream: GD in the
     * header; marker at the first GTE of grain 0). */
    const char *q = "stream.vmdk";
    uint64_t gd = get_le(q, 56, 8), gt0 = get_le(q, gd * 512, 4), rec = get_le(q, gt0 * 512, 4);
    CHECK(rec > 1);
    copy(q, "read-lba.vmdk");
    put_at("read-lba.vmdk", rec * 512, 8, 128);
    expect_read_eio("read-lba.vmdk", 0, "marker names another grain");
    copy(q, "read-size.vmdk");
    put_at("read-size.vmdk", rec * 512 + 8, 4, 3 * 65536);
    expect_read_eio("read-size.vmdk", 100, "marker size above the record");
    copy(q, "read-garbage.vmdk");
    put_at("read-garbage.vmdk", rec * 512 + 14, 8, 0xffffffffffffffffull);
    expect_read_eio("read-garbage.vmdk", 0, "payload garbage");
    copy(q, "read-short.vmdk");
    put_at("read-short.vmdk", rec * 512 + 8, 4, 20);
    expect_read_eio("read-short.vmdk", 0, "payload cut short");
    copy(q, "read-zero-size.vmdk");
    put_at("read-zero-size.vmdk", rec * 512 + 8, 4, 0);
    expect_read_eio("read-zero-size.vmdk", 0, "marker size 0");
}

int main(void)
{
    if (system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") != 0) {
        printf("skip: qemu-img or qemu-io not found\n");
        return 77;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    CHECK(cfs_log_open(log_path, CFS_LOG_INFO) == 0);

    CHECK(vmdk_probe("KDMV\3\0\0\0", 8));
    CHECK(!vmdk_probe("KDM", 3));
    CHECK(!vmdk_probe("# Disk DescriptorFile", 21));
    CHECK(!vmdk_probe("QFI\xfb", 4));

    test_qemu_images();
    test_corpus();
    test_stream_layouts();
    test_hostile();
    test_hostile_streams();

    if (unit_failures)
        printf("%d failures; images kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
