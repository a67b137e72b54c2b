/* A byte source over an HTTP object, read with Range requests.
 *
 * Sequential reading (mountpoint-s3's prefetcher is the model): a read at
 * offset 0, or one that continues (nearly) where the last one ended,
 * starts a stream: a producer thread issues "Range: bytes=pos-" and copies
 * what arrives into a ring buffer. The stream may run ahead of the readers
 * by a window that starts at 1 MiB and doubles as they keep up, up to the
 * ring's size; when the ring is full the producer blocks, which throttles
 * the server through TCP. Readers may arrive out of order (the kernel runs
 * several readahead reads at once), so the ring keeps what the slowest
 * waiting reader still needs. A reader idle for a while makes the producer
 * drop the connection; it reconnects at the same byte on demand. A far
 * seek stops the stream; a random read is one range request. The rings of
 * all streams share one budget (prefetch_memory=): a stream gets what is
 * left of it, down to MIN_RING; below that its reads are range requests.
 *
 * A stream that starts at offset 0 is hashed by a second thread, so that
 * receiving and hashing use two cores, and the last byte is held back until
 * the digest matches the cloud's: a complete sequential read that does not
 * match fails with EIO (and every later read of the handle too) instead of
 * ending with wrong bytes. */
#include "http_source.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DEFAULT_RING    (16u << 20)
#define MIN_RING        (4u << 20)
#define LAZY_RUN        4 /* onward reads before a decoder's source streams */
#define FIRST_WINDOW    (1u << 20)
#define KEEP_BEHIND     (8u << 20)  /* concurrent readahead reads arrive out of order */
#define FORWARD_REACH   (16u << 20) /* reads this far ahead wait for the stream */
#define STRAGGLER_REACH (32u << 20) /* reads this far behind leave the stream alone */
#define AUTH_HEADER_MAX 8192
#define MAX_WAITERS     64
#define HASH_STEP       (1u << 20)
#define DEFAULT_BUDGET  (48u << 20)

struct hsrc;

struct stream {
    struct hsrc *src;
    char *ring;
    size_t cap;
    uint64_t start;   /* offset the stream began at */
    uint64_t low;     /* ring holds [low, pos) */
    uint64_t pos;     /* next offset to receive */
    uint64_t visible; /* readers may take [low, visible) */
    uint64_t hashed;  /* the digest covers [start, hashed) */
    uint64_t served;  /* highest end of a read served */
    uint64_t demand;  /* highest end of a read asked for */
    struct {
        uint64_t off, end;
    } waiting[MAX_WAITERS]; /* readers waiting for data */
    unsigned n_waiting;
    bool producer_waiting; /* for room: readers and hasher signal it */
    bool hasher_waiting;   /* for bytes: the producer signals it */
    int err;               /* terminal error, negative errno */
    int threads;           /* producer and hasher still running */
    atomic_bool stop;      /* the source dropped this stream (read without the lock) */
    unsigned gen;          /* which stream of the source this is */
    bool producer_done;
    bool hasher_done;
    struct cfs_digest *digest;
    double last_demand;
};

struct hsrc {
    struct cfs_source base;
    char *url;
    char *label;
    char *digest_algo;
    char *digest_hex;
    char *cacert;
    struct cfs_tls tls;
    struct cfs_http_auth *auth;
    size_t ring_bytes;

    pthread_mutex_t lock;
    pthread_cond_t data; /* readers wait for bytes */
    pthread_cond_t work; /* the hasher waits for bytes */
    pthread_cond_t room; /* the producer waits for room */
    atomic_int refs;     /* the open source + one per stream thread */
    struct stream *st;   /* current stream, or NULL */
    uint64_t last_end;   /* end of the previous read, for sequence detection */
    unsigned next_gen;   /* generation of the next stream */
    bool corrupt;        /* a digest mismatch: no read of this handle succeeds */
    int held_err;        /* a read's final failure, answered again until held_until */
    double held_until;
    bool lazy_stream; /* no stream for a first read at 0 */
    unsigned run;     /* reads in a row that went onward */
};

static void hsrc_unref(struct hsrc *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->data);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->room);
    free(s->url);
    free(s->label);
    free(s->digest_algo);
    free(s->digest_hex);
    free(s->cacert);
    free(s);
}

/* A state change every thread of the source must see (stop, error, end). */
static void wake_all(struct hsrc *s)
{
    pthread_cond_broadcast(&s->data);
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->room);
}

static int errno_for_status(long status)
{
    switch (status) {
    case 401:
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    default:
        return -EIO;
    }
}

/* A read failed after its retries (lock held). The kernel re-issues a
 * failed read at once (its readahead, then the page alone), and readers
 * waiting on a stream that failed would start it again: each would run the
 * whole retry cycle anew, so one read(2) took a multiple of the bound
 * cloudfs(1) gives. For a while every read gets the same answer at once. */
static void hold_failure(struct hsrc *s, int err)
{
    unsigned t = cfs_http_settings()->stall_timeout_s;
    s->held_err = err;
    s->held_until = cfs_now() + (t > 2 ? t : 2);
}

/* Range answers must be the range asked for, of an object of our size. */
static int check_content_range(struct hsrc *s, const struct cfs_http_resp *resp,
                               uint64_t want_start)
{
    char *cr = cfs_http_header(resp, "Content-Range");
    uint64_t a, b, total;
    int ok;

    if (resp->status == 200 && want_start == 0) {
        free(cr);
        return 0;
    }
    ok = resp->status == 206 && cr &&
         sscanf(cr, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &a, &b, &total) == 3 &&
         a == want_start && total == s->base.size && b >= a;
    if (!ok)
        cfs_log_error("%s: server answered range %" PRIu64 "- with HTTP %ld, Content-Range '%s'",
                      s->label, want_start, resp->status, cr ? cr : "(none)");
    free(cr);
    return ok ? 0 : -EIO;
}

/* Fills the header list: authentication and Range. */
static int make_headers(struct hsrc *s, const char *stale, char *auth, char *range, size_t range_n,
                        uint64_t a, uint64_t b, const char **hdrs)
{
    int n = 0;
    if (s->auth) {
        int err = s->auth->header(s->auth, stale, auth, AUTH_HEADER_MAX);
        if (err)
            return err;
        hdrs[n++] = auth;
    }
    snprintf(range, range_n, "Range: bytes=%" PRIu64 "-%" PRIu64, a, b);
    hdrs[n++] = range;
    hdrs[n] = NULL;
    return 0;
}

/* After a failed attempt of a range request: 1 to retry (after the
 * backoff), or the final errno, logged once. */
static int attempt_failed(struct hsrc *s, const char *what, uint64_t at, int err,
                          const struct cfs_http_resp *resp, unsigned *failures)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    bool retry = err ? cfs_http_retryable(err, 0) : cfs_http_retryable(0, resp->status);
    const char *why = err == -ECONNRESET && !cfs_http_last_error()[0] ? "response ended early"
                      : err                                           ? cfs_http_last_error()
                                                                      : "server error";
    if (retry && *failures < hs->retries) {
        (*failures)++;
        cfs_log_info("%s: %s at %" PRIu64 " failed (%s), retry %u of %u", s->label, what, at, why,
                     *failures, hs->retries);
        cfs_sleep(cfs_http_backoff(*failures));
        return 1;
    }
    if (!err) {
        char msg[256];
        cfs_http_error_text(resp, msg, sizeof msg);
        cfs_log_error("%s: %s at %" PRIu64 ": HTTP %ld: %s", s->label, what, at, resp->status, msg);
        return errno_for_status(resp->status);
    }
    if (err != -EIO) /* -EIO was logged where it was found */
        cfs_log_error("%s: %s at %" PRIu64 " failed after %u retries: %s", s->label, what, at,
                      *failures, why);
    return err == -ETIMEDOUT || err == -ENOMEM ? err : -EIO;
}

/* ---- one-shot range reads ---- */

struct oneshot {
    const char *label;
    char *buf;
    size_t want;
    size_t got;
};

static int oneshot_sink(void *ctx, const char *data, size_t len)
{
    struct oneshot *o = ctx;
    if (len > o->want - o->got) {
        cfs_log_error("%s: the server sent more than the range asked for", o->label);
        return -EIO;
    }
    memcpy(o->buf + o->got, data, len);
    o->got += len;
    return 0;
}

static ssize_t read_range(struct hsrc *s, char *buf, size_t len, uint64_t off)
{
    char *auth = malloc(AUTH_HEADER_MAX);
    char range[64];
    const char *hdrs[3];
    const char *stale = NULL;
    size_t done = 0;
    unsigned failures = 0;
    int err = 0;

    if (!auth)
        return -ENOMEM;
    while (done < len) {
        struct oneshot o = { s->label, buf + done, len - done, 0 };
        struct cfs_http_req req = {
            .method = "GET",
            .url = s->url,
            .headers = hdrs,
            .tls = &s->tls,
            .sink = oneshot_sink,
            .sink_ctx = &o,
            .only_2xx_to_sink = true,
        };
        struct cfs_http_resp resp;

        err = make_headers(s, stale, auth, range, sizeof range, off + done, off + len - 1, hdrs);
        if (err)
            break;
        stale = NULL;
        err = cfs_http_do(&req, &resp);
        if (!err && resp.status >= 200 && resp.status < 300)
            err = check_content_range(s, &resp, off + done);
        done += o.got;
        if (o.got)
            failures = 0;
        if (!err && resp.status == 401 && s->auth && failures == 0) {
            stale = auth;
            failures++;
            cfs_http_resp_free(&resp);
            continue;
        }
        if (!err && resp.status >= 200 && resp.status < 300) {
            cfs_http_resp_free(&resp);
            if (o.got)
                continue;
            err = -ECONNRESET; /* ended early without progress */
        }
        err = attempt_failed(s, "read", off + done, err, &resp, &failures);
        cfs_http_resp_free(&resp);
        if (err == 1) {
            err = 0;
            continue;
        }
        break;
    }
    if (err) {
        pthread_mutex_lock(&s->lock);
        hold_failure(s, err);
        pthread_mutex_unlock(&s->lock);
    }
    explicit_bzero(auth, AUTH_HEADER_MAX); /* a token */
    free(auth);
    return err ? err : (ssize_t)done;
}

/* ---- streams ---- */

static _Atomic uint64_t ring_memory; /* bytes of all rings now */

static bool stream_done(const struct stream *st)
{
    return st->producer_done && (!st->digest || st->hasher_done);
}

/* Frees a stream whose threads are gone. Called with the lock held. */
static void stream_free(struct stream *st)
{
    cfs_digest_free(st->digest);
    if (st->ring) {
        munmap(st->ring, st->cap);
        atomic_fetch_sub(&ring_memory, st->cap);
    }
    free(st);
}

static atomic_int live_threads;

/* A ring size for a new stream within the budget: up to want, whole MiB,
 * at least MIN_RING; 0 when the budget has no MIN_RING left. */
static size_t ring_reserve(size_t want)
{
    uint64_t budget = cfs_http_settings()->prefetch_bytes;
    uint64_t cur = atomic_load(&ring_memory);
    if (!budget)
        budget = DEFAULT_BUDGET;
    for (;;) {
        uint64_t left = cur < budget ? budget - cur : 0;
        size_t cap = want < left ? want : (size_t)left;
        cap &= ~(size_t)((1u << 20) - 1);
        if (cap < MIN_RING)
            return 0;
        if (atomic_compare_exchange_weak(&ring_memory, &cur, cur + cap))
            return cap;
    }
}

uint64_t cfs_http_source_memory(void)
{
    return atomic_load(&ring_memory);
}

int cfs_http_source_threads(void)
{
    return atomic_load(&live_threads);
}

/* A thread of st ends; the last one out frees a dropped stream. */
static void stream_thread_exit(struct stream *st)
{
    struct hsrc *s = st->src;
    pthread_mutex_lock(&s->lock);
    wake_all(s);
    bool last = --st->threads == 0 && st->stop;
    if (last)
        stream_free(st);
    pthread_mutex_unlock(&s->lock);
    hsrc_unref(s);
    atomic_fetch_sub(&live_threads, 1);
}

/* Bytes the producer may add now; drops what no reader needs any more.
 * Readers may be out of order (kernel readahead runs several reads at
 * once), so the floor is the lowest waiting reader, not the last one. */
static size_t stream_room(struct stream *st)
{
    /* What must stay: bytes a waiting reader or the hasher still needs. */
    uint64_t hard = UINT64_MAX, far_end = 0;
    for (unsigned i = 0; i < st->n_waiting; i++) {
        if (st->waiting[i].off < hard)
            hard = st->waiting[i].off;
        if (st->waiting[i].end > far_end)
            far_end = st->waiting[i].end;
    }
    if (st->digest && st->hashed < hard)
        hard = st->hashed;
    /* What should stay: a little behind the last read, for stragglers. */
    uint64_t soft = st->served > st->start + KEEP_BEHIND ? st->served - KEEP_BEHIND : st->start;
    uint64_t floor = soft < hard ? soft : hard;
    /* A reader waits further ahead than the ring reaches from there: the
     * stragglers lose (they get a range request of their own). */
    if (far_end > floor + st->cap && hard != UINT64_MAX)
        floor = hard;
    if (floor > st->visible)
        floor = st->visible;
    if (floor > st->low)
        st->low = floor;

    uint64_t read_so_far = st->served - st->start;
    uint64_t window = read_so_far * 2 < FIRST_WINDOW ? FIRST_WINDOW : read_so_far * 2;
    if (window > st->cap)
        window = st->cap;
    uint64_t front = (st->demand > st->served ? st->demand : st->served) + window;
    uint64_t held = st->pos - st->low;
    if (held >= st->cap || front <= st->pos)
        return 0;
    uint64_t room = st->cap - held;
    if (room > front - st->pos)
        room = front - st->pos;
    return (size_t)room;
}

struct stream_xfer {
    struct stream *st;
    struct cfs_http_resp *resp;
    bool checked;
};

/* Wakes readers only when one of them has its bytes: every chunk curl
 * hands over would otherwise wake them all for nothing. */
static void wake_readers(struct stream *st)
{
    for (unsigned i = 0; i < st->n_waiting; i++) {
        if (st->visible >= st->waiting[i].end) {
            pthread_cond_broadcast(&st->src->data);
            return;
        }
    }
}

static int stream_sink(void *ctx, const char *data, size_t len)
{
    struct stream_xfer *x = ctx;
    struct stream *st = x->st;
    struct hsrc *s = st->src;
    double idle_limit = cfs_http_settings()->stall_timeout_s / 2.0;

    if (idle_limit > 5)
        idle_limit = 5;
    if (idle_limit < 0.5)
        idle_limit = 0.5;
    if (!x->checked) {
        int err = check_content_range(s, x->resp, st->pos);
        if (err)
            return err;
        x->checked = true;
    }
    while (len > 0) {
        size_t room = 0, n;
        uint64_t at;
        bool stop;

        pthread_mutex_lock(&s->lock);
        while (!st->stop && (room = stream_room(st)) == 0) {
            if (st->n_waiting == 0 && cfs_now() - st->last_demand > idle_limit) {
                pthread_mutex_unlock(&s->lock);
                return -EAGAIN; /* reader went away: drop the connection */
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += 200 * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            st->producer_waiting = true;
            pthread_cond_timedwait(&s->room, &s->lock, &until);
            st->producer_waiting = false;
        }
        at = st->pos;
        stop = st->stop;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            return -ECANCELED;

        n = len < room ? len : room;
        if (at + n > s->base.size) {
            cfs_log_error("%s: the server sent more than the object's %" PRIu64 " bytes", s->label,
                          s->base.size);
            return -EIO;
        }
        /* [at, at+n) is outside [low, pos): no reader looks at it. */
        size_t i = (size_t)(at % st->cap);
        size_t first = n < st->cap - i ? n : st->cap - i;
        memcpy(st->ring + i, data, first);
        memcpy(st->ring, data + first, n - first);

        pthread_mutex_lock(&s->lock);
        st->pos += n;
        /* While hashing, the last byte waits for the verdict. */
        st->visible = st->digest && st->pos == s->base.size ? st->pos - 1 : st->pos;
        wake_readers(st);
        if (st->hasher_waiting && (st->pos - st->hashed >= HASH_STEP || st->pos == s->base.size))
            pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->lock);
        data += n;
        len -= n;
    }
    return 0;
}

/* Lets a stalled transfer of a dropped stream end within a second. */
static bool stream_cancelled(void *ctx)
{
    struct stream *st = ctx;
    struct hsrc *s = st->src;
    pthread_mutex_lock(&s->lock);
    bool stop = st->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void stream_fail(struct stream *st, int err)
{
    struct hsrc *s = st->src;
    pthread_mutex_lock(&s->lock);
    if (!st->err)
        st->err = err;
    if (!st->stop && err != -ECANCELED)
        hold_failure(s, err);
    wake_all(s);
    pthread_mutex_unlock(&s->lock);
}

/* Hashes what the producer received, on its own thread so that hashing
 * and receiving use two cores; at the end, releases the last byte only
 * if the whole object hashed to the cloud's digest. */
static void *hasher_main(void *arg)
{
    struct stream *st = arg;
    struct hsrc *s = st->src;
    char got[2 * 64 + 1];

    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (st->stop || st->err)
            break;
        if (st->hashed < st->pos) {
            uint64_t at = st->hashed;
            size_t n = st->pos - at < HASH_STEP ? (size_t)(st->pos - at) : HASH_STEP;
            pthread_mutex_unlock(&s->lock);
            /* The producer never overwrites [low, pos), and low <= hashed. */
            size_t i = (size_t)(at % st->cap);
            size_t first = n < st->cap - i ? n : st->cap - i;
            cfs_digest_update(st->digest, st->ring + i, first);
            cfs_digest_update(st->digest, st->ring, n - first);
            pthread_mutex_lock(&s->lock);
            st->hashed += n;
            if (st->producer_waiting)
                pthread_cond_signal(&s->room);
            continue;
        }
        if (st->hashed == s->base.size) {
            pthread_mutex_unlock(&s->lock);
            bool ok = cfs_digest_matches(st->digest, s->digest_hex, got);
            pthread_mutex_lock(&s->lock);
            if (ok) {
                cfs_log_debug("%s: %s of the whole object verified", s->label, s->digest_algo);
                st->visible = s->base.size;
                s->base.verified = true;
            } else {
                cfs_log_error("%s: downloaded data does not match the cloud's %s (got %.16s..., "
                              "expected %.16s...): the end of the read fails",
                              s->label, s->digest_algo, got, s->digest_hex);
                st->err = -EIO;
                /* The kernel retries a failed readahead page by page; each
                 * retry must fail too, or the copy ends "successfully". */
                s->corrupt = true;
            }
            break;
        }
        if (st->producer_done)
            break;
        st->hasher_waiting = true;
        pthread_cond_wait(&s->work, &s->lock);
        st->hasher_waiting = false;
    }
    st->hasher_done = true;
    pthread_mutex_unlock(&s->lock);
    stream_thread_exit(st);
    return NULL;
}

/* Waits until a reader wants more (after an idle drop) or the stream stops. */
static void stream_wait_demand(struct stream *st)
{
    struct hsrc *s = st->src;
    pthread_mutex_lock(&s->lock);
    while (!st->stop && stream_room(st) == 0) {
        st->producer_waiting = true;
        pthread_cond_wait(&s->room, &s->lock);
        st->producer_waiting = false;
    }
    pthread_mutex_unlock(&s->lock);
}

static void *producer_main(void *arg)
{
    struct stream *st = arg;
    struct hsrc *s = st->src;
    char *auth = malloc(AUTH_HEADER_MAX);
    char range[64];
    const char *hdrs[3];
    const char *stale = NULL;
    unsigned failures = 0;
    int err = auth ? 0 : -ENOMEM;

    while (!err && !st->stop && st->pos < s->base.size) {
        struct cfs_http_resp resp;
        struct stream_xfer x = { st, &resp, false };
        struct cfs_http_req req = {
            .method = "GET",
            .url = s->url,
            .headers = hdrs,
            .tls = &s->tls,
            .sink = stream_sink,
            .sink_ctx = &x,
            .only_2xx_to_sink = true,
            .cancelled = stream_cancelled,
            .cancel_ctx = st,
        };
        uint64_t before = st->pos;

        err = make_headers(s, stale, auth, range, sizeof range, st->pos, s->base.size - 1, hdrs);
        if (err)
            break;
        stale = NULL;
        err = cfs_http_do(&req, &resp);
        if (st->pos > before)
            failures = 0;
        if (err == -ECANCELED) {
            cfs_http_resp_free(&resp);
            break;
        }
        if (err == -EAGAIN) {
            cfs_http_resp_free(&resp);
            cfs_log_debug("%s: reader idle, connection dropped at %" PRIu64, s->label, st->pos);
            stream_wait_demand(st);
            err = 0;
            continue;
        }
        if (!err && resp.status == 401 && s->auth && failures == 0) {
            failures++;
            stale = auth;
            cfs_http_resp_free(&resp);
            continue;
        }
        if (!err && resp.status >= 200 && resp.status < 300) {
            cfs_http_resp_free(&resp);
            if (st->pos >= s->base.size)
                break;
            err = -ECONNRESET; /* the server closed early: resume where it stopped */
        }
        if (st->stop) {
            cfs_http_resp_free(&resp);
            err = 0;
            break;
        }
        err = attempt_failed(s, "download", st->pos, err, &resp, &failures);
        cfs_http_resp_free(&resp);
        if (err == 1)
            err = 0;
    }
    if (auth)
        explicit_bzero(auth, AUTH_HEADER_MAX); /* a token */
    free(auth);
    if (err)
        stream_fail(st, err);
    pthread_mutex_lock(&s->lock);
    st->producer_done = true;
    if (!st->digest && st->pos == s->base.size)
        st->visible = st->pos;
    pthread_mutex_unlock(&s->lock);
    stream_thread_exit(st);
    return NULL;
}

/* Called with the lock held: the threads free a stream they still use. */
static void stream_drop(struct hsrc *s)
{
    struct stream *st = s->st;
    if (!st)
        return;
    s->st = NULL;
    if (st->threads == 0) {
        stream_free(st);
        return;
    }
    st->stop = true;
    wake_all(s);
}

static int spawn(struct stream *st, void *(*fn)(void *))
{
    pthread_attr_t attr;
    pthread_t tid;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    atomic_fetch_add(&st->src->refs, 1);
    atomic_fetch_add(&live_threads, 1);
    st->threads++;
    rc = pthread_create(&tid, &attr, fn, st);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        st->threads--;
        atomic_fetch_sub(&st->src->refs, 1);
        atomic_fetch_sub(&live_threads, 1);
    }
    return -rc;
}

/* Called with the lock held. */
static int stream_start(struct hsrc *s, uint64_t off)
{
    struct stream *st = calloc(1, sizeof *st);
    int err;

    if (!st)
        return -ENOMEM;
    st->src = s;
    st->cap = ring_reserve(s->ring_bytes);
    if (!st->cap) {
        free(st);
        return -ENOBUFS;
    }
    st->gen = ++s->next_gen;
    /* mmap, not malloc: glibc would keep a freed 16 MiB block in its heap
     * (its mmap threshold grows), so memory would not go back when a
     * stream ends. */
    st->ring = mmap(NULL, st->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (st->ring == MAP_FAILED) {
        st->ring = NULL;
        atomic_fetch_sub(&ring_memory, st->cap);
    }
    st->start = st->low = st->pos = st->visible = st->served = st->demand = st->hashed = off;
    st->last_demand = cfs_now();
    if (!st->ring) {
        free(st);
        return -ENOMEM;
    }
    if (off == 0 && s->digest_algo && s->digest_hex &&
        cfs_digest_new(s->digest_algo, &st->digest) != 0) {
        cfs_log_warn("%s: cannot check downloads: unknown digest %s", s->label, s->digest_algo);
        st->digest = NULL;
    }
    err = spawn(st, producer_main);
    if (!err && st->digest && (err = spawn(st, hasher_main)) != 0)
        st->stop = true; /* the producer frees it */
    if (err) {
        if (st->threads == 0)
            stream_free(st);
        return err;
    }
    s->st = st;
    return 0;
}

static void ring_copy(const struct stream *st, char *buf, size_t n, uint64_t off)
{
    size_t i = (size_t)(off % st->cap);
    size_t first = n < st->cap - i ? n : st->cap - i;
    memcpy(buf, st->ring + i, first);
    memcpy(buf + first, st->ring, n - first);
}

/* The caller made sure there is room (n_waiting < MAX_WAITERS). */
static void waiting_add(struct stream *st, uint64_t off, uint64_t end)
{
    st->waiting[st->n_waiting].off = off;
    st->waiting[st->n_waiting].end = end;
    st->n_waiting++;
}

static void waiting_remove(struct stream *st, uint64_t off)
{
    for (unsigned i = 0; i < st->n_waiting; i++) {
        if (st->waiting[i].off == off) {
            st->waiting[i] = st->waiting[--st->n_waiting];
            return;
        }
    }
}

static ssize_t hsrc_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct hsrc *s = (struct hsrc *)src;
    uint64_t end = off + len;
    ssize_t r;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct stream *st = s->st;
        if (s->corrupt) {
            r = -EIO;
            break;
        }
        if (s->held_err && cfs_now() < s->held_until) {
            r = s->held_err;
            break;
        }
        /* Reads of more than half the ring, and readers beyond what the
         * table of waiters holds, are range requests of their own. */
        if (len > s->ring_bytes / 2 || (st && st->n_waiting >= MAX_WAITERS)) {
            pthread_mutex_unlock(&s->lock);
            cfs_log_debug("%s: read of %zu at %" PRIu64 " outside the streams", s->label, len, off);
            return read_range(s, buf, len, off);
        }
        if (st && off >= st->low && off <= st->pos + FORWARD_REACH) {
            /* The generation tells a new stream that got the freed address
             * of this one (ABA) from this one. */
            unsigned gen = st->gen;
            /* A reader the stream cannot satisfy yet: it wakes us (above) at
             * visible >= end, or at the end of the stream. */
            uint64_t want = end < s->base.size ? end : s->base.size;
            waiting_add(st, off, want);
            if (end > st->demand)
                st->demand = end;
            st->last_demand = cfs_now();
            if (st->producer_waiting)
                pthread_cond_signal(&s->room);
            /* A dropped stream is freed by its threads: look at st only
             * while it is still the current stream. */
            while (s->st == st && st->gen == gen && st->visible < end && !st->err &&
                   !stream_done(st) && off >= st->low) {
                pthread_cond_wait(&s->data, &s->lock);
                if (s->st == st && st->gen == gen)
                    st->last_demand = cfs_now();
            }
            if (s->st != st || st->gen != gen)
                continue;
            waiting_remove(st, off);
            if (st->err) {
                r = st->err;
                stream_drop(s);
                s->last_end = UINT64_MAX;
                break;
            }
            if (off >= st->low && off < st->visible) {
                size_t n = st->visible - off < len ? (size_t)(st->visible - off) : len;
                ring_copy(st, buf, n, off);
                if (off + n > st->served)
                    st->served = off + n;
                s->last_end = off + n;
                if (st->producer_waiting)
                    pthread_cond_signal(&s->room);
                r = (ssize_t)n;
                break;
            }
            /* The stream ended short of this read, or moved past it. */
            cfs_log_debug("%s: read at %" PRIu64 " missed the stream [%" PRIu64 ", %" PRIu64
                          "): dropped",
                          s->label, off, st->low, st->pos);
            stream_drop(s);
            s->last_end = UINT64_MAX;
            continue;
        }
        if (st && off < st->low && st->low - off <= STRAGGLER_REACH) {
            /* A straggler of the kernel's readahead, behind what the stream
             * still holds: fetch it alone and keep the stream going. */
            pthread_mutex_unlock(&s->lock);
            cfs_log_debug("%s: late read of %zu at %" PRIu64 " behind the stream", s->label, len,
                          off);
            return read_range(s, buf, len, off);
        }
        if (st) {
            /* Far seek: this stream will not serve the reader. */
            cfs_log_debug("%s: read at %" PRIu64 " outside the stream [%" PRIu64 ", %" PRIu64
                          "): dropped",
                          s->label, off, st->low, st->pos);
            stream_drop(s);
        }
        /* Sequential, or nearly: the kernel skips pages it still caches.
         * A decoder's metadata reads look alike a few times in a row; its
         * data reads go on: only a longer run starts its stream. */
        bool onward =
            s->last_end != UINT64_MAX && off >= s->last_end && off - s->last_end <= FORWARD_REACH;
        s->run = onward ? s->run + 1 : 0;
        if ((off == 0 && !s->lazy_stream) ||
            (onward && s->run >= (s->lazy_stream ? LAZY_RUN : 1))) {
            int err = stream_start(s, off);
            if (err == -ENOBUFS) {
                s->last_end = end;
                pthread_mutex_unlock(&s->lock);
                cfs_log_debug("%s: prefetch memory in use: range read of %zu at %" PRIu64, s->label,
                              len, off);
                return read_range(s, buf, len, off);
            }
            if (err) {
                r = err;
                break;
            }
            continue;
        }
        s->last_end = end;
        pthread_mutex_unlock(&s->lock);
        cfs_log_debug("%s: random read of %zu at %" PRIu64, s->label, len, off);
        return read_range(s, buf, len, off);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void hsrc_close(struct cfs_source *src)
{
    struct hsrc *s = (struct hsrc *)src;
    pthread_mutex_lock(&s->lock);
    stream_drop(s);
    pthread_mutex_unlock(&s->lock);
    hsrc_unref(s);
}

static const struct cfs_source_ops hsrc_ops = {
    .name = "http",
    .pread = hsrc_pread,
    .close = hsrc_close,
};

int cfs_http_source_open(const struct cfs_http_source_params *p, struct cfs_source **out)
{
    struct hsrc *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->base.ops = &hsrc_ops;
    s->base.size = p->size;
    s->url = strdup(p->url);
    s->label = strdup(p->label ? p->label : p->url);
    bool nomem = false;
    if (p->digest_algo && p->digest_hex) {
        s->digest_algo = strdup(p->digest_algo);
        s->digest_hex = strdup(p->digest_hex);
        nomem |= !s->digest_algo || !s->digest_hex;
    }
    s->tls.verify = p->tls ? p->tls->verify : true;
    if (p->tls && p->tls->cacert) {
        s->cacert = strdup(p->tls->cacert);
        s->tls.cacert = s->cacert;
        nomem |= !s->cacert;
    }
    s->auth = p->auth;
    s->lazy_stream = p->lazy_stream;
    s->last_end = p->lazy_stream ? UINT64_MAX : 0;
    /* At least two hashing steps, so that hashing and receiving overlap. */
    s->ring_bytes = p->buffer_bytes > MIN_RING ? p->buffer_bytes : DEFAULT_RING;
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->data, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC); /* its waits are timed */
    pthread_cond_init(&s->room, &mono);
    pthread_condattr_destroy(&mono);
    /* A missing digest or CA would weaken a check silently. */
    if (!s->url || !s->label || nomem) {
        hsrc_unref(s);
        return -ENOMEM;
    }
    *out = &s->base;
    return 0;
}
