/* qcow2 decoder (core/format/qcow2*.c, ref/formats.md §1): images made by
 * qemu-img and qemu-io are read back through qcow2_open and compared with
 * the independent reader, `qemu-img convert -O raw` for the bytes and
 * `qemu-img map` for the allocation; hostile images, made by patching
 * bytes of generated ones, must be refused with the right errno and one
 * log line naming the image. Needs qemu-img and qemu-io (exit 77 without). */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "source.h"
#include "unit.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB       1024ull
#define MiB       (1024 * KiB)
#define GiB       (1024 * MiB)
#define CHUNK     (4 * MiB)
#define N_RANDOM  300
#define ALL_BITS  (~0ull)
#define L2E_MASK  0x00fffffffffffe00ull
#define COPIED    (1ull << 63)
#define COMP_FLAG (1ull << 62)

static char dir[] = "/tmp/cfs-qcow2-XXXXXX";
static char log_path[PATH_MAX];

#include "imgtest.h"

/* ---- reading the log: every refusal is exactly one line naming the image ---- */

/* ---- opening ---- */

static int open_disk(const char *name, struct cfs_source **disk)
{
    struct cfs_source *file;
    int err = cfs_file_source_open(P(name), &file);
    if (err)
        return err;
    return qcow2_open(file, name, disk);
}

/* A source that counts what is asked of the one below. */
struct counting {
    struct cfs_source base;
    struct cfs_source *inner;
    uint64_t bytes, requests;
};

static ssize_t counting_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct counting *c = (struct counting *)src;
    __atomic_add_fetch(&c->bytes, len, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c->requests, 1, __ATOMIC_RELAXED);
    return cfs_source_pread(c->inner, buf, len, off);
}

static void counting_close(struct cfs_source *src)
{
    struct counting *c = (struct counting *)src;
    cfs_source_close(c->inner);
    free(c);
}

static const struct cfs_source_ops counting_ops = {
    .name = "counting",
    .pread = counting_pread,
    .close = counting_close,
};

static struct counting *counting_new(struct cfs_source *inner)
{
    struct counting *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->base.ops = &counting_ops;
    c->base.size = inner->size;
    c->base.alloc = inner->alloc;
    c->inner = inner;
    return c;
}

/* ---- checking a decoded image against qemu-img ---- */

static bool is_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Grains qemu-img map reports as data. */
static struct cfs_alloc *qemu_map(const char *name, uint64_t size)
{
    char *cmd, *text = NULL;
    size_t cap = 0, len = 0;
    struct cfs_alloc *a = cfs_alloc_new(size);
    if (asprintf(&cmd, "qemu-img map -f qcow2 --output=json %s", P(name)) < 0 || !a)
        abort();
    FILE *f = popen(cmd, "r");
    free(cmd);
    if (!f)
        abort();
    for (;;) {
        if (len + 65536 > cap && !(text = realloc(text, cap = cap * 2 + 65536)))
            abort();
        size_t n = fread(text + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    text[len] = '\0';
    CHECK(pclose(f) == 0);
    json_t *j = json_loads(text, 0, NULL), *e;
    size_t i;
    CHECK(json_is_array(j));
    json_array_foreach (j, i, e) {
        if (json_is_true(json_object_get(e, "data")))
            cfs_alloc_set_range(a, (uint64_t)json_integer_value(json_object_get(e, "start")),
                                (uint64_t)json_integer_value(json_object_get(e, "length")));
    }
    json_decref(j);
    free(text);
    return a;
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
        if (k % 4 == 0) /* also just before and across cluster and grain edges */
            off = (off & ~(64 * KiB - 1)) + ((s >> 20) % 3) * 512;
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

/* Whole image (in chunks), random reads, allocation vs contents and vs
 * qemu-img map. full = false: only the random reads (huge images). */
static void verify_image(const char *name, bool full)
{
    struct cfs_source *disk;
    char raw[PATH_MAX];
    int err = open_disk(name, &disk);
    CHECK(err == 0);
    if (err) {
        fprintf(stderr, "%s: qcow2_open: %s\n", name, strerror(-err));
        return;
    }
    snprintf(raw, sizeof raw, "%.200s.raw", name);
    CHECK(sh("qemu-img convert -f qcow2 -O raw %s %s", name, raw) == 0);
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
    struct compare_job job = { disk, fd, rnd() | 1, N_RANDOM, 0 };
    random_reads(&job);

    struct cfs_alloc *qm = qemu_map(name, disk->size);
    int bad_map = 0;
    CHECK(disk->alloc && disk->alloc->n_grains == qm->n_grains);
    for (uint64_t g = 0; disk->alloc && g < qm->n_grains; g++)
        if (cfs_alloc_test(qm, g) != cfs_alloc_test(disk->alloc, g) && bad_map++ < 3)
            fprintf(stderr, "%s: grain %llu: qemu-img map %d, decoder %d\n", name,
                    (unsigned long long)g, cfs_alloc_test(qm, g), cfs_alloc_test(disk->alloc, g));
    CHECK(bad_bytes == 0);
    CHECK(bad_alloc == 0);
    CHECK(job.mismatches == 0);
    CHECK(bad_map == 0);
    printf("%-5s %-28s %14llu bytes, %7llu grains allocated (qemu-img map %llu)\n",
           bad_bytes || bad_alloc || job.mismatches || bad_map ? "FAIL" : "ok", name,
           (unsigned long long)disk->size, (unsigned long long)disk->alloc->n_alloc,
           (unsigned long long)qm->n_alloc);
    cfs_alloc_free(qm);
    close(fd);
    cfs_source_close(disk);
    unlink(P(raw));
}

/* ---- making images ---- */

/* qemu-img create, then qemu-io commands (a string of -c '...'). */
static void make(const char *name, const char *opts, uint64_t size, const char *io)
{
    CHECK(sh("qemu-img create -q -f qcow2 -o %s %s %llu", opts, name, (unsigned long long)size) ==
          0);
    if (io && *io)
        CHECK(sh("qemu-io -f qcow2 %s %s >/dev/null", io, name) == 0);
}

/* Writes spread over an image of size bytes: aligned and not, at both
 * ends, a zeroed range inside data and a zeroed range in a hole. */
static const char *writes_for(uint64_t size)
{
    static char io[1024];
    uint64_t mid = size / 2, quarter = size / 4 < MiB ? size / 4 : MiB;
    snprintf(io, sizeof io,
             "-c 'write -P 0x11 0 64k' -c 'write -P 0x22 100000 3000' "
             "-c 'write -P 0x33 %llu %llu' -c 'write -P 0x44 %llu 4096' "
             "-c 'write -P 0x55 %llu 777' -c 'write -z %llu %llu' -c 'write -z %llu 64k'",
             (unsigned long long)mid, (unsigned long long)quarter,
             (unsigned long long)(size - 4096), (unsigned long long)(size - 5000),
             (unsigned long long)(mid + quarter / 4), (unsigned long long)(quarter / 2),
             (unsigned long long)(size / 8));
    return io;
}

/* A raw file with compressible, incompressible and empty parts, made
 * into a compressed qcow2 by qemu-img convert -c. */
static void make_compressed(const char *name, const char *opts, uint64_t size)
{
    char raw[PATH_MAX];
    snprintf(raw, sizeof raw, "%.200s.src", name);
    CHECK(sh("qemu-img create -q -f raw %s %llu", raw, (unsigned long long)size) == 0);
    CHECK(sh("qemu-io -f raw %s %s >/dev/null", writes_for(size), raw) == 0);
    CHECK(sh("dd if=/dev/urandom of=%s bs=1k seek=%llu count=300 conv=notrunc status=none", raw,
             (unsigned long long)(size / 3 / KiB)) == 0);
    /* Text compresses to many sectors per cluster, at unaligned offsets. */
    CHECK(sh("head -c 200000 /dev/urandom | base64 -w0 | head -c 250000 | "
             "dd of=%s bs=1k seek=%llu conv=notrunc status=none",
             raw, (unsigned long long)(size * 2 / 3 / KiB)) == 0);
    CHECK(sh("qemu-img convert -q -c -f raw -O qcow2 -o %s %s %s", opts, raw, name) == 0);
    unlink(P(raw));
}

/* ---- patching images ---- */

static void copy(const char *from, const char *to)
{
    CHECK(sh("cp %s %s", from, to) == 0);
}

static uint64_t get_be(const char *name, uint64_t off, int bytes)
{
    unsigned char b[8] = { 0 };
    int fd = open(P(name), O_RDONLY);
    CHECK(fd >= 0 && pread(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | b[i];
    return v;
}

static void put_be(const char *name, uint64_t off, int bytes, uint64_t v)
{
    unsigned char b[8];
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
    int fd = open(P(name), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
}

static uint64_t file_size(const char *name)
{
    struct stat st;
    CHECK(stat(P(name), &st) == 0);
    return (uint64_t)st.st_size;
}

/* Where things are in an image: header fields, L1[0], its L2 table. */
struct layout {
    unsigned cluster_bits;
    uint64_t l1, l2, entry_bytes;
};

static struct layout layout_of(const char *name)
{
    struct layout l;
    l.cluster_bits = (unsigned)get_be(name, 20, 4);
    l.l1 = get_be(name, 40, 8);
    l.l2 = get_be(name, l.l1, 8) & L2E_MASK;
    l.entry_bytes = get_be(name, 4, 4) == 3 && (get_be(name, 72, 8) & 16) ? 16 : 8;
    return l;
}

/* Index of the first L2 entry (in L1[0]'s table) matching want/mask. */
static uint64_t find_entry(const char *name, const struct layout *l, uint64_t mask, uint64_t want)
{
    uint64_t n = (1ull << l->cluster_bits) / l->entry_bytes;
    for (uint64_t i = 0; i < n; i++)
        if ((get_be(name, l->l2 + i * l->entry_bytes, 8) & mask) == want)
            return i;
    CHECK(!"no such L2 entry");
    return 0;
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
    printf("%-5s refused %-26s %-9s (%s)\n", rc == err && lines == 1 && named == 1 ? "ok" : "FAIL",
           name,
           rc == -ENOTSUP ? "ENOTSUP"
           : rc == -EIO   ? "EIO"
                          : strerror(-rc),
           what);
    if (rc == 0)
        cfs_source_close(disk);
}

/* ---- the tests ---- */

static void test_matrix(void)
{
    /* Cluster sizes, plain L2 entries. */
    make("c512.qcow2", "cluster_size=512", 4 * MiB, writes_for(4 * MiB));
    make("c4k.qcow2", "cluster_size=4096", 8 * MiB, writes_for(8 * MiB));
    make("c64k.qcow2", "cluster_size=65536", 8 * MiB, writes_for(8 * MiB));
    make("c2m.qcow2", "cluster_size=2097152", 16 * MiB, writes_for(16 * MiB));
    /* Extended L2: subclusters of 512 B, 2 KiB and 64 KiB (= a grain). */
    make("c16k-ext.qcow2", "cluster_size=16384,extended_l2=on", 8 * MiB, writes_for(8 * MiB));
    make("c64k-ext.qcow2", "extended_l2=on", 8 * MiB, writes_for(8 * MiB));
    make("c2m-ext.qcow2", "cluster_size=2097152,extended_l2=on", 16 * MiB,
         "-c 'write -P 0x11 4096 4096' -c 'write -P 0x22 1m 200k' -c 'write -z 3m 128k' "
         "-c 'write -P 0x33 5m 2m' -c 'write -z 5m 64k' -c 'write -z 6m 4k'");
    /* Version 2 (no zero flag: qemu writes zeros). */
    make("v2.qcow2", "compat=0.10", 8 * MiB, writes_for(8 * MiB));
    make("v2-c4k.qcow2", "compat=0.10,cluster_size=4096", 3 * MiB, writes_for(3 * MiB));
    /* Virtual sizes that are not a multiple of 64 KiB (nor of the cluster). */
    make("odd.qcow2", "compat=1.1", 1000000, writes_for(1000448));
    make("odd-c2m.qcow2", "cluster_size=2097152", 5 * MiB + 1536, writes_for(5 * MiB + 1536));
    make("odd-c2m-ext.qcow2", "cluster_size=2097152,extended_l2=on", 3 * MiB + 512,
         writes_for(3 * MiB + 512));
    make("odd-c512.qcow2", "cluster_size=512", 333 * KiB + 512, writes_for(333 * KiB + 512));
    /* Empty, zero-sized, fully allocated, preallocated metadata. */
    make("empty.qcow2", "compat=1.1", 64 * MiB, NULL);
    make("size0.qcow2", "compat=1.1", 0, NULL);
    make("full.qcow2", "compat=1.1", 16 * MiB, "-c 'write -P 0x5a 0 16m'");
    make("full-c4k.qcow2", "cluster_size=4096", 4 * MiB, "-c 'write -P 0xa5 0 4m'");
    make("prealloc.qcow2", "preallocation=metadata", 8 * MiB, "-c 'write -P 0x77 1m 100k'");
    /* Zero clusters (v3 zero flag), zeroed and unmapped. */
    make("zero.qcow2", "compat=1.1", 8 * MiB,
         "-c 'write -P 0x66 0 4m' -c 'write -z 512k 1m' -c 'write -z -u 2m 512k' "
         "-c 'write -z 3145828 1000'");
    /* An internal snapshot: only the active L1 is the disk. */
    make("snap.qcow2", "compat=1.1", 8 * MiB, "-c 'write -P 0x11 0 2m'");
    CHECK(sh("qemu-img snapshot -c s1 snap.qcow2") == 0);
    CHECK(sh("qemu-io -f qcow2 -c 'write -P 0x22 64k 64k' -c 'write -z 1m 64k' snap.qcow2 "
             ">/dev/null") == 0);
    /* Compressed clusters, both compression types, several cluster sizes. */
    make_compressed("zlib-c64k.qcow2", "compression_type=zlib", 8 * MiB);
    make_compressed("zstd-c64k.qcow2", "compression_type=zstd", 8 * MiB);
    make_compressed("zlib-c4k.qcow2", "compression_type=zlib,cluster_size=4096", 3 * MiB);
    make_compressed("zstd-c2m.qcow2", "compression_type=zstd,cluster_size=2097152", 9 * MiB);
    make_compressed("zlib-c512.qcow2", "cluster_size=512", 1 * MiB);
    make_compressed("zstd-c64k-ext.qcow2", "compression_type=zstd,extended_l2=on", 4 * MiB);
    make_compressed("zlib-odd.qcow2", "compression_type=zlib", 1000448);
    make_compressed("zlib-v2.qcow2", "compat=0.10", 4 * MiB);
    /* Several GiB, scattered writes. */
    make("big.qcow2", "compat=1.1", 3 * GiB,
         "-c 'write -P 0x11 0 4k' -c 'write -P 0x22 1073737728 8192' "
         "-c 'write -P 0x33 2147496000 70000' -c 'write -P 0x44 3221221376 4096'");

    static const char *const images[] = {
        "c512.qcow2",      "c4k.qcow2",           "c64k.qcow2",     "c2m.qcow2",
        "c16k-ext.qcow2",  "c64k-ext.qcow2",      "c2m-ext.qcow2",  "v2.qcow2",
        "v2-c4k.qcow2",    "odd.qcow2",           "odd-c2m.qcow2",  "odd-c2m-ext.qcow2",
        "odd-c512.qcow2",  "empty.qcow2",         "size0.qcow2",    "full.qcow2",
        "full-c4k.qcow2",  "prealloc.qcow2",      "zero.qcow2",     "snap.qcow2",
        "zlib-c64k.qcow2", "zstd-c64k.qcow2",     "zlib-c4k.qcow2", "zstd-c2m.qcow2",
        "zlib-c512.qcow2", "zstd-c64k-ext.qcow2", "zlib-odd.qcow2", "zlib-v2.qcow2",
        "big.qcow2",
    };
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        verify_image(images[i], true);

    /* The dirty bit changes nothing for a reader. */
    copy("c64k.qcow2", "dirty.qcow2");
    put_be("dirty.qcow2", 72, 8, get_be("dirty.qcow2", 72, 8) | 1);
    CHECK(sh("qemu-img convert -O raw c64k.qcow2 c64k.ref.raw") == 0);
    struct cfs_source *disk;
    CHECK(open_disk("dirty.qcow2", &disk) == 0);
    if (disk) {
        int fd = open(P("c64k.ref.raw"), O_RDONLY);
        struct compare_job job = { disk, fd, 42, N_RANDOM, 0 };
        random_reads(&job);
        CHECK(job.mismatches == 0);
        printf("%-5s %-28s dirty bit ignored\n", job.mismatches ? "FAIL" : "ok", "dirty.qcow2");
        close(fd);
        cfs_source_close(disk);
    }
}

static void test_corpus(void)
{
    static const char *const corpus[] = { "ext2.qcow2", "windows_volume.qcow2" };
    /* The shared corpus sits next to the repository (run from its top). */
    const char *from = getenv("CFS_CORPUS");
    if (!from)
        from = access("../shared/corpus", R_OK) == 0 ? "../shared/corpus" : "/work/shared/corpus";
    for (size_t i = 0; i < 2; i++) {
        char src[PATH_MAX], name[64];
        char *abs = realpath(from, NULL);
        snprintf(src, sizeof src, "%.3000s/%s", abs ? abs : from, corpus[i]);
        free(abs);
        snprintf(name, sizeof name, "corpus-%s", corpus[i]);
        if (access(src, R_OK) != 0) {
            printf("skip  %s (not found)\n", src);
            continue;
        }
        copy(src, name);
        verify_image(name, true);
    }
}

/* A 10 GiB image with 64 KiB clusters: opening it must ask the file for
 * no more than 2 MiB (formats.md §3.7: header, L1, the L2 tables), and
 * reading data afterwards works. */
static void test_metadata_bytes(void)
{
    make("10g.qcow2", "compat=1.1", 10 * GiB,
         "-c 'write -P 0x11 0 64k' -c 'write -P 0x22 3g 128k' -c 'write -P 0x33 5368709127 1000' "
         "-c 'write -P 0x44 7g 4k' -c 'write -P 0x55 10737352704 65536'");
    struct cfs_source *file, *disk;
    CHECK(cfs_file_source_open(P("10g.qcow2"), &file) == 0);
    struct counting *c = counting_new(file);
    CHECK(qcow2_open(&c->base, "10g.qcow2", &disk) == 0);
    uint64_t bytes = c->bytes, requests = c->requests;
    printf("%-5s 10 GiB, 64 KiB clusters: qcow2_open read %llu bytes in %llu requests\n",
           bytes <= 2 * MiB ? "ok" : "FAIL", (unsigned long long)bytes,
           (unsigned long long)requests);
    CHECK(bytes <= 2 * MiB);
    CHECK(disk->size == 10 * GiB);
    CHECK(disk->alloc->n_alloc == 6);
    unsigned char buf[4096];
    CHECK(cfs_source_pread(disk, buf, 1000, 5368709127ull) == 1000);
    CHECK(buf[0] == 0x33 && buf[999] == 0x33);
    CHECK(cfs_source_pread(disk, buf, 10, 5368709127ull + 1000) == 10 && is_zero(buf, 10));
    CHECK(cfs_source_pread(disk, buf, 4096, 10 * GiB - 4096) == 4096 && buf[4095] == 0x55);
    CHECK(cfs_source_pread(disk, buf, 4096, 10 * GiB - 100) == 100);
    CHECK(cfs_source_pread(disk, buf, 4096, 10 * GiB) == 0);
    /* A 64 KiB data cluster costs one read of 64 KiB. */
    uint64_t before = c->requests, before_bytes = c->bytes;
    static unsigned char big[64 * KiB];
    CHECK(cfs_source_pread(disk, big, sizeof big, 3 * GiB) == (ssize_t)sizeof big);
    CHECK(c->requests == before + 1 && c->bytes == before_bytes + sizeof big);
    CHECK(big[0] == 0x22 && big[sizeof big - 1] == 0x22);
    cfs_source_close(disk);
    verify_image("10g.qcow2", false);
}

/* Many threads reading at once, compressed clusters going through the
 * cache from all of them. */
static void test_threads(void)
{
    static const char *const images[] = { "zlib-c64k.qcow2", "zstd-c2m.qcow2", "zlib-c4k.qcow2",
                                          "c64k-ext.qcow2" };
    for (size_t i = 0; i < 4; i++) {
        struct cfs_source *disk;
        char raw[PATH_MAX];
        CHECK(open_disk(images[i], &disk) == 0);
        snprintf(raw, sizeof raw, "%.200s.raw", images[i]);
        CHECK(sh("qemu-img convert -O raw %s %s", images[i], raw) == 0);
        int fd = open(P(raw), O_RDONLY);
        pthread_t t[8];
        struct compare_job jobs[8];
        int bad = 0;
        for (int k = 0; k < 8; k++) {
            jobs[k] = (struct compare_job){ disk, fd, rnd() | 1, 200, 0 };
            CHECK(pthread_create(&t[k], NULL, random_reads, &jobs[k]) == 0);
        }
        for (int k = 0; k < 8; k++) {
            pthread_join(t[k], NULL);
            bad += jobs[k].mismatches;
        }
        CHECK(bad == 0);
        printf("%-5s 8 threads x 200 random reads of %s\n", bad ? "FAIL" : "ok", images[i]);
        close(fd);
        unlink(P(raw));
        cfs_source_close(disk);
    }
}

static void test_hostile(void)
{
    make("h.qcow2", "compat=1.1", 8 * MiB, writes_for(8 * MiB));
    struct layout l = layout_of("h.qcow2");
    uint64_t cs = 1ull << l.cluster_bits, fsize = file_size("h.qcow2");
    uint64_t data_i = find_entry("h.qcow2", &l, L2E_MASK, get_be("h.qcow2", l.l2, 8) & L2E_MASK);

#define HOSTILE(name, err, what, ...)    \
    do {                                 \
        copy("h.qcow2", name);           \
        __VA_ARGS__;                     \
        expect_refused(name, err, what); \
    } while (0)

    HOSTILE("bad-magic.qcow2", -EIO, "bad magic", put_be("bad-magic.qcow2", 0, 4, 0x514649fa));
    HOSTILE("version1.qcow2", -ENOTSUP, "version 1", put_be("version1.qcow2", 4, 4, 1));
    HOSTILE("version4.qcow2", -ENOTSUP, "version 4", put_be("version4.qcow2", 4, 4, 4));
    HOSTILE("cbits8.qcow2", -EIO, "cluster_bits 8", put_be("cbits8.qcow2", 20, 4, 8));
    HOSTILE("cbits22.qcow2", -EIO, "cluster_bits 22", put_be("cbits22.qcow2", 20, 4, 22));
    HOSTILE("l1-huge.qcow2", -EIO, "l1_size 2^32-1", put_be("l1-huge.qcow2", 36, 4, 0xffffffff));
    HOSTILE("l1-big.qcow2", -EIO, "l1_size 4 Mi, beyond EOF",
            put_be("l1-big.qcow2", 36, 4, 4 * MiB));
    HOSTILE("l1-eof.qcow2", -EIO, "L1 beyond EOF", put_be("l1-eof.qcow2", 40, 8, fsize + 16 * cs));
    HOSTILE("l1-unaligned.qcow2", -EIO, "L1 offset unaligned",
            put_be("l1-unaligned.qcow2", 40, 8, l.l1 + 512));
    HOSTILE("l1-wrap.qcow2", -EIO, "L1 offset wraps",
            put_be("l1-wrap.qcow2", 40, 8, 0xffffffffffff0000ull));
    HOSTILE("l1-header.qcow2", -EIO, "L1 in the header cluster",
            put_be("l1-header.qcow2", 40, 8, 0));
    HOSTILE("l1-small.qcow2", -EIO, "size beyond what L1 covers",
            put_be("l1-small.qcow2", 24, 8, 1000 * GiB));
    HOSTILE("l2-unaligned.qcow2", -EIO, "L2 pointer unaligned",
            put_be("l2-unaligned.qcow2", l.l1, 8, (l.l2 + 512) | COPIED));
    HOSTILE("l2-eof.qcow2", -EIO, "L2 pointer beyond EOF",
            put_be("l2-eof.qcow2", l.l1, 8, (fsize + cs) & ~(cs - 1)));
    HOSTILE("l2-l1.qcow2", -EIO, "L2 pointer at the L1 table",
            put_be("l2-l1.qcow2", l.l1, 8, l.l1 | COPIED));
    HOSTILE("l2-refcount.qcow2", -EIO, "L2 pointer at the refcount table",
            put_be("l2-refcount.qcow2", l.l1, 8, get_be("h.qcow2", 48, 8)));
    HOSTILE("backing.qcow2", -ENOTSUP, "backing file", put_be("backing.qcow2", 8, 8, 0x1000);
            put_be("backing.qcow2", 16, 4, 4));
    HOSTILE("aes.qcow2", -ENOTSUP, "AES encryption", put_be("aes.qcow2", 32, 4, 1));
    HOSTILE("luks.qcow2", -ENOTSUP, "LUKS encryption", put_be("luks.qcow2", 32, 4, 2));
    HOSTILE("incompat5.qcow2", -ENOTSUP, "unknown incompatible bit 5",
            put_be("incompat5.qcow2", 72, 8, 1ull << 5));
    HOSTILE("incompat63.qcow2", -ENOTSUP, "unknown incompatible bit 63",
            put_be("incompat63.qcow2", 72, 8, 1ull << 63));
    /* The feature name table names the unknown bit (qemu's own table
     * entry for bit 0 renumbered to bit 5). */
    HOSTILE("incompat-named.qcow2", -ENOTSUP, "unknown bit named by the image",
            put_be("incompat-named.qcow2", 72, 8, 1ull << 5);
            put_be("incompat-named.qcow2", get_be("h.qcow2", 100, 4) + 9, 1, 5));
    CHECK(strstr(log_last, "bit 5 (dirty bit)") != NULL);
    HOSTILE("corrupt.qcow2", -EIO, "corrupt bit", put_be("corrupt.qcow2", 72, 8, 2));
    HOSTILE("datafile.qcow2", -ENOTSUP, "external data file", put_be("datafile.qcow2", 72, 8, 4));
    HOSTILE("comp-type2.qcow2", -ENOTSUP, "compression type 2",
            put_be("comp-type2.qcow2", 72, 8, 8);
            put_be("comp-type2.qcow2", 104, 1, 2));
    HOSTILE("comp-nobit.qcow2", -EIO, "zstd without its bit",
            put_be("comp-nobit.qcow2", 104, 1, 1));
    HOSTILE("comp-bit.qcow2", -EIO, "compression bit with zlib",
            put_be("comp-bit.qcow2", 72, 8, 8));
    HOSTILE("hlen100.qcow2", -EIO, "header_length 100", put_be("hlen100.qcow2", 100, 4, 100));
    HOSTILE("hlen108.qcow2", -EIO, "header_length 108", put_be("hlen108.qcow2", 100, 4, 108));
    HOSTILE("hlen-big.qcow2", -EIO, "header_length > cluster",
            put_be("hlen-big.qcow2", 100, 4, cs + 8));
    HOSTILE("ext-len.qcow2", -EIO, "header extension too large",
            put_be("ext-len.qcow2", get_be("h.qcow2", 100, 4) + 4, 4, 0xfffffff0));
    HOSTILE("ext-len2.qcow2", -EIO, "header extension past the cluster",
            put_be("ext-len2.qcow2", get_be("h.qcow2", 100, 4) + 4, 4, (uint32_t)cs));
    HOSTILE("refcount-order.qcow2", -EIO, "refcount_order 7",
            put_be("refcount-order.qcow2", 96, 4, 7));
    HOSTILE("reftable-eof.qcow2", -EIO, "refcount table beyond EOF",
            put_be("reftable-eof.qcow2", 48, 8, (fsize + cs) & ~(cs - 1)));
    HOSTILE("reftable-0.qcow2", -EIO, "no refcount table", put_be("reftable-0.qcow2", 56, 4, 0));
    HOSTILE("snapshots.qcow2", -EIO, "65537 snapshots", put_be("snapshots.qcow2", 60, 4, 65537));
    HOSTILE("data-unaligned.qcow2", -EIO, "data pointer unaligned",
            put_be("data-unaligned.qcow2", l.l2 + data_i * 8, 8,
                   get_be("h.qcow2", l.l2 + data_i * 8, 8) + 512));
    HOSTILE("data-eof.qcow2", -EIO, "data pointer beyond EOF",
            put_be("data-eof.qcow2", l.l2 + data_i * 8, 8, ((fsize + cs) & ~(cs - 1)) | COPIED));
    HOSTILE("data-l2.qcow2", -EIO, "data pointer at its own L2 table",
            put_be("data-l2.qcow2", l.l2 + data_i * 8, 8, l.l2 | COPIED));
    HOSTILE("data-header.qcow2", -EIO, "compressed data in the header",
            put_be("data-header.qcow2", l.l2 + data_i * 8, 8, COMP_FLAG | 0x100));
    HOSTILE("truncated.qcow2", -EIO, "truncated in the data",
            CHECK(truncate(P("truncated.qcow2"), (off_t)(fsize - cs / 2)) == 0));
    HOSTILE("truncated-l1.qcow2", -EIO, "truncated after L1",
            CHECK(truncate(P("truncated-l1.qcow2"), (off_t)l.l1 + 8) == 0));
    HOSTILE("truncated-100.qcow2", -EIO, "100 bytes",
            CHECK(truncate(P("truncated-100.qcow2"), 100) == 0));
    HOSTILE("truncated-0.qcow2", -EIO, "empty file",
            CHECK(truncate(P("truncated-0.qcow2"), 0) == 0));
}

/* Reading guest_off of name must fail with -EIO and one log line. */
static void expect_read_eio(const char *name, uint64_t guest_off, const char *what)
{
    struct cfs_source *disk;
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
    /* The rest of the disk still reads. */
    CHECK(cfs_source_pread(disk, buf, 512, 0) == 512);
    printf("%-5s read EIO %-25s (%s)\n", n == -EIO && lines == 1 && named == 1 ? "ok" : "FAIL",
           name, what);
    cfs_source_close(disk);
}

static void test_hostile_entries(void)
{
    struct cfs_source *disk;

    /* Virtual sizes: 2 TiB opens, above is refused (the VMDK view's limit). */
    make("2t.qcow2", "compat=1.1", 2048 * GiB, "-c 'write -P 0x61 2199023190016 65536'");
    CHECK(open_disk("2t.qcow2", &disk) == 0);
    if (disk) {
        unsigned char b[16];
        CHECK(disk->alloc->n_alloc == 1);
        CHECK(cfs_source_pread(disk, b, 16, 2048 * GiB - 16) == 16 && b[15] == 0x61);
        cfs_source_close(disk);
    }
    make("3t.qcow2", "compat=1.1", 3072 * GiB, NULL);
    expect_refused("3t.qcow2", -ENOTSUP, "virtual size 3 TiB");

    /* The zero flag of version 3 in a version 2 image. */
    make("v2z.qcow2", "compat=0.10", 8 * MiB, "-c 'write -P 0x11 0 1m'");
    struct layout l = layout_of("v2z.qcow2");
    copy("v2z.qcow2", "v2-zero-data.qcow2");
    put_be("v2-zero-data.qcow2", l.l2, 8, get_be("v2z.qcow2", l.l2, 8) | 1);
    expect_refused("v2-zero-data.qcow2", -EIO, "zero flag on data in v2");
    copy("v2z.qcow2", "v2-zero.qcow2");
    put_be("v2-zero.qcow2", l.l2 + 100 * 8, 8, 1);
    expect_refused("v2-zero.qcow2", -EIO, "zero flag in v2");

    /* Extended L2: inconsistent subcluster bitmaps. */
    make("ext.qcow2", "extended_l2=on", 8 * MiB,
         "-c 'write -P 0x11 0 4k' -c 'write -P 0x22 1m 64k'");
    l = layout_of("ext.qcow2");
    CHECK(l.entry_bytes == 16);
    uint64_t bm = get_be("ext.qcow2", l.l2 + 8, 8);
    CHECK((bm & 0xffffffff) != 0);
    copy("ext.qcow2", "ext-overlap.qcow2");
    put_be("ext-overlap.qcow2", l.l2 + 8, 8, bm | (bm & 0xffffffff) << 32);
    expect_refused("ext-overlap.qcow2", -EIO, "subcluster allocated and zero");
    copy("ext.qcow2", "ext-unalloc.qcow2");
    put_be("ext-unalloc.qcow2", l.l2 + 100 * 16 + 8, 8, 1);
    expect_refused("ext-unalloc.qcow2", -EIO, "subcluster in unallocated cluster");
    copy("ext.qcow2", "ext-cbits.qcow2");
    put_be("ext-cbits.qcow2", 20, 4, 13);
    expect_refused("ext-cbits.qcow2", -EIO, "extended L2 with 8 KiB clusters");

    /* Compressed clusters: spans beyond the end of the file at open, bad
     * payloads at read time. */
    static const char *const types[] = { "zlib", "zstd" };
    for (int t = 0; t < 2; t++) {
        char name[64], opts[64], patched[64];
        snprintf(name, sizeof name, "hc-%s.qcow2", types[t]);
        snprintf(opts, sizeof opts, "compression_type=%s", types[t]);
        make_compressed(name, opts, 4 * MiB);
        l = layout_of(name);
        uint64_t fsize = file_size(name), x = 62 - (l.cluster_bits - 8);
        /* The compressed cluster with the longest span. */
        uint64_t best = 0, best_e = 0, n = (1ull << l.cluster_bits) / 8;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t e = get_be(name, l.l2 + i * 8, 8);
            if ((e & COMP_FLAG) && (e >> x & 0xff) >= (best_e >> x & 0xff)) {
                best = i;
                best_e = e;
            }
        }
        CHECK((best_e & COMP_FLAG) && (best_e >> x & 0xff) > 2);
        uint64_t coff = best_e & ((1ull << x) - 1), at = l.l2 + best * 8;

        snprintf(patched, sizeof patched, "span-eof-%s.qcow2", types[t]);
        copy(name, patched);
        put_be(patched, at, 8, COMP_FLAG | 255ull << x | (fsize - 100));
        expect_refused(patched, -EIO, "compressed span beyond EOF");
        snprintf(patched, sizeof patched, "span-past-%s.qcow2", types[t]);
        copy(name, patched);
        put_be(patched, at, 8, COMP_FLAG | (fsize + 4096));
        expect_refused(patched, -EIO, "compressed data after EOF");

        snprintf(patched, sizeof patched, "garbage-%s.qcow2", types[t]);
        copy(name, patched);
        CHECK(sh("printf '\\377\\377\\377\\377\\377\\377\\377\\377' | dd of=%s bs=1 seek=%llu "
                 "conv=notrunc status=none",
                 patched, (unsigned long long)coff) == 0);
        expect_read_eio(patched, best << l.cluster_bits, "compressed payload garbage");
        snprintf(patched, sizeof patched, "short-%s.qcow2", types[t]);
        copy(name, patched);
        put_be(patched, at, 8, best_e & ~(0xffull << x));
        expect_read_eio(patched, (best << l.cluster_bits) + 100, "compressed span too short");
    }
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

    CHECK(qcow2_probe("QFI\xfb\0\0\0\3", 8));
    CHECK(!qcow2_probe("QFI", 3));
    CHECK(!qcow2_probe("KDMV", 4));

    test_matrix();
    test_corpus();
    test_metadata_bytes();
    test_threads();
    test_hostile();
    test_hostile_entries();

    if (unit_failures)
        printf("%d failures; images kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
