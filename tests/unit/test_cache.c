/* The on-disk block cache and its filter source, over a fake inner source
 * that counts its reads: hits, misses, LRU eviction, reopen, corrupt and
 * truncated entries, a lying inner, concurrent readers, a hinted fill, the
 * memo of small reads. */
#define _GNU_SOURCE
#include "cache.h"
#include "digest.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SIZE (3 * CFS_CACHE_CHUNK + 12345)

struct fake {
    struct cfs_source base;
    const char *data;
    atomic_int reads;
};

static ssize_t fake_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct fake *f = (struct fake *)src;
    f->reads++;
    memcpy(buf, f->data + off, len);
    return (ssize_t)len;
}

static atomic_int total_reads; /* of closed fakes */

static void fake_close(struct cfs_source *src)
{
    total_reads += ((struct fake *)src)->reads;
    free(src);
}

static const struct cfs_source_ops fake_ops = { .name = "fake",
                                                .pread = fake_pread,
                                                .close = fake_close };

static struct fake *fake_new(const char *data)
{
    struct fake *f = calloc(1, sizeof *f);
    f->base.ops = &fake_ops;
    f->base.size = SIZE;
    f->data = data;
    return f;
}

static char data[SIZE], hex[129];
static char dir[64];

/* Opens a cached source over a new fake; reads it whole, 128 KiB at a
 * time; returns the fake's reads (the source is closed). */
static int read_through(struct cfs_cache *c, const char *digest, bool *verified)
{
    struct fake *f = fake_new(data);
    struct cfs_source *s;
    CHECK(cfs_cache_source_open(&f->base, c, "sha256", digest, &s) == 0);
    char *buf = malloc(SIZE);
    for (size_t off = 0; off < SIZE; off += 128 << 10)
        CHECK(cfs_source_pread(s, buf + off, 128 << 10, off) > 0);
    CHECK(memcmp(buf, data, SIZE) == 0);
    free(buf);
    int before = total_reads;
    if (verified)
        *verified = s->verified;
    cfs_source_close(s); /* waits for the verification */
    return total_reads - before;
}

/* The path of the n-th entry file (not a manifest) in dir. */
static char *entry_file(int n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *p = NULL;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && !strstr(de->d_name, ".m") && n-- == 0) {
            p = malloc(strlen(dir) + strlen(de->d_name) + 2);
            sprintf(p, "%s/%s", dir, de->d_name);
            break;
        }
    if (d)
        closedir(d);
    return p;
}

static void test_hits(void)
{
    struct cfs_cache *c;
    bool v;
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    CHECK(read_through(c, hex, &v) == 4); /* one read per chunk */
    CHECK(read_through(c, hex, &v) == 0 && v);
    cfs_cache_close(c);

    /* a remount: the files are the index */
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    CHECK(cfs_cache_used(c) > SIZE);
    CHECK(read_through(c, hex, &v) == 0 && v);

    /* a flipped byte, then a truncated file: refetched, never served */
    char *p = entry_file(0);
    int fd = open(p, O_RDWR);
    char b;
    CHECK(pread(fd, &b, 1, 100) == 1);
    b ^= 1;
    CHECK(pwrite(fd, &b, 1, 100) == 1);
    close(fd);
    free(p);
    CHECK(read_through(c, hex, NULL) == 1);
    p = entry_file(1);
    CHECK(truncate(p, 1000) == 0);
    free(p);
    CHECK(read_through(c, hex, NULL) == 1);
    CHECK(read_through(c, hex, NULL) == 0);
    cfs_cache_close(c);
}

static void test_lying_inner(void)
{
    struct cfs_cache *c;
    /* the digest says other bytes: nothing may be served from disk */
    const char *other = "00000000000000000000000000000000000000000000000000000000000000ff";
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    CHECK(read_through(c, other, NULL) == 4);
    CHECK(read_through(c, other, NULL) == 4);
    cfs_cache_close(c);
}

static void test_lru(void)
{
    struct cfs_cache *c;
    char *buf = malloc(CFS_CACHE_CHUNK);
    /* random bytes do not compress: room for two entries */
    CHECK(cfs_cache_open(dir, 2 * CFS_CACHE_CHUNK + 40000, &c) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(cfs_cache_put(c, "k", i, data + i * CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    CHECK(cfs_cache_get(c, "k", 0, buf, CFS_CACHE_CHUNK) == CFS_CACHE_CHUNK);
    CHECK(cfs_cache_put(c, "k", 2, data + 2 * CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    CHECK(cfs_cache_has(c, "k", 0) && !cfs_cache_has(c, "k", 1) && cfs_cache_has(c, "k", 2));
    CHECK(cfs_cache_get(c, "k", 1, buf, CFS_CACHE_CHUNK) == -ENOENT);
    CHECK(cfs_cache_used(c) <= 2 * CFS_CACHE_CHUNK + 40000);
    CHECK(cfs_cache_get(c, "k", 2, buf, CFS_CACHE_CHUNK) == CFS_CACHE_CHUNK);
    CHECK(memcmp(buf, data + 2 * CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    /* an image over half the cache is not cached: the caller keeps it */
    struct fake *f = fake_new(data);
    struct cfs_source *s;
    CHECK(cfs_cache_source_open(&f->base, c, "sha256", hex, &s) == -EFBIG);
    cfs_source_close(&f->base);
    cfs_cache_close(c);
    free(buf);
}

struct reader {
    struct cfs_source *s;
    unsigned seed;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    char buf[70000];
    for (int i = 0; i < 200; i++) {
        uint64_t off = (uint64_t)rand_r(&r->seed) % SIZE;
        ssize_t n = cfs_source_pread(r->s, buf, sizeof buf, off);
        CHECK(n > 0 && memcmp(buf, data + off, (size_t)n) == 0);
    }
    return NULL;
}

static void test_concurrent(void)
{
    struct cfs_cache *c;
    struct cfs_source *s;
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    for (int round = 0; round < 2; round++) { /* from inner, then from disk */
        struct fake *f = fake_new(data);
        CHECK(cfs_cache_source_open(&f->base, c, "sha256", hex, &s) == 0);
        pthread_t t[8];
        struct reader r[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (struct reader){ s, (unsigned)i + 1 };
            pthread_create(&t[i], NULL, reader_main, &r[i]);
        }
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
        cfs_source_close(s);
    }
    cfs_cache_close(c);
}

/* A hint fills the cache in one pass (one inner read per chunk); small
 * reads all over the source meanwhile wait for it or read what this
 * source stored, and never go to inner themselves. */
static void test_fill(void)
{
    struct cfs_cache *c;
    struct cfs_source *s;
    char buf[4096];
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    struct fake *f = fake_new(data);
    CHECK(cfs_cache_source_open(&f->base, c, "sha256", hex, &s) == 0);
    cfs_source_prefetch(s, 0, SIZE);
    unsigned seed = 7;
    for (int i = 0; i < 64; i++) {
        uint64_t off = (uint64_t)rand_r(&seed) % (SIZE - sizeof buf);
        CHECK(cfs_source_pread(s, buf, sizeof buf, off) == (ssize_t)sizeof buf);
        CHECK(memcmp(buf, data + off, sizeof buf) == 0);
    }
    int before = total_reads;
    cfs_source_close(s); /* waits for the fill, then the verification */
    CHECK(total_reads - before == 4);
    bool v;
    CHECK(read_through(c, hex, &v) == 0 && v); /* verified: served from disk */
    cfs_cache_close(c);
}

static void *spin(void *arg)
{
    atomic_bool *stop = arg;
    while (!atomic_load(stop))
        ;
    return NULL;
}

/* A spare source (a view's reader) never waits for the storers, whose
 * threads run on idle CPU: what they cannot keep up with is not stored.
 * Whatever it stored, one ordinary read after it completes the set, and
 * the image verifies: from then on it is served from disk. Two spinning
 * threads keep the cores busy meanwhile. */
static void test_spare(void)
{
    struct cfs_cache *c;
    struct cfs_source *s;
    CHECK(cfs_cache_open(dir, 64 << 20, &c) == 0);
    atomic_bool stop = false;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, spin, &stop);
    struct fake *f = fake_new(data);
    CHECK(cfs_cache_source_open(&f->base, c, "sha256", hex, &s) == 0);
    cfs_cache_source_spare(s);
    char *buf = malloc(SIZE);
    for (size_t off = 0; off < SIZE; off += 128 << 10)
        CHECK(cfs_source_pread(s, buf + off, 128 << 10, off) > 0);
    CHECK(memcmp(buf, data, SIZE) == 0);
    free(buf);
    CHECK(f->reads == 4); /* each chunk fetched once, stored or not */
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cfs_source_close(s);
    bool v;
    int reads = read_through(c, hex, &v);
    CHECK(reads == 0 || reads == 4);
    CHECK(read_through(c, hex, &v) == 0 && v);
    cfs_cache_close(c);
}

/* The memo: a claimed range is filled once and then serves any read it
 * holds; a failed fill leaves nothing; the byte budget evicts. */
static void test_memo(void)
{
    struct cfs_memo *m = cfs_memo_new();
    char buf[64];
    CHECK(!cfs_memo_get(m, "k", 10, 20, buf));
    CHECK(cfs_memo_claim(m, "k", 0, 4096));
    CHECK(!cfs_memo_claim(m, "k", 100, 10)); /* pending covers it */
    cfs_memo_fill(m, "k", 0, 4096, data);
    CHECK(cfs_memo_get(m, "k", 10, 20, buf) && memcmp(buf, data + 10, 20) == 0);
    CHECK(!cfs_memo_get(m, "other", 10, 20, buf));
    CHECK(!cfs_memo_get(m, "k", 4090, 20, buf)); /* past the entry */
    CHECK(cfs_memo_claim(m, "j", 0, 64));
    cfs_memo_fill(m, "j", 0, 64, NULL); /* failed */
    CHECK(!cfs_memo_get(m, "j", 0, 64, buf));
    CHECK(!cfs_memo_claim(m, "big", 0, CFS_MEMO_MAX + 1));
    for (int i = 0; i < 40; i++) { /* 40 x 512 KiB: the first go */
        char key[16];
        snprintf(key, sizeof key, "p%d", i);
        CHECK(cfs_memo_claim(m, key, 0, CFS_MEMO_MAX));
        cfs_memo_fill(m, key, 0, CFS_MEMO_MAX, data);
    }
    CHECK(!cfs_memo_get(m, "p0", 0, 64, buf));
    CHECK(cfs_memo_get(m, "p39", 0, 64, buf) && memcmp(buf, data, 64) == 0);
    cfs_memo_free(m);
}

static void wipe(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* A tmp cleaner removes the directory under an open cache: its entries are
 * no longer claimed, and the next store makes the directory again. */
static void test_vanished(void)
{
    struct cfs_cache *c;
    char *buf = malloc(CFS_CACHE_CHUNK);
    CHECK(cfs_cache_open(dir, 64 * CFS_CACHE_CHUNK, &c) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(cfs_cache_put(c, "k", i, data + i * CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    wipe();
    CHECK(!cfs_cache_has(c, "k", 0));
    CHECK(cfs_cache_get(c, "k", 1, buf, CFS_CACHE_CHUNK) == -ENOENT);
    CHECK(!cfs_cache_has(c, "k", 1));
    CHECK(cfs_cache_used(c) == 0);
    CHECK(cfs_cache_put(c, "k", 1, data + CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    CHECK(cfs_cache_get(c, "k", 1, buf, CFS_CACHE_CHUNK) == CFS_CACHE_CHUNK);
    CHECK(memcmp(buf, data + CFS_CACHE_CHUNK, CFS_CACHE_CHUNK) == 0);
    cfs_cache_close(c);
    free(buf);
}

int main(void)
{
    unsigned seed = 42;
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (char)rand_r(&seed);
    struct cfs_digest *d;
    CHECK(cfs_digest_new("sha256", &d) == 0);
    cfs_digest_update(d, data, SIZE);
    cfs_digest_matches(d, "", hex);
    cfs_digest_free(d);
    snprintf(dir, sizeof dir, "/tmp/cfs-test-cache-%d", (int)getpid());

    test_hits();
    wipe();
    test_lying_inner();
    wipe();
    test_lru();
    wipe();
    test_concurrent();
    wipe();
    test_fill();
    wipe();
    test_spare();
    wipe();
    test_memo();
    wipe();
    test_vanished();
    wipe();
    return UNIT_RESULT();
}
