/* The compressed .vmdk view (vmdk_stream_zip_open): exact size up front,
 * qemu-img's judgement (compare, check, info), the stream a vCD import
 * reads (grain markers in LBA order, each a zlib stream of its grain, no
 * zero sector before the end-of-stream marker; and the emulator's own
 * check), identical bytes from two opens, random reads = a sequential one. */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "source.h"
#include "unit.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];
static char log_path[300];
#include "imgtest.h"

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static unsigned char *read_all(struct cfs_source *v, size_t step)
{
    unsigned char *buf = malloc(v->size);
    for (uint64_t off = 0; buf && off < v->size;) {
        size_t n = v->size - off < step ? (size_t)(v->size - off) : step;
        if (cfs_source_pread(v, buf + off, n, off) != (ssize_t)n) {
            CHECK(!"sequential read");
            break;
        }
        off += n;
    }
    return buf;
}

/* The walk of a stream reader: every record's grain inflated and compared
 * with the raw disk, LBAs rising, and nothing after the EOS sector. */
static void stream_walk(const unsigned char *f, size_t len, const unsigned char *raw,
                        uint64_t raw_len, uint64_t *records)
{
    uint64_t off = le(f + 64, 8) * 512, last = 0;
    unsigned char grain[65536];
    *records = 0;
    while (off + 512 <= len) {
        uint64_t lba = le(f + off, 8);
        uint32_t size = (uint32_t)le(f + off + 8, 4);
        if (size == 0) {
            CHECK(le(f + off + 12, 4) == 0 && lba == 0); /* EOS, not a GT/GD marker */
            CHECK(off + 512 == len);                     /* no zero sector before the end */
            return;
        }
        CHECK(12 + size <= 66048);
        CHECK(*records == 0 || lba > last);
        last = lba;
        uLongf out = sizeof grain;
        CHECK(uncompress(grain, &out, f + off + 12, size) == Z_OK && out == sizeof grain);
        uint64_t at = lba * 512;
        size_t n = at < raw_len ? (size_t)(raw_len - at < 65536 ? raw_len - at : 65536) : 0;
        CHECK(memcmp(grain, raw + at, n) == 0);
        off += (12 + size + 511) / 512 * 512;
        (*records)++;
    }
    CHECK(!"no end-of-stream marker");
}

static struct cfs_source *open_view(const char *image, int qcow2, int level)
{
    struct cfs_source *file, *disk = NULL, *v = NULL;
    CHECK(cfs_file_source_open(image, &file) == 0);
    if (qcow2)
        CHECK(qcow2_open(file, image, &disk) == 0);
    else
        disk = file;
    CHECK(vmdk_stream_zip_open(disk, "disk.vmdk", 7, "lsilogic", level, &v) == 0);
    return v;
}

static void one_case(const char *name, int qcow2, int level)
{
    const char *image = P(name);
    char out[512], raw[512];
    snprintf(out, sizeof out, "%s.z%d.vmdk", image, level);
    snprintf(raw, sizeof raw, "%s.raw", image);
    CHECK(sh("qemu-img convert -O raw '%s' '%s'", image, raw) == 0);

    struct cfs_source *v = open_view(image, qcow2, level), *w = open_view(image, qcow2, level);
    unsigned char *a = read_all(v, 1 << 20), *b = read_all(w, 65536 * 3 + 17);
    CHECK(v->size == w->size && memcmp(a, b, v->size) == 0); /* two opens: same bytes */
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, a, v->size) == (ssize_t)v->size);
    close(fd);

    for (int i = 0; i < 200; i++) { /* random preads, also across records */
        uint64_t off = rnd() % v->size;
        size_t n = (size_t)(rnd() % 200000) + 1;
        if (n > v->size - off)
            n = (size_t)(v->size - off);
        unsigned char *buf = malloc(n);
        CHECK(cfs_source_pread(w, buf, n, off) == (ssize_t)n && memcmp(buf, a + off, n) == 0);
        free(buf);
    }

    size_t raw_len;
    struct stat st;
    CHECK(stat(raw, &st) == 0);
    raw_len = (size_t)st.st_size;
    unsigned char *rawb = malloc(raw_len ? raw_len : 1);
    fd = open(raw, O_RDONLY);
    CHECK(fd >= 0 && read(fd, rawb, raw_len) == (ssize_t)raw_len);
    close(fd);
    uint64_t records;
    stream_walk(a, v->size, rawb, raw_len, &records);
    CHECK(records == (v->alloc ? v->alloc->n_alloc : records) || records > 0);

    CHECK(sh("qemu-img compare -q -f raw -F vmdk '%s' '%s'", raw, out) == 0);
    CHECK(sh("qemu-img check -q -f vmdk '%s'", out) == 0);
    CHECK(sh("qemu-img info -f vmdk '%s' | grep -q 'create type: streamOptimized'", out) == 0);
    if (access("tests/clouds/lib/vcd/vmdkcheck.py", R_OK) == 0)
        CHECK(sh("cd '%s' && python3 -c 'import sys; sys.path.insert(0, \"tests/clouds/lib/vcd\");"
                 " import vmdkcheck; r = vmdkcheck.stream_check(sys.argv[1]);"
                 " sys.exit(r and print(r) or 0 if r is None else 1)' '%s'",
                 getenv("PWD"), out) == 0);
    fprintf(stderr, "%s level %d: %llu bytes\n", name, level, (unsigned long long)v->size);
    free(a);
    free(b);
    free(rawb);
    cfs_source_close(v);
    cfs_source_close(w);
}

/* Level 1 must beat the stored form on compressible data and never exceed
 * it on random data (the 129-sector bound: those grains are stored). */
static void sizes(void)
{
    struct cfs_source *s = open_view(P("rand.raw"), 0, 0), *z = open_view(P("rand.raw"), 0, 1);
    CHECK(z->size <= s->size);
    cfs_source_close(s);
    cfs_source_close(z);
    s = open_view(P("text.qcow2"), 1, 0);
    z = open_view(P("text.qcow2"), 1, 1);
    CHECK(z->size * 2 < s->size);
    cfs_source_close(s);
    cfs_source_close(z);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    if (system("command -v qemu-img >/dev/null") != 0) {
        fprintf(stderr, "skip: qemu-img is not installed\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "%s/cfs-vzip-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    cfs_log_open(log_path, CFS_LOG_INFO);
    /* qcow2 with text, zeros, a hole and an odd tail; raw of random bytes
     * (incompressible: stored records) with a partial last grain. */
    CHECK(sh("seq 1 200000 > text.raw && truncate -s 3M text.raw && "
             "head -c 100000 /dev/zero | tr '\\0' '\\253' >> text.raw && "
             "truncate -s 5000000 text.raw && seq 1 2000 >> text.raw && "
             "qemu-img convert -q -f raw -O qcow2 text.raw text.qcow2") == 0);
    CHECK(sh("head -c 1300000 /dev/urandom > rand.raw && seq 1 20000 >> rand.raw && "
             "head -c 777 /dev/urandom >> rand.raw") == 0);
    CHECK(sh("qemu-img create -q -f qcow2 empty.qcow2 1M") == 0);
    one_case("text.qcow2", 1, 1);
    one_case("text.qcow2", 1, 6);
    one_case("rand.raw", 0, 1);
    one_case("empty.qcow2", 1, 1);
    sizes();
    if (!getenv("KEEP"))
        sh("rm -rf '%s'", dir);
    return UNIT_RESULT();
}
