/* The check of what a view reads against the image's digest
 * (core/format/verify_source.c), over a source in memory that can lie: it
 * flips one byte of the reads that cover it, a given number of times, as a
 * corrupting network would. */
#include "digest.h"
#include "source.h"
#include "unit.h"
#include "verify.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define SIZE (5u << 20)

struct liar {
    struct cfs_source base;
    unsigned char *data;
    uint64_t flip_at;       /* UINT64_MAX: never */
    int flips;              /* reads covering flip_at that are corrupted */
    _Atomic uint64_t bytes; /* bytes read */
    uint64_t slow_off;      /* a read there takes a while; 0: none */
    atomic_bool slow_started;
};

static ssize_t liar_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct liar *l = (struct liar *)src;
    if (l->slow_off && off == l->slow_off) {
        atomic_store(&l->slow_started, true);
        usleep(200 * 1000);
    }
    memcpy(buf, l->data + off, len);
    l->bytes += len;
    if (l->flip_at >= off && l->flip_at < off + len && l->flips > 0) {
        l->flips--;
        ((unsigned char *)buf)[l->flip_at - off] ^= 0xff;
    }
    return (ssize_t)len;
}

static void liar_close(struct cfs_source *src)
{
    (void)src; /* the test owns it */
}

static const struct cfs_source_ops liar_ops = { .name = "liar",
                                                .pread = liar_pread,
                                                .close = liar_close };

struct slow_read {
    struct cfs_source *v;
    uint64_t off;
    ssize_t r;
};

static void *slow_read_main(void *arg)
{
    struct slow_read *a = arg;
    char *buf = malloc(65536);
    a->r = cfs_source_pread(a->v, buf, 65536, a->off);
    free(buf);
    return NULL;
}

static unsigned char image[SIZE];
static char hex[129];

static void setup(struct liar *l, uint64_t flip_at, int flips)
{
    memset(l, 0, sizeof *l);
    l->base = (struct cfs_source){ .ops = &liar_ops, .size = SIZE };
    l->data = image;
    l->flip_at = flip_at;
    l->flips = flips;
}

static struct cfs_source *open_check(struct liar *l, bool tables_first)
{
    struct cfs_source *v = NULL;
    CHECK(cfs_verify_open(&l->base, "sha512", hex, "test", tables_first, &v) == 0);
    return v;
}

/* Reads [off, off + len) in pieces of step; the first error or 0. */
static int read_span(struct cfs_source *s, uint64_t off, uint64_t len, size_t step)
{
    char *buf = malloc(step);
    int err = 0;
    for (uint64_t at = off; at < off + len && !err; at += step) {
        size_t n = off + len - at < step ? (size_t)(off + len - at) : step;
        ssize_t r = cfs_source_pread(s, buf, n, at);
        err = r < 0 ? (int)r : (size_t)r == n ? 0 : -EIO;
    }
    free(buf);
    return err;
}

int main(void)
{
    struct liar l;
    struct cfs_source *v;
    struct cfs_digest *d;

    for (size_t i = 0; i < SIZE; i++)
        image[i] = (unsigned char)(i * 2654435761u >> 13);
    CHECK(cfs_digest_new("sha512", &d) == 0);
    cfs_digest_update(d, image, SIZE);
    cfs_digest_matches(d, "", hex);
    cfs_digest_free(d);

    /* In order, honest: verified, each byte read once. */
    setup(&l, UINT64_MAX, 0);
    v = open_check(&l, false);
    CHECK(read_span(v, 0, SIZE, 65536) == 0);
    CHECK(cfs_source_finish(v) == 0);
    CHECK(v->verified);
    CHECK(l.bytes == SIZE);
    cfs_source_close(v);

    /* In order, one flipped byte: the read that completes the image fails,
     * and so does every read after it. */
    setup(&l, 3 << 20, 1);
    v = open_check(&l, false);
    CHECK(read_span(v, 0, SIZE, 65536) == -EIO);
    CHECK(read_span(v, 0, 4096, 4096) == -EIO);
    CHECK(cfs_source_finish(v) == -EIO);
    CHECK(!v->verified);
    cfs_source_close(v);

    /* Tables far ahead read first (a decoder's open), once corrupted; the
     * data read in order later is honest: the earlier bytes differ from
     * what the digest covers there, which finish() finds. */
    setup(&l, (4u << 20) + 100, 1);
    v = open_check(&l, true);
    CHECK(read_span(v, 4u << 20, 65536, 65536) == 0); /* served corrupt, unknowingly */
    CHECK(l.bytes == 65536);                          /* no fill before the view is read */
    CHECK(read_span(v, 0, 1u << 20, 65536) == 0);
    CHECK(cfs_source_finish(v) == -EIO);
    cfs_source_close(v);

    /* The same, honest: verified, the table read once more by the cursor. */
    setup(&l, UINT64_MAX, 0);
    v = open_check(&l, true);
    CHECK(read_span(v, 4u << 20, 65536, 65536) == 0);
    CHECK(read_span(v, 0, 1u << 20, 65536) == 0);
    CHECK(cfs_source_finish(v) == 0);
    CHECK(l.bytes == SIZE + 65536);
    cfs_source_close(v);

    /* A small gap ahead is hashed first; skipped bytes are hashed at finish. */
    setup(&l, UINT64_MAX, 0);
    v = open_check(&l, false);
    CHECK(read_span(v, 0, 65536, 65536) == 0);
    CHECK(read_span(v, 3 * 65536, 65536, 65536) == 0);
    CHECK(cfs_source_finish(v) == 0);
    CHECK(l.bytes == SIZE);
    cfs_source_close(v);

    /* The gate over a "view" (here the image itself): a whole read's last
     * piece fails on a mismatch; a peek at the end by a sniffer does not
     * make the check read the image. */
    setup(&l, 2u << 20, 1);
    v = open_check(&l, true);
    struct cfs_source *g = NULL;
    CHECK(cfs_verify_gate_open(v, v, &g) == 0);
    CHECK(read_span(g, SIZE - 512, 512, 512) == 0);
    CHECK(l.bytes == 512);
    CHECK(read_span(g, 0, SIZE, 1u << 20) == -EIO);
    CHECK(read_span(g, 0, 512, 512) == -EIO);
    cfs_source_close(g);

    setup(&l, UINT64_MAX, 0);
    v = open_check(&l, true);
    CHECK(cfs_verify_gate_open(v, v, &g) == 0);
    CHECK(read_span(g, 0, SIZE, 1u << 20) == 0);
    CHECK(g->verified);
    CHECK(cfs_source_finish(g) == 0);
    cfs_source_close(g);

    /* A range read ahead while the cursor lagged (readers of the kernel's
     * read-ahead leave such ranges), then the reads go on after it: the
     * cursor passes the range by itself and follows them, so the image is
     * verified as it is read, not at finish(). */
    setup(&l, UINT64_MAX, 0);
    v = open_check(&l, false);
    CHECK(read_span(v, 3u << 19, 3u << 19, 65536) == 0); /* [1.5, 3) MiB: far ahead */
    CHECK(read_span(v, 0, 3u << 19, 65536) == 0);
    CHECK(read_span(v, 3u << 20, SIZE - (3u << 20), 65536) == 0);
    for (int i = 0; i < 2000 && !v->verified; i++)
        usleep(1000);
    CHECK(v->verified);
    CHECK(l.bytes == SIZE + (3u << 19)); /* the range ahead, once more */
    CHECK(cfs_source_finish(v) == 0);
    cfs_source_close(v);

    /* A digest this build does not know: served, not checked, not failed. */
    setup(&l, 3 << 20, 1);
    CHECK(cfs_verify_open(&l.base, "no-such-hash", hex, "test", false, &v) == 0);
    CHECK(read_span(v, 0, SIZE, 65536) == 0);
    CHECK(cfs_source_finish(v) == -ENODATA);
    cfs_source_close(v);

    /* Readers out of order: A's read of [64K, 128K) is slow and corrupted,
     * B's of [128K, 192K) arrives first. B must not hash over A's range
     * from a fetch of its own: it waits for A's bytes. */
    setup(&l, 65536 + 5, 1);
    l.slow_off = 65536;
    v = open_check(&l, false);
    struct slow_read a = { v, 65536, 0 };
    pthread_t ta;
    pthread_create(&ta, NULL, slow_read_main, &a);
    while (!atomic_load(&l.slow_started))
        usleep(1000);
    CHECK(read_span(v, 131072, 65536, 65536) == 0);
    pthread_join(ta, NULL);
    CHECK(cfs_source_finish(v) == -EIO);
    cfs_source_close(v);
    return UNIT_RESULT();
}
