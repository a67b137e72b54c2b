/* Verification of what a decoder reads of an image (include/verify.h).
 *
 * The cloud's digest covers the image's stored bytes in order, but a view
 * reads them through a decoder: header and tables first (some far ahead),
 * then the data clusters in guest order, which is file order for images
 * qemu-img wrote, with the odd table between them. So the filter keeps a
 * cursor: bytes read where it stands are hashed and move it on; a read a
 * little ahead first hashes the gap before it (read again from inner: the
 * stream or the block cache holds it); a read far ahead is remembered by
 * its CRC-32, and when the cursor passes that range the bytes hashed there
 * must have the same CRC, or what the reader got was not what the digest
 * covers. A read that lies ahead never fills over bytes another read in
 * flight holds: it waits for that one to hash them. Until the view itself is read (its gate's first
 * read), every read ahead is remembered so: sizing a view for ls -l reads only its tables. Readers
 * of the kernel's readahead arrive out of order: one whose gap another read in flight will fill
 * waits for it. finish() hashes what nobody read (trailing tables, unallocated clusters) and gives
 * the verdict. A mismatch is logged once, fails every later read, and makes inner forget what it
 * kept of this fetch.
 *
 * Bytes read again behind the cursor are not hashed again: they come from
 * the stream's ring or the cache's chunks in memory, which hold what was
 * hashed, unless inner fetches them anew (cloudfs(1) says so).
 *
 * The hashing runs on a thread of its own: a read at or near the cursor
 * leaves a copy of its bytes (QUEUE_BYTES in all) and returns, and the
 * hasher moves the cursor through the copies in order, filling the gaps
 * between them from inner. A read that finds the copies' budget spent, or
 * that reaches the image's end, hashes on its own thread as before: that
 * is the back-pressure, and the end of a read waits for the verdict. */
#include "verify.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAP_FILL    (1u << 20) /* a read this close ahead hashes the gap before it */
#define MAX_PIECES  65536      /* reads ahead kept by CRC (2 MiB); then their gaps are filled */
#define MAX_READERS 64
#define STEP        (1u << 20) /* bytes hashed at a time when filling */
#define QUEUE_BYTES (4u << 20) /* copies of reads waiting for the hasher */

/* A read served ahead of the cursor: when the cursor passes it, the bytes
 * hashed there must have the CRC the reader's bytes had. */
struct piece {
    uint64_t off, end;
    uint64_t next; /* the cursor checked [off, next) */
    uint32_t want, run;
};

struct vsrc {
    struct cfs_source base;
    struct cfs_source *inner;
    char *label, *algo, *hex;
    struct cfs_digest *digest; /* NULL: inner was verified already, or unknown algo */
    bool unchecked;            /* ... the latter: finish() says -ENODATA */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the cursor moved, a read ended, advancing ended */
    uint64_t hashed;     /* the digest covers [0, hashed) */
    bool advancing;      /* a thread moves the cursor: the digest is its alone */
    atomic_bool active;  /* the view is being read: gaps are filled, not only tables */
    bool done;           /* the verdict is in */
    bool corrupt;        /* ... and it is a mismatch: every read fails */
    struct piece *pieces;
    size_t n_pieces, cap_pieces;
    /* Reads between the call to inner and the end of their check: their
     * bytes are the ones to hash where they lie, so no one fills over them. */
    struct reader {
        uint64_t off, end;
        bool used;
        char *copy; /* the bytes read, left to the hasher; NULL: in flight */
    } readers[MAX_READERS];
    size_t queued; /* bytes of the copies */
    pthread_t hasher;
    bool hasher_running, stopping;
    bool hasher_failed; /* a fill failed: the hasher leaves the rest to finish() */
};

/* Does a read other than self hold the bytes at pos? (lock held) */
static bool held_at(const struct vsrc *s, uint64_t pos, const struct reader *self)
{
    for (unsigned i = 0; i < MAX_READERS; i++) {
        const struct reader *r = &s->readers[i];
        if (r != self && r->used && r->off <= pos && pos < r->end)
            return true;
    }
    return false;
}

/* Is a read still waiting for inner at pos? (lock held) */
static bool in_flight_at(const struct vsrc *s, uint64_t pos)
{
    for (unsigned i = 0; i < MAX_READERS; i++) {
        const struct reader *r = &s->readers[i];
        if (r->used && !r->copy && r->off <= pos && pos < r->end)
            return true;
    }
    return false;
}

/* Where the first read other than self begins in (pos, limit), or limit. */
static uint64_t next_held(const struct vsrc *s, uint64_t pos, uint64_t limit,
                          const struct reader *self)
{
    for (unsigned i = 0; i < MAX_READERS; i++) {
        const struct reader *r = &s->readers[i];
        if (r != self && r->used && r->off > pos && r->off < limit)
            limit = r->off;
    }
    return limit;
}

/* Remembers a read ahead of the cursor (lock held); false: no room. */
static bool add_piece(struct vsrc *s, const char *buf, uint64_t off, size_t n)
{
    struct piece *last = s->n_pieces ? &s->pieces[s->n_pieces - 1] : NULL;
    /* A decoder's scan reads its tables one after the other. */
    if (last && last->end == off && last->next == last->off) {
        last->want = libdeflate_crc32(last->want, buf, n);
        last->end = off + n;
        return true;
    }
    if (s->n_pieces == s->cap_pieces) {
        if (s->cap_pieces == MAX_PIECES)
            return false;
        size_t cap = s->cap_pieces ? s->cap_pieces * 2 : 64;
        struct piece *p = realloc(s->pieces, cap * sizeof *p);
        if (!p)
            return false;
        s->pieces = p;
        s->cap_pieces = cap;
    }
    s->pieces[s->n_pieces++] = (struct piece){
        .off = off, .end = off + n, .next = off, .want = libdeflate_crc32(0, buf, n)
    };
    return true;
}

/* The verdict is a mismatch (lock held): logged once, then inner drops
 * what it kept of these bytes. */
static void set_corrupt(struct vsrc *s, const char *what)
{
    if (s->corrupt)
        return;
    s->corrupt = s->done = true;
    cfs_log_error("%s: %s: the read fails", s->label, what);
    cfs_source_discard(s->inner);
    pthread_cond_broadcast(&s->cond);
}

/* The cursor passed [a, a + len) holding buf (lock held): the pieces
 * there must match. */
static void check_pieces(struct vsrc *s, const char *buf, uint64_t a, size_t len)
{
    for (size_t i = 0; i < s->n_pieces; i++) {
        struct piece *p = &s->pieces[i];
        uint64_t lo = p->off > a ? p->off : a;
        uint64_t hi = p->end < a + len ? p->end : a + len;
        if (lo >= hi)
            continue;
        p->run = libdeflate_crc32(p->run, buf + (lo - a), (size_t)(hi - lo));
        p->next = hi;
        if (p->next < p->end)
            continue;
        if (p->run != p->want) {
            char what[160];
            snprintf(what, sizeof what,
                     "the %" PRIu64 " bytes read at %" PRIu64
                     " differ from the image's own at that place",
                     p->end - p->off, p->off);
            set_corrupt(s, what);
        }
        s->pieces[i--] = s->pieces[--s->n_pieces];
    }
}

/* Hashes buf, the bytes at the cursor (lock held, advancing is ours). */
static void advance(struct vsrc *s, const char *buf, size_t len)
{
    uint64_t at = s->hashed;
    pthread_mutex_unlock(&s->lock);
    cfs_digest_update(s->digest, buf, len);
    pthread_mutex_lock(&s->lock);
    s->hashed = at + len;
    check_pieces(s, buf, at, len);
    if (s->hashed < s->base.size || s->done)
        return;
    char got[129] = "";
    pthread_mutex_unlock(&s->lock);
    bool ok = cfs_digest_matches(s->digest, s->hex, got);
    pthread_mutex_lock(&s->lock);
    if (ok) {
        s->done = true;
        s->base.verified = true;
        cfs_log_debug("%s: %s of the whole image verified", s->label, s->algo);
    } else {
        char what[200];
        snprintf(what, sizeof what,
                 "the image's bytes do not match the cloud's %s (got %.16s..., expected %.16s...)",
                 s->algo, got, s->hex);
        set_corrupt(s, what);
    }
}

/* Moves the cursor to upto, reading from inner (lock held, advancing is ours). */
static int fill(struct vsrc *s, uint64_t upto)
{
    char *tmp = malloc(STEP);
    int err = tmp ? 0 : -ENOMEM;
    while (!err && s->hashed < upto && !s->corrupt) {
        uint64_t at = s->hashed;
        size_t n = upto - at < STEP ? (size_t)(upto - at) : STEP;
        pthread_mutex_unlock(&s->lock);
        err = cfs_source_read_full(s->inner, tmp, n, at);
        pthread_mutex_lock(&s->lock);
        if (!err)
            advance(s, tmp, n);
    }
    free(tmp);
    return err;
}

/* Moves the cursor to upto, hashing what no read holds, while the reads
 * that hold the rest hash their own (lock held). */
static int drive(struct vsrc *s, uint64_t upto, const struct reader *self)
{
    while (s->hashed < upto && !s->done) {
        if (s->advancing || held_at(s, s->hashed, self)) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        s->advancing = true;
        int err = fill(s, next_held(s, s->hashed, upto, self));
        s->advancing = false;
        pthread_cond_broadcast(&s->cond);
        if (err)
            return err;
    }
    return 0;
}

static void *hasher_main(void *arg);

/* Where the cursor goes from here on its own (lock held): through the
 * copies, and once the view is read, through the remembered reads that
 * follow each other within GAP_FILL (readers of the kernel's read-ahead
 * leave such ranges behind them, and nobody reads them again). A read
 * close to that continues them; one far beyond is a jump. */
static uint64_t reach(const struct vsrc *s)
{
    uint64_t at = s->hashed, was;
    bool active = atomic_load(&s->active) && !s->hasher_failed;
    int passes = 0;
    do {
        was = at;
        for (unsigned i = 0; i < MAX_READERS; i++) {
            const struct reader *r = &s->readers[i];
            if (r->used && r->copy && r->off <= at + GAP_FILL && r->end > at)
                at = r->end;
        }
        for (size_t i = 0; active && i < s->n_pieces; i++) {
            const struct piece *p = &s->pieces[i];
            if (p->off <= at + GAP_FILL && p->end > at)
                at = p->end;
        }
    } while (at != was && ++passes < 8);
    return at;
}

/* Leaves a copy of self's bytes to the hasher (lock held); false: the
 * budget is spent or there is no hasher, the reader hashes them itself. */
static bool queue(struct vsrc *s, struct reader *self, const char *buf, size_t n)
{
    if (!s->hasher_running && !s->stopping)
        s->hasher_running = pthread_create(&s->hasher, NULL, hasher_main, s) == 0;
    if (!s->hasher_running || s->queued + n > QUEUE_BYTES || !(self->copy = malloc(n)))
        return false;
    memcpy(self->copy, buf, n);
    s->queued += n;
    pthread_cond_broadcast(&s->cond);
    return true;
}

/* What the reader self got at [off, off + n) joins the check (lock held). */
static int take(struct vsrc *s, struct reader *self, const char *buf, uint64_t off, size_t n)
{
    uint64_t end = off + n;
    bool first = true;
    for (;;) {
        if (s->corrupt)
            return -EIO;
        if (s->done || end <= s->hashed)
            return 0;
        bool ahead = off > s->hashed;
        uint64_t near = reach(s) + (atomic_load(&s->active) ? GAP_FILL : 0);
        if (ahead && off > near && add_piece(s, buf, off, n))
            return 0;
        if (first && end < s->base.size && queue(s, self, buf, n))
            return 0;
        first = false;
        if (s->advancing) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        if (!ahead) {
            s->advancing = true;
            advance(s, buf + (s->hashed - off), (size_t)(end - s->hashed));
            s->advancing = false;
            pthread_cond_broadcast(&s->cond);
            return s->corrupt ? -EIO : 0;
        }
        int err = drive(s, off, self);
        /* This read's own bytes are fine: the gap is hashed later. */
        if (err && !add_piece(s, buf, off, n))
            return err;
        if (err)
            return 0;
    }
}

static ssize_t vsrc_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vsrc *s = (struct vsrc *)src;
    struct reader *me = NULL;
    if (!s->digest)
        return cfs_source_pread(s->inner, buf, len, off);
    pthread_mutex_lock(&s->lock);
    while (!s->done && !s->corrupt && !me) {
        for (unsigned i = 0; i < MAX_READERS && !me; i++)
            if (!s->readers[i].used)
                me = &s->readers[i];
        if (!me)
            pthread_cond_wait(&s->cond, &s->lock);
    }
    if (s->corrupt) {
        pthread_mutex_unlock(&s->lock);
        return -EIO;
    }
    if (me)
        *me = (struct reader){ .off = off, .end = off + len, .used = true };
    pthread_mutex_unlock(&s->lock);

    ssize_t n = cfs_source_pread(s->inner, buf, len, off);

    pthread_mutex_lock(&s->lock);
    if (me && n > 0) {
        me->end = off + (uint64_t)n;
        int err = take(s, me, buf, off, (size_t)n);
        if (err)
            n = err;
    } else if (s->corrupt) {
        n = -EIO;
    }
    if (me && !me->copy)
        me->used = false; /* else the hasher frees the slot */
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* The copy with the lowest offset, or NULL (lock held). */
static struct reader *first_copy(struct vsrc *s)
{
    struct reader *q = NULL;
    for (unsigned i = 0; i < MAX_READERS; i++) {
        struct reader *r = &s->readers[i];
        if (r->used && r->copy && (!q || r->off < q->off))
            q = r;
    }
    return q;
}

static void release(struct vsrc *s, struct reader *q)
{
    s->queued -= (size_t)(q->end - q->off);
    free(q->copy);
    *q = (struct reader){ 0 };
    pthread_cond_broadcast(&s->cond);
}

/* Moves the cursor through the copies in order, and on to reach() (see
 * the top). A gap before a copy is filled from inner, up to a read still
 * in flight. */
static void *hasher_main(void *arg)
{
    struct vsrc *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct reader *q = first_copy(s);
        if (q && (s->done || s->corrupt || s->stopping || q->end <= s->hashed)) {
            release(s, q); /* nothing left to hash in it, or no one to tell */
            continue;
        }
        if (!q && s->stopping)
            break;
        uint64_t target = s->done || s->corrupt ? 0 : reach(s);
        if (s->hashed >= target || s->advancing || in_flight_at(s, s->hashed)) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        s->advancing = true;
        if (q && q->off <= s->hashed) {
            advance(s, q->copy + (s->hashed - q->off), (size_t)(q->end - s->hashed));
            release(s, q);
        } else if (fill(s, next_held(s, s->hashed, q ? q->off : target, NULL)) != 0) {
            s->hasher_failed = true;
            /* Unchecked, the copy's bytes would pass: remembered instead. */
            if (q && !add_piece(s, q->copy, q->off, (size_t)(q->end - q->off)))
                set_corrupt(s, "too many reads ahead to check");
            if (q)
                release(s, q);
        }
        s->advancing = false;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int vsrc_finish(struct cfs_source *src)
{
    struct vsrc *s = (struct vsrc *)src;
    if (!s->digest)
        return s->unchecked ? -ENODATA : 0;
    pthread_mutex_lock(&s->lock);
    int err = drive(s, s->base.size, NULL);
    if (s->corrupt)
        err = -EIO;
    else if (!err && !s->done)
        err = -EIO;
    pthread_mutex_unlock(&s->lock);
    return err;
}

static void vsrc_discard(struct cfs_source *src)
{
    cfs_source_discard(((struct vsrc *)src)->inner);
}

static void vsrc_prefetch(struct cfs_source *src, uint64_t off, uint64_t len)
{
    cfs_source_prefetch(((struct vsrc *)src)->inner, off, len);
}

static void vsrc_close(struct cfs_source *src)
{
    struct vsrc *s = (struct vsrc *)src;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->hasher_running)
        pthread_join(s->hasher, NULL);
    cfs_source_close(s->inner);
    cfs_digest_free(s->digest);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->pieces);
    free(s->label);
    free(s->algo);
    free(s->hex);
    free(s);
}

static const struct cfs_source_ops vsrc_ops = {
    .name = "verify",
    .pread = vsrc_pread,
    .close = vsrc_close,
    .prefetch = vsrc_prefetch,
    .finish = vsrc_finish,
    .discard = vsrc_discard,
};

int cfs_verify_open(struct cfs_source *inner, const char *algo, const char *hex, const char *label,
                    bool tables_first, struct cfs_source **out)
{
    struct vsrc *s = calloc(1, sizeof *s);
    if (!s) {
        cfs_source_close(inner);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->inner = inner;
    s->base.ops = &vsrc_ops;
    s->base.size = inner->size;
    s->base.alloc = inner->alloc;
    s->base.verified = inner->verified;
    s->base.costly = inner->costly;
    atomic_init(&s->active, !tables_first);
    s->label = strdup(label ? label : "image");
    s->algo = strdup(algo);
    s->hex = strdup(hex);
    int err = !s->label || !s->algo || !s->hex ? -ENOMEM : 0;
    if (!err && !inner->verified)
        err = cfs_digest_new(algo, &s->digest);
    if (err == -ENOTSUP) {
        /* As a native read does: the bytes are served, not checked. */
        cfs_log_warn("%s: cannot check the image: unknown digest %s", s->label, algo);
        s->unchecked = true;
        err = 0;
    }
    if (err) {
        vsrc_close(&s->base);
        return err;
    }
    if (s->digest && inner->size == 0) {
        pthread_mutex_lock(&s->lock);
        s->advancing = true;
        advance(s, "", 0);
        s->advancing = false;
        pthread_mutex_unlock(&s->lock);
    }
    *out = &s->base;
    return 0;
}

/* ---- the gate over a view ---- */

struct vgate {
    struct cfs_source base;
    struct cfs_source *top, *verify;
    pthread_mutex_t lock;
    uint64_t served; /* bytes handed out, rereads counted again */
    bool failed;
};

/* The verdict, once (lock not held). */
static int gate_verdict(struct vgate *g)
{
    int err = cfs_source_finish(g->verify);
    if (err == -ENODATA)
        return err; /* no digest this cloudfs knows: not checked, not failed */
    pthread_mutex_lock(&g->lock);
    if (err == -EIO)
        g->failed = true;
    if (!err)
        g->base.verified = true;
    pthread_mutex_unlock(&g->lock);
    return err;
}

static ssize_t gate_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vgate *g = (struct vgate *)src;
    pthread_mutex_lock(&g->lock);
    bool failed = g->failed;
    pthread_mutex_unlock(&g->lock);
    if (failed)
        return -EIO;
    struct vsrc *v = (struct vsrc *)g->verify;
    if (v->digest && !atomic_load(&v->active))
        atomic_store(&v->active, true);
    ssize_t n = cfs_source_pread(g->top, buf, len, off);
    if (n <= 0)
        return n;
    pthread_mutex_lock(&g->lock);
    g->served += (uint64_t)n;
    /* A whole read ends here: not a sniffer peeking at the last sector. */
    bool last =
        off + (uint64_t)n == g->base.size && g->served >= g->base.size / 2 && !g->base.verified;
    pthread_mutex_unlock(&g->lock);
    if (last) {
        int err = gate_verdict(g);
        if (err && err != -ENODATA)
            return err;
    }
    return n;
}

static int gate_finish(struct cfs_source *src)
{
    return gate_verdict((struct vgate *)src);
}

static void gate_prefetch(struct cfs_source *src, uint64_t off, uint64_t len)
{
    cfs_source_prefetch(((struct vgate *)src)->top, off, len);
}

static void gate_close(struct cfs_source *src)
{
    struct vgate *g = (struct vgate *)src;
    cfs_source_close(g->top);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static const struct cfs_source_ops vgate_ops = {
    .name = "verify-gate",
    .pread = gate_pread,
    .close = gate_close,
    .prefetch = gate_prefetch,
    .finish = gate_finish,
};

int cfs_verify_gate_open(struct cfs_source *top, struct cfs_source *verify, struct cfs_source **out)
{
    struct vgate *g = calloc(1, sizeof *g);
    if (!g) {
        cfs_source_close(top);
        return -ENOMEM;
    }
    pthread_mutex_init(&g->lock, NULL);
    g->top = top;
    g->verify = verify;
    g->base.ops = &vgate_ops;
    g->base.size = top->size;
    g->base.alloc = top->alloc;
    g->base.costly = top->costly;
    g->base.verified = verify->verified;
    *out = &g->base;
    return 0;
}
