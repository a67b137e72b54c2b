/* VHD decoder and view (core/format/vhd*.c, ref/formats.md §4): VHDs made
 * by qemu-img are decoded and compared with `qemu-img convert -f vpc -O
 * raw`; views of raw guest files are checked with `qemu-img compare` and
 * `qemu-img info` and read back through the decoder; the shared corpus
 * gives one VHD to decode and three to refuse; hostile images, made by
 * patching bytes, must be refused with the right errno and one log line
 * naming the image. Needs qemu-img and qemu-io (exit 77 without). */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "source.h"
#include "unit.h"

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

#define KiB      1024ull
#define MiB      (1024 * KiB)
#define GiB      (1024 * MiB)
#define CHUNK    (4 * MiB)
#define N_RANDOM 300
#define BLOCK    (2 * MiB)

static char dir[] = "/tmp/cfs-vhd-XXXXXX";
static char log_path[PATH_MAX];

#include "imgtest.h"

/* The first line a command prints, or "" (static buffer). */
static const char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *sh_out(const char *fmt, ...)
{
    static char line[4096];
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

/* ---- the log: every refusal is exactly one line naming the image ---- */

/* ---- files ---- */

static uint64_t file_size(const char *name)
{
    struct stat st;
    return stat(P(name), &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void copy(const char *from, const char *to)
{
    CHECK(sh("cp --sparse=always %s %s", from, to) == 0);
}

static void put_be(const char *name, uint64_t off, int bytes, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    int fd = open(P(name), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
}

static uint64_t get_be(const char *name, uint64_t off, int bytes)
{
    unsigned char b[8];
    uint64_t v = 0;
    int fd = open(P(name), O_RDONLY);
    CHECK(fd >= 0 && pread(fd, b, (size_t)bytes, (off_t)off) == bytes);
    close(fd);
    for (int i = 0; i < bytes; i++)
        v = v << 8 | b[i];
    return v;
}

/* Recomputes the checksum of the structure of len bytes at off (a footer:
 * field at 64; the dynamic header: field at 36), written independently of
 * the code under test. */
static void fix_sum(const char *name, uint64_t off, size_t len, size_t field)
{
    unsigned char b[1024];
    uint32_t sum = 0;
    int fd = open(P(name), O_RDWR);
    CHECK(fd >= 0 && pread(fd, b, len, (off_t)off) == (ssize_t)len);
    memset(b + field, 0, 4);
    for (size_t i = 0; i < len; i++)
        sum += b[i];
    sum = ~sum;
    for (int i = 0; i < 4; i++)
        b[field + i] = (unsigned char)(sum >> (24 - 8 * i));
    CHECK(pwrite(fd, b + field, 4, (off_t)(off + field)) == 4);
    close(fd);
}

/* Sets a footer field in both copies (dynamic) and fixes their checksums. */
static void put_footer(const char *name, uint64_t field, int bytes, uint64_t v, bool dynamic)
{
    uint64_t end = file_size(name) - 512;
    put_be(name, end + field, bytes, v);
    fix_sum(name, end, 512, 64);
    if (dynamic) {
        put_be(name, field, bytes, v);
        fix_sum(name, 0, 512, 64);
    }
}

static void put_header(const char *name, uint64_t field, int bytes, uint64_t v)
{
    put_be(name, 512 + field, bytes, v);
    fix_sum(name, 512, 1024, 36);
}

/* ---- comparing a source with a raw file ---- */

static bool is_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

struct compare_job {
    struct cfs_source *disk;
    int raw_fd;
    uint64_t raw_size; /* the disk reads zeros beyond it */
    uint64_t seed;
    int n;
    int mismatches;
};

/* Reads len bytes of the raw file at off, zeros beyond its end. */
static bool raw_read(int fd, uint64_t raw_size, unsigned char *b, uint64_t len, uint64_t off)
{
    memset(b, 0, len);
    if (off >= raw_size)
        return true;
    uint64_t n = raw_size - off < len ? raw_size - off : len;
    return pread(fd, b, n, (off_t)off) == (ssize_t)n;
}

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
        if (k % 4 == 0) /* around block and sector edges */
            off = (off & ~(BLOCK - 1)) + ((s >> 20) % 5) * 512 - 1024;
        if (off >= size)
            off = size - 1;
        if (len > size - off)
            len = size - off;
        ssize_t n = cfs_source_pread(job->disk, a, len, off);
        bool ok = raw_read(job->raw_fd, job->raw_size, b, len, off);
        if (n != (ssize_t)len || !ok || memcmp(a, b, len) != 0) {
            if (job->mismatches++ < 3)
                fprintf(stderr, "random read %llu+%llu differs (%zd)\n", (unsigned long long)off,
                        (unsigned long long)len, n);
        }
    }
    free(a);
    free(b);
    return NULL;
}

/* disk against the raw file raw (disk may be longer: zeros): everything in
 * chunks when full, random reads on 4 threads, and every grain holding
 * data allocated. Returns the failures. */
static int compare_raw(const char *what, struct cfs_source *disk, const char *raw, bool full)
{
    int fd = open(P(raw), O_RDONLY), bad = 0, bad_alloc = 0;
    uint64_t raw_size = file_size(raw);
    CHECK(fd >= 0);
    if (disk->size < raw_size) {
        fprintf(stderr, "%s: %llu bytes, raw %llu\n", what, (unsigned long long)disk->size,
                (unsigned long long)raw_size);
        close(fd);
        return 1;
    }
    if (full) {
        unsigned char *a = malloc(CHUNK), *b = malloc(CHUNK);
        if (!a || !b)
            abort();
        for (uint64_t off = 0; off < disk->size; off += CHUNK) {
            uint64_t len = disk->size - off < CHUNK ? disk->size - off : CHUNK;
            ssize_t n = cfs_source_pread(disk, a, len, off);
            bool ok = raw_read(fd, raw_size, b, len, off);
            if (n != (ssize_t)len || !ok || memcmp(a, b, len) != 0) {
                if (bad++ < 3)
                    fprintf(stderr, "%s: chunk at %llu differs (%zd)\n", what,
                            (unsigned long long)off, n);
                continue;
            }
            for (uint64_t g = 0; g < len; g += CFS_GRAIN_BYTES) {
                uint64_t gl = len - g < CFS_GRAIN_BYTES ? len - g : CFS_GRAIN_BYTES;
                if (!is_zero(a + g, gl) &&
                    !cfs_alloc_test(disk->alloc, (off + g) >> CFS_GRAIN_SHIFT) && bad_alloc++ < 3)
                    fprintf(stderr, "%s: grain %llu has data but is not allocated\n", what,
                            (unsigned long long)((off + g) >> CFS_GRAIN_SHIFT));
            }
        }
        free(a);
        free(b);
    }
    struct compare_job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct compare_job){ disk, fd, raw_size, rnd() | 1, N_RANDOM / 4, 0 };
        CHECK(pthread_create(&th[t], NULL, random_reads, &jobs[t]) == 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        bad += jobs[t].mismatches;
    }
    close(fd);
    return bad + bad_alloc;
}

/* ---- decoding images made by qemu-img ---- */

static int open_vhd(const char *name, struct cfs_source **disk)
{
    struct cfs_source *file;
    int err = cfs_file_source_open(P(name), &file);
    if (err)
        return err;
    return vhd_open(file, name, disk);
}

static void verify_image(const char *name, bool full)
{
    struct cfs_source *disk;
    char raw[PATH_MAX];
    int err = open_vhd(name, &disk);
    CHECK(err == 0);
    if (err) {
        fprintf(stderr, "%s: vhd_open: %s\n", name, strerror(-err));
        return;
    }
    snprintf(raw, sizeof raw, "%.200s.raw", name);
    CHECK(sh("qemu-img convert -f vpc -O raw %s %s", name, raw) == 0);
    CHECK(file_size(raw) == disk->size);
    int bad = compare_raw(name, disk, raw, full);
    CHECK(bad == 0);
    printf("%-5s decode %-26s %12llu bytes, %6llu grains allocated\n", bad ? "FAIL" : "ok", name,
           (unsigned long long)disk->size,
           (unsigned long long)(disk->alloc ? disk->alloc->n_alloc : 0));
    cfs_source_close(disk);
    unlink(P(raw));
}

static void make(const char *name, const char *opts, uint64_t size, const char *io)
{
    CHECK(sh("qemu-img create -q -f vpc -o %s %s %llu", opts, name, (unsigned long long)size) == 0);
    if (io && *io)
        CHECK(sh("qemu-io -f vpc %s %s >/dev/null", io, name) == 0);
}

static const char *writes_for(uint64_t size)
{
    static char io[1024];
    snprintf(io, sizeof io,
             "-c 'write -P 0x11 0 64k' -c 'write -P 0x22 100000 3000' "
             "-c 'write -P 0x33 %llu 1m' -c 'write -P 0x44 %llu 4096' -c 'write -P 0x55 %llu 512'",
             (unsigned long long)(size / 2 & ~511ull), (unsigned long long)(BLOCK - 2048),
             (unsigned long long)(size - 512));
    return io;
}

static void test_decode(void)
{
    static const struct {
        const char *name, *opts;
        uint64_t size;
        int io; /* 0 none, 1 scattered writes, 2 every byte */
        bool full;
    } cases[] = {
        { "dyn-odd.vhd", "subformat=dynamic,force_size=on", 5 * MiB + 1536, 1, true },
        { "dyn-chs.vhd", "subformat=dynamic", 7 * MiB + 12345, 1, true },
        { "dyn-empty.vhd", "subformat=dynamic,force_size=on", 9 * MiB, 0, true },
        { "dyn-full.vhd", "subformat=dynamic,force_size=on", 6 * MiB + 512, 2, true },
        { "fix-odd.vhd", "subformat=fixed,force_size=on", 3 * MiB + 1024, 1, true },
        { "fix-chs.vhd", "subformat=fixed", 10 * MiB, 1, true },
        { "fix-empty.vhd", "subformat=fixed,force_size=on", 1 * MiB, 0, true },
        { "dyn-3g.vhd", "subformat=dynamic,force_size=on", 3 * GiB + 4096, 1, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char io[256];
        const char *w = "";
        if (cases[i].io == 1)
            w = writes_for(cases[i].size);
        else if (cases[i].io == 2) {
            snprintf(io, sizeof io, "-c 'write -P 0x5a 0 %llu'", (unsigned long long)cases[i].size);
            w = io;
        }
        make(cases[i].name, cases[i].opts, cases[i].size, w);
        verify_image(cases[i].name, cases[i].full);
    }
    /* The 3 GiB image: the writes across 2 GiB and at the end, exactly. */
    CHECK(sh("qemu-io -f vpc -c 'write -P 0x66 %llu 8192' -c 'write -P 0x77 %llu 4096' "
             "dyn-3g.vhd >/dev/null",
             (unsigned long long)(2 * GiB - 4096), (unsigned long long)(3 * GiB)) == 0);
    struct cfs_source *disk;
    if (open_vhd("dyn-3g.vhd", &disk) == 0) {
        unsigned char b[8192], want[8192];
        memset(want, 0x66, sizeof want);
        CHECK(cfs_source_pread(disk, b, 8192, 2 * GiB - 4096) == 8192 &&
              memcmp(b, want, 8192) == 0);
        memset(want, 0x77, 4096);
        CHECK(cfs_source_pread(disk, b, 8192, 3 * GiB) == 4096 && memcmp(b, want, 4096) == 0);
        CHECK(cfs_alloc_test(disk->alloc, (2 * GiB) >> CFS_GRAIN_SHIFT));
        CHECK(!cfs_alloc_test(disk->alloc, (GiB) >> CFS_GRAIN_SHIFT));
        cfs_source_close(disk);
    }
    verify_image("dyn-3g.vhd", false);
    /* Hand-made fuzz seeds with 16 KiB and 1 MiB blocks and a partial last
     * block (bitmaps all ones: qemu ignores them). Not bs512.vhd: below 4 KiB
     * blocks qemu takes the bitmap as 0 bytes, the spec as one sector. */
    static const char *const seeds[] = { "bs16k-partial.vhd", "bs1m-empty.vhd" };
    for (int i = 0; i < 2; i++) {
        char *abs = realpath("tests/fuzz/corpus/vhd", NULL);
        if (abs && sh("cp %s/%s seed-%s", abs, seeds[i], seeds[i]) == 0) {
            char name[64];
            snprintf(name, sizeof name, "seed-%s", seeds[i]);
            verify_image(name, true);
        }
        free(abs);
    }
    /* Empty images allocate nothing. */
    if (open_vhd("dyn-empty.vhd", &disk) == 0) {
        CHECK(disk->alloc && disk->alloc->n_alloc == 0);
        cfs_source_close(disk);
    }
}

/* A block whose bitmap marks sectors absent reads zeros there (§4.2). */
static void test_bitmap(void)
{
    struct cfs_source *disk;
    make("bm.vhd", "subformat=dynamic,force_size=on", 4 * MiB, "-c 'write -P 0x42 0 2m'");
    uint64_t blk = get_be("bm.vhd", 1536, 4) * 512;
    copy("bm.vhd", "bm-half.vhd");
    put_be("bm-half.vhd", blk, 2, 0x00f0); /* sectors 0-7 and 12-15 absent */
    CHECK(open_vhd("bm-half.vhd", &disk) == 0);
    if (disk) {
        unsigned char b[16 * 512];
        CHECK(cfs_source_pread(disk, b, sizeof b, 0) == (ssize_t)sizeof b);
        CHECK(is_zero(b, 8 * 512) && b[8 * 512] == 0x42 && b[12 * 512 - 1] == 0x42 &&
              is_zero(b + 12 * 512, 4 * 512));
        CHECK(cfs_source_pread(disk, b, 100, 8 * 512 - 50) == 100 && is_zero(b, 50) &&
              b[50] == 0x42 && b[99] == 0x42);
        CHECK(cfs_alloc_test(disk->alloc, 0)); /* the BAT alone decides */
        cfs_source_close(disk);
    }
    copy("bm.vhd", "bm-none.vhd");
    CHECK(sh("dd if=/dev/zero of=bm-none.vhd bs=1 seek=%llu count=512 conv=notrunc status=none",
             (unsigned long long)blk) == 0);
    disk = NULL;
    CHECK(open_vhd("bm-none.vhd", &disk) == 0);
    if (disk) {
        unsigned char b[4096];
        CHECK(cfs_source_pread(disk, b, sizeof b, 65536) == (ssize_t)sizeof b &&
              is_zero(b, sizeof b));
        cfs_source_close(disk);
    }
}

/* ---- views ---- */

static bool json_int(const char *name, const char *key, uint64_t *v)
{
    const char *line = sh_out("qemu-img info -f vpc --output=json %s | tr -d '\\n'", name);
    json_t *j = json_loads(line, 0, NULL);
    json_t *x = j ? json_object_get(j, key) : NULL;
    bool ok = json_is_integer(x);
    if (ok)
        *v = (uint64_t)json_integer_value(x);
    json_decref(j);
    return ok;
}

/* Writes a source to a file, leaving holes where it reads zeros. */
static void dump(struct cfs_source *src, const char *name)
{
    int fd = open(P(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    unsigned char *b = malloc(CHUNK);
    CHECK(fd >= 0 && b);
    for (uint64_t off = 0; off < src->size; off += CHUNK) {
        uint64_t len = src->size - off < CHUNK ? src->size - off : CHUNK;
        ssize_t n = cfs_source_pread(src, b, len, off);
        CHECK(n == (ssize_t)len);
        for (uint64_t g = 0; n == (ssize_t)len && g < len; g += 64 * KiB) {
            uint64_t gl = len - g < 64 * KiB ? len - g : 64 * KiB;
            if (!is_zero(b + g, gl))
                CHECK(pwrite(fd, b + g, gl, (off_t)(off + g)) == (ssize_t)gl);
        }
    }
    CHECK(ftruncate(fd, (off_t)src->size) == 0);
    free(b);
    close(fd);
}

/* Blocks of 2 MiB in the guest's file that hold data (SEEK_DATA). */
static uint64_t data_blocks(const char *name, uint64_t size)
{
    int fd = open(P(name), O_RDONLY);
    uint64_t n = 0;
    for (uint64_t k = 0; k * BLOCK < size; k++) {
        off_t d = lseek(fd, (off_t)(k * BLOCK), SEEK_DATA);
        if (d >= 0 && (uint64_t)d < (k + 1) * BLOCK)
            n++;
    }
    close(fd);
    return n;
}

static void check_view(const char *guest, enum vhd_kind kind, bool azure)
{
    struct cfs_source *file, *view, *back;
    char name[256];
    const char *kname = kind == VHD_FIXED ? (azure ? "azure" : "fixed") : "dynamic";
    snprintf(name, sizeof name, "%s.%s.vhd", guest, kname);
    CHECK(cfs_file_source_open(P(guest), &file) == 0);
    uint64_t gsize = file->size;
    int err = vhd_view_open(file, kind, azure, 7, &view);
    CHECK(err == 0);
    if (err)
        return;
    uint64_t align = azure ? MiB : 512, v = (gsize + align - 1) / align * align;
    uint64_t nb = (v + BLOCK - 1) / BLOCK, batb = (4 * nb + 511) / 512 * 512;
    uint64_t want =
        kind == VHD_FIXED ? v + 512 : 1536 + batb + data_blocks(guest, gsize) * (BLOCK + 512) + 512;
    CHECK(view->size == want);
    dump(view, name);
    uint64_t vsize = 0;
    CHECK(json_int(name, "virtual-size", &vsize) && vsize == v);
    int cmp = sh("qemu-img compare -q -f raw -F vpc %s %s", guest, name);
    CHECK(cmp == 0);
    /* Round trip: the view read by the decoder, straight from the source. */
    err = vhd_open(view, name, &back);
    CHECK(err == 0);
    int bad = 1;
    if (!err) {
        CHECK(back->size == v);
        bad = compare_raw(name, back, guest, v < GiB);
        CHECK(bad == 0);
        cfs_source_close(back);
    }
    printf("%-5s view   %-26s %12llu bytes (virtual %llu)\n", bad || cmp ? "FAIL" : "ok", name,
           (unsigned long long)want, (unsigned long long)vsize);
    unlink(P(name));
}

/* A guest disk of zeros, with every grain or none allocated. */
struct zero_disk {
    struct cfs_source base;
    struct cfs_alloc *map;
};

static ssize_t zero_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    (void)src, (void)off;
    memset(buf, 0, len);
    return (ssize_t)len;
}

static void zero_close(struct cfs_source *src)
{
    cfs_alloc_free(((struct zero_disk *)src)->map);
    free(src);
}

static const struct cfs_source_ops zero_ops = { .name = "zero",
                                                .pread = zero_pread,
                                                .close = zero_close };

static struct cfs_source *zero_disk(uint64_t size, bool empty)
{
    struct zero_disk *z = calloc(1, sizeof *z);
    if (!z)
        abort();
    z->base.ops = &zero_ops;
    z->base.size = size;
    if (empty) {
        z->map = cfs_alloc_new(size);
        z->base.alloc = z->map;
    }
    return &z->base;
}

static uint32_t footer_u32(struct cfs_source *view, uint64_t field)
{
    unsigned char b[4];
    CHECK(cfs_source_pread(view, b, 4, view->size - 512 + field) == 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void test_views(void)
{
    /* Guests: odd size (not even a sector), empty, full, 2.5 GiB sparse. */
    CHECK(sh("truncate -s %llu g-odd.raw && qemu-io -f raw %s g-odd.raw >/dev/null", 5 * MiB + 1636,
             "-c 'write -P 0x11 0 64k' -c 'write -P 0x22 3000000 70000' "
             "-c 'write -P 0x33 5242000 2000'") == 0);
    CHECK(sh("truncate -s %llu g-empty.raw", 7 * MiB) == 0);
    CHECK(sh("head -c %llu /dev/urandom > g-full.raw", 4 * MiB + 64 * KiB) == 0);
    CHECK(sh("truncate -s %llu g-big.raw && qemu-io -f raw -c 'write -P 0x44 0 1m' -c 'write -P "
             "0x55 %llu 128k' -c 'write -P 0x66 %llu 4096' g-big.raw >/dev/null",
             5 * GiB / 2, 2 * GiB - 64 * KiB, 5 * GiB / 2 - 4096) == 0);
    static const char *const guests[] = { "g-odd.raw", "g-empty.raw", "g-full.raw", "g-big.raw" };
    for (size_t i = 0; i < 4; i++) {
        check_view(guests[i], VHD_FIXED, false);
        check_view(guests[i], VHD_DYNAMIC, false);
    }
    check_view("g-odd.raw", VHD_FIXED, true);

    /* Sizes of formats.md §4.3 and geometry of §4.4. */
    struct cfs_source *view;
    CHECK(vhd_view_open(zero_disk(10 * GiB, false), VHD_FIXED, false, 1, &view) == 0);
    CHECK(view->size == 10737418752ull);
    CHECK(footer_u32(view, 56) == (20805u << 16 | 16 << 8 | 63));
    CHECK(footer_u32(view, 28) == 0x71656d32); /* "qem2" */
    cfs_source_close(view);
    CHECK(vhd_view_open(zero_disk(10 * GiB, false), VHD_DYNAMIC, false, 1, &view) == 0);
    CHECK(view->size == 10740062208ull);
    cfs_source_close(view);
    CHECK(vhd_view_open(zero_disk(10 * GiB, true), VHD_DYNAMIC, false, 1, &view) == 0);
    CHECK(view->size == 22528);
    cfs_source_close(view);
    CHECK(vhd_view_open(zero_disk(4 * MiB, false), VHD_FIXED, false, 1, &view) == 0);
    CHECK(footer_u32(view, 56) == (120u << 16 | 4 << 8 | 17));
    cfs_source_close(view);
    CHECK(vhd_view_open(zero_disk(5 * MiB + 1, false), VHD_FIXED, true, 1, &view) == 0);
    CHECK(view->size == 6 * MiB + 512);
    cfs_source_close(view);
    CHECK(vhd_view_open(zero_disk(5 * MiB, false), VHD_DYNAMIC, true, 1, &view) == -EINVAL);
    CHECK(vhd_view_open(zero_disk(2041 * GiB, false), VHD_FIXED, false, 1, &view) == -EFBIG);

    /* Seeded: the same footer for the same seed, another UUID for another. */
    struct cfs_source *a, *b, *c;
    unsigned char fa[512], fb[512], fc[512];
    CHECK(vhd_view_open(zero_disk(MiB, false), VHD_FIXED, false, 42, &a) == 0);
    CHECK(vhd_view_open(zero_disk(MiB, false), VHD_FIXED, false, 42, &b) == 0);
    CHECK(vhd_view_open(zero_disk(MiB, false), VHD_FIXED, false, 43, &c) == 0);
    CHECK(cfs_source_pread(a, fa, 512, MiB) == 512 && cfs_source_pread(b, fb, 512, MiB) == 512 &&
          cfs_source_pread(c, fc, 512, MiB) == 512);
    CHECK(memcmp(fa, fb, 512) == 0 && memcmp(fa + 68, fc + 68, 16) != 0);
    cfs_source_close(a);
    cfs_source_close(b);
    cfs_source_close(c);
}

/* ---- corpus ---- */

static void expect_refused(const char *name, int want, const char *why)
{
    struct cfs_source *disk = NULL;
    int named;
    log_skip();
    int err = open_vhd(name, &disk);
    int lines = log_lines(name, &named);
    CHECK(err == want);
    CHECK(lines == 1 && named == 1);
    bool ok = err == want && lines == 1 && named == 1;
    printf("%-5s refuse %-26s %-34s %s", ok ? "ok" : "FAIL", name, why,
           lines ? strstr(log_last, "vhd:") ? strstr(log_last, "vhd:") : log_last : "(no log)\n");
    if (!err)
        cfs_source_close(disk);
}

static void test_corpus(void)
{
    const char *from = getenv("CFS_CORPUS");
    if (!from)
        from = access("../shared/corpus", R_OK) == 0 ? "../shared/corpus" : "/work/shared/corpus";
    char *abs = realpath(from, NULL);
    static const char *const files[] = { "ext2.vhd", "fat-differential.vhd", "image.vhd",
                                         "image-differential.vhd" };
    for (int i = 0; i < 4; i++)
        CHECK(sh("cp %s/%s corpus-%s", abs ? abs : from, files[i], files[i]) == 0);
    free(abs);
    verify_image("corpus-ext2.vhd", true);
    struct cfs_source *disk, *view;
    if (open_vhd("corpus-ext2.vhd", &disk) == 0) {
        CHECK(vhd_view_open(disk, VHD_DYNAMIC, false, 1, &view) == 0);
        CHECK(view->size == 2100224); /* formats.md §4.3: what qemu made */
        cfs_source_close(view);
    }
    expect_refused("corpus-fat-differential.vhd", -ENOTSUP, "differencing");
    expect_refused("corpus-image.vhd", -EIO, "bad footer checksum");
    /* Its checksums are bad too: an unverified footer's disk type is not
     * believed, so the checksum is the reason. */
    expect_refused("corpus-image-differential.vhd", -EIO, "differencing, bad checksums");
}

/* ---- hostile images ---- */

static void test_hostile(void)
{
    make("h.vhd", "subformat=dynamic,force_size=on", 5 * MiB, "-c 'write -P 0x11 0 3m'");
    make("hf.vhd", "subformat=fixed,force_size=on", 2 * MiB, "-c 'write -P 0x11 0 64k'");
    uint64_t fs = file_size("h.vhd");
    struct {
        const char *name, *why;
        int err;
    } cases[] = {
        { "h-sum.vhd", "bad footer checksum", -EIO },
        { "h-copysum.vhd", "bad footer copy checksum", -EIO },
        { "h-hdrsum.vhd", "bad header checksum", -EIO },
        { "h-cookie.vhd", "no cookie", -EIO },
        { "h-hdrcookie.vhd", "no header cookie", -EIO },
        { "h-diff.vhd", "differencing, good checksum", -ENOTSUP },
        { "h-type.vhd", "disk type 7", -EIO },
        { "h-geom.vhd", "geometry beyond the size", -EIO },
        { "h-size.vhd", "size 2^63 (overflow)", -ENOTSUP },
        { "h-size1.vhd", "size not a sector multiple", -EIO },
        { "h-sizebig.vhd", "size needs more BAT entries", -EIO },
        { "h-hdroff.vhd", "header beyond EOF", -EIO },
        { "h-batoff.vhd", "BAT beyond EOF", -EIO },
        { "h-batwrap.vhd", "BAT offset wraps", -EIO },
        { "h-batbig.vhd", "BAT of 2^32-1 entries", -EIO },
        { "h-batover.vhd", "BAT over the header", -EIO },
        { "h-entries.vhd", "BAT entries < blocks", -EIO },
        { "h-block.vhd", "block beyond EOF", -EIO },
        { "h-blockfoot.vhd", "block over the end footer", -EIO },
        { "h-blockmeta.vhd", "block over the BAT", -EIO },
        { "h-bs.vhd", "block size 2^30", -EIO },
        { "h-bs3.vhd", "block size 3 MiB", -EIO },
        { "h-bs256.vhd", "block size 256", -EIO },
        { "h-bs0.vhd", "block size 0", -EIO },
        { "h-trunc.vhd", "truncated by 1000 bytes", -EIO },
        { "h-short.vhd", "100 bytes", -EIO },
        { "h-copy.vhd", "copy disagrees", -EIO },
        { "hf-size.vhd", "fixed: size beyond the file", -EIO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        copy(cases[i].name[1] == 'f' ? "hf.vhd" : "h.vhd", cases[i].name);
    put_be("h-sum.vhd", fs - 512 + 40, 1, 0x7f);
    put_be("h-copysum.vhd", 40, 1, 0x7f);
    put_be("h-hdrsum.vhd", 512 + 40, 1, 0x7f);
    put_be("h-cookie.vhd", fs - 512, 1, 'C');
    put_header("h-hdrcookie.vhd", 0, 1, 'C');
    put_footer("h-diff.vhd", 60, 4, 4, true);
    put_footer("h-type.vhd", 60, 4, 7, true);
    put_footer("h-geom.vhd", 56, 4, 0x01000411, true);
    put_footer("h-size.vhd", 48, 8, 1ull << 63, true);
    put_footer("h-size1.vhd", 48, 8, 5 * MiB - 1, true);
    put_footer("h-sizebig.vhd", 48, 8, 100 * MiB, true);
    put_footer("h-hdroff.vhd", 16, 8, fs, true);
    put_header("h-batoff.vhd", 16, 8, fs - 512);
    put_header("h-batwrap.vhd", 16, 8, ~0ull - 3);
    put_header("h-batbig.vhd", 28, 4, 0xffffffff);
    put_header("h-batover.vhd", 16, 8, 1024);
    put_header("h-entries.vhd", 28, 4, 2);
    put_be("h-block.vhd", 1536, 4, (fs + 4096) / 512);
    put_be("h-blockfoot.vhd", 1536 + 4, 4, (fs - 1024) / 512);
    put_be("h-blockmeta.vhd", 1536 + 4, 4, 1536 / 512);
    put_header("h-bs.vhd", 32, 4, 1u << 30);
    put_header("h-bs3.vhd", 32, 4, 3 * MiB);
    put_header("h-bs256.vhd", 32, 4, 256);
    put_header("h-bs0.vhd", 32, 4, 0);
    CHECK(truncate(P("h-trunc.vhd"), (off_t)(fs - 1000)) == 0);
    CHECK(truncate(P("h-short.vhd"), 100) == 0);
    put_be("h-copy.vhd", 48, 8, 4 * MiB);
    fix_sum("h-copy.vhd", 0, 512, 64);
    put_footer("hf-size.vhd", 48, 8, 2 * MiB + 512, false);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i].name, cases[i].err, cases[i].why);
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

    CHECK(vhd_probe("conectix\0\0\0\2", 12));
    CHECK(!vhd_probe("conecti", 7));
    CHECK(!vhd_probe("cxsparse", 8));

    test_decode();
    test_bitmap();
    test_corpus();
    test_views();
    test_hostile();

    if (unit_failures)
        printf("%d failures; images kept in %s\n", unit_failures, dir);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
