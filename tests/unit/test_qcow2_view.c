/* The .qcow2 view (core/format/qcow2_view.c), checked by independent
 * readers: qemu-img check (refcounts: no errors, no leaks) and compare,
 * libqcow's qcowinfo, and a round trip through the repo's own decoder.
 * Guest disks are sparse local files made here with plain file I/O. Exit
 * 77 when a reader is missing. */
#define _GNU_SOURCE
#include "format.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define CS  (64 * KiB)

static char dir[512];

static uint64_t rng = 0x13198a2e03707344ull;
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

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads all of src into a file, in chunks of odd sizes; the byte count. */
static uint64_t dump(struct cfs_source *src, const char *file)
{
    static const size_t chunks[] = { 1, 511, 4097, 65537, 131075, 1048577, 65536 };
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
    *len = (size_t)st.st_size;
    return b;
}

/* Random reads through the view equal the bytes of the file made of it,
 * a quarter of them around the region boundaries (header, tables, data). */
static void random_reads(struct cfs_source *src, const unsigned char *file, size_t len)
{
    unsigned char *b = malloc(300 * KiB);
    for (int i = 0; i < 400; i++) {
        uint64_t off = rnd() % (len + 1000), want = rnd() % (300 * KiB);
        if (i % 4 == 0)
            off = (rnd() % (len / CS + 1)) * CS + (rnd() % 32) - 16;
        if (off > len + 1000)
            off = 0;
        ssize_t got = cfs_source_pread(src, b, (size_t)want, off);
        uint64_t expect = off >= len ? 0 : (want < len - off ? want : len - off);
        CHECK(got == (ssize_t)expect);
        if (got > 0)
            CHECK(memcmp(b, file + off, (size_t)got) == 0);
    }
    free(b);
}

/* The guest through the repo's decoder over the view's file equals the
 * guest: the same allocation, and the same bytes in every allocated grain
 * and in some unallocated ones. */
static void round_trip(const char *out, const char *raw)
{
    struct cfs_source *file, *disk, *guest;
    CHECK(cfs_file_source_open(out, &file) == 0);
    int err = qcow2_open(file, "view", &disk);
    CHECK(err == 0);
    if (err)
        return;
    CHECK(cfs_file_source_open(raw, &guest) == 0);
    CHECK(disk->size == guest->size);
    CHECK(disk->alloc && disk->alloc->n_alloc == guest->alloc->n_alloc);
    unsigned char *a = malloc(CS), *b = malloc(CS);
    uint64_t n_grains = (guest->size + CS - 1) / CS;
    for (uint64_t g = 0; g < n_grains; g++) {
        int alloc = cfs_alloc_test(guest->alloc, g);
        CHECK(cfs_alloc_test(disk->alloc, g) == alloc);
        if (!alloc && rnd() % 64)
            continue;
        ssize_t na = cfs_source_pread(disk, a, CS, g * CS),
                nb = cfs_source_pread(guest, b, CS, g * CS);
        CHECK(na == nb && na > 0);
        if (na == nb && na > 0 && memcmp(a, b, (size_t)na) != 0) {
            fprintf(stderr, "grain %llu differs\n", (unsigned long long)g);
            unit_failures++;
            break;
        }
    }
    free(a);
    free(b);
    cfs_source_close(disk);
    cfs_source_close(guest);
}

/* The size of the view by the formula of qcow2_view.c, computed here the
 * long way: grow the refcount blocks one at a time until they suffice. */
static uint64_t expect_size(uint64_t size, const struct cfs_alloc *alloc)
{
    uint64_t ng = (size + CS - 1) / CS, l1 = ng ? (ng + 8191) / 8192 : 1, l2 = 0, na = 0;
    for (uint64_t q = 0; q < l1; q++) {
        uint64_t n = 0;
        for (uint64_t g = q * 8192; g < ng && g < (q + 1) * 8192; g++)
            n += (uint64_t)cfs_alloc_test(alloc, g);
        na += n;
        l2 += n != 0;
    }
    uint64_t l1c = (l1 * 8 + CS - 1) / CS, rb = 1;
    for (;; rb++) {
        uint64_t rt = (rb + 8191) / 8192, t = 1 + l1c + rt + rb + l2 + na;
        if (rb * 32768 >= t)
            return t * CS;
    }
}

static void check_view(const char *name, uint64_t size, void (*fill)(int fd, uint64_t size))
{
    char raw_name[128], view_name[128];
    snprintf(raw_name, sizeof raw_name, "%s.raw", name);
    snprintf(view_name, sizeof view_name, "%s.qcow2", name);
    char *raw = path(raw_name), *out = path(view_name);
    int fd = open(raw, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
    if (fill)
        fill(fd, size);
    close(fd);

    struct cfs_source *disk, *v;
    CHECK(cfs_file_source_open(raw, &disk) == 0);
    uint64_t expect = expect_size(size, disk->alloc);
    fprintf(stderr, "qcow2 %s: %llu bytes, %llu grains allocated, view %llu bytes\n", name,
            (unsigned long long)size, (unsigned long long)disk->alloc->n_alloc,
            (unsigned long long)expect);
    CHECK(qcow2_view_open(disk, &v) == 0);
    CHECK(v->size == expect);
    CHECK(dump(v, out) == v->size);
    struct stat st;
    CHECK(stat(out, &st) == 0 && (uint64_t)st.st_size == v->size);

    size_t len;
    unsigned char *file = slurp(out, &len);
    CHECK(be(file, 4) == 0x514649fb && be(file + 4, 4) == 3 && be(file + 20, 4) == 16);
    CHECK(be(file + 24, 8) == size && be(file + 96, 4) == 4);
    random_reads(v, file, len);
    cfs_source_close(v);
    free(file);

    CHECK(sh("qemu-img check -q -f qcow2 '%s'", out) == 0);
    CHECK(sh("qemu-img compare -q -f raw -F qcow2 '%s' '%s'", raw, out) == 0);
    CHECK(sh("qcowinfo '%s' >/dev/null", out) == 0);
    round_trip(out, raw);
    free(raw);
    free(out);
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
    pwrite_random(fd, 512 * MiB - 100, 200); /* across the first L2 table's end */
    pwrite_random(fd, 2 * GiB - 2048, 4096); /* across 2^31 */
    pwrite_random(fd, 3 * GiB + 12345, MiB);
    pwrite_random(fd, 4 * GiB - 100, 200); /* across 2^32 */
    pwrite_random(fd, size - 10, 10);
}

/* Over 32768 data clusters (2 GiB): a second refcount block. */
static void fill_two_blocks(int fd, uint64_t size)
{
    unsigned char *b = calloc(1, MiB);
    for (uint64_t off = 0; off < size; off += MiB) {
        b[0] = (unsigned char)(off >> 20);
        memset(b + 1, 0x11, 16); /* 1 MiB of near-zeros, allocated */
        pwrite_all(fd, b, MiB, off);
    }
    free(b);
}

/* A disk of zeros whose first n_alloc grains are allocated: no memory, no
 * file, so the refcount blocks can be pushed over their boundary. */
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

static const struct cfs_source_ops zero_ops = { .name = "zeros",
                                                .pread = zero_pread,
                                                .close = zero_close };

/* One data cluster below and one at the boundary of the first refcount
 * block (32768 clusters, 2 GiB): T = 32768 needs one block, one cluster
 * more needs two, which then count themselves. The view is written out
 * sparse (only metadata) for qemu-img check, which reads no data. */
static void refcount_boundary(uint64_t n_alloc, uint64_t n_rb)
{
    struct zero_disk *z = calloc(1, sizeof *z);
    z->base.ops = &zero_ops;
    z->base.size = 4 * GiB;
    z->map = cfs_alloc_new(z->base.size);
    cfs_alloc_set_range(z->map, 0, n_alloc * CS);
    z->base.alloc = z->map;
    uint64_t expect = expect_size(z->base.size, z->map);

    struct cfs_source *v;
    CHECK(qcow2_view_open(&z->base, &v) == 0);
    CHECK(v->size == expect);
    char name[64];
    snprintf(name, sizeof name, "boundary-%llu.qcow2", (unsigned long long)n_alloc);
    char *out = path(name);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)v->size) == 0);
    unsigned char *b = malloc(MiB), *zeros = calloc(1, MiB);
    for (uint64_t off = 0; off < v->size; off += MiB) {
        ssize_t n = cfs_source_pread(v, b, MiB, off);
        CHECK(n > 0);
        if (n > 0 && memcmp(b, zeros, (size_t)n) != 0)
            pwrite_all(fd, b, (size_t)n, off);
    }
    close(fd);
    /* The refcount table lists n_rb blocks, and the last used cluster is
     * counted, the one after it not. */
    unsigned char h[104], e[8];
    CHECK(cfs_source_pread(v, h, sizeof h, 0) == sizeof h);
    uint64_t rt = be(h + 48, 8), t = v->size / CS;
    CHECK(cfs_source_pread(v, e, 8, rt + 8 * n_rb) == 8 && be(e, 8) == 0);
    CHECK(cfs_source_pread(v, e, 8, rt + 8 * (n_rb - 1)) == 8 && be(e, 8) != 0);
    uint64_t last_rb = be(e, 8);
    CHECK(cfs_source_pread(v, e, 2, last_rb + 2 * ((t - 1) % 32768)) == 2 && be(e, 2) == 1);
    if (t % 32768)
        CHECK(cfs_source_pread(v, e, 2, last_rb + 2 * (t % 32768)) == 2 && be(e, 2) == 0);
    fprintf(stderr, "qcow2 boundary: %llu grains allocated, %llu clusters, %llu refcount blocks\n",
            (unsigned long long)n_alloc, (unsigned long long)t, (unsigned long long)n_rb);
    CHECK(t <= n_rb * 32768 && t > (n_rb - 1) * 32768);
    cfs_source_close(v);
    free(b);
    free(zeros);
    CHECK(sh("qemu-img check -q -f qcow2 '%s'", out) == 0);
    CHECK(sh("qcowinfo '%s' >/dev/null", out) == 0);
    unlink(out);
    free(out);
}

/* A disk with no allocation map (memory): every grain is a data cluster. */
static void view_of_memory(void)
{
    size_t len = 3 * MiB + 1536;
    char *data = malloc(len), *raw = path("memory.raw"), *out = path("memory.qcow2");
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i % 251 ? rnd() : 0);
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pwrite_all(fd, data, len, 0);
    close(fd);
    struct cfs_source *disk, *v;
    CHECK(cfs_mem_source_new(data, len, &disk) == 0);
    CHECK(disk->alloc == NULL);
    CHECK(qcow2_view_open(disk, &v) == 0);
    CHECK(v->size == expect_size(len, NULL));
    CHECK(dump(v, out) == v->size);
    cfs_source_close(v);
    CHECK(sh("qemu-img check -q -f qcow2 '%s'", out) == 0);
    CHECK(sh("qemu-img compare -q -f raw -F qcow2 '%s' '%s'", raw, out) == 0);
    CHECK(sh("qcowinfo '%s' >/dev/null", out) == 0);
    round_trip(out, raw);
    free(raw);
    free(out);
}

int main(void)
{
    static const char *tools[] = { "qemu-img", "qcowinfo" };
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
        if (!have(tools[i])) {
            fprintf(stderr, "skip: %s is not installed\n", tools[i]);
            return 77;
        }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cfs-qcow2-view-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;

    check_view("zero-size", 0, NULL);
    check_view("empty", 10 * MiB, NULL);
    check_view("tail-byte", 10 * MiB, fill_tail_byte);
    check_view("scattered", 64 * MiB, fill_scattered);
    check_view("full", 3 * MiB, fill_full);
    check_view("odd-size", 5 * MiB + 3584, fill_odd);
    check_view("big", 4 * GiB + 100 * KiB, fill_big);
    view_of_memory();
    refcount_boundary(32760, 1);
    refcount_boundary(32761, 2);
    if (getenv("CFS_SLOW_TESTS"))
        check_view("two-blocks", 2 * GiB + 3 * MiB, fill_two_blocks);

    if (!getenv("KEEP"))
        sh("rm -rf '%s'", dir);
    else
        fprintf(stderr, "kept %s\n", dir);
    return UNIT_RESULT();
}
