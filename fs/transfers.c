/* The transfer registry (fs/transfers.h): one mutex over the running
 * transfers and the last RECENT_MAX finished ones, in start order. A
 * transfer is freed only when it falls off the recent list, so callers may
 * use theirs until cfs_transfer_end and never after. */
#include "transfers.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECENT_MAX 50
/* The moving window of "rate": samples at most every SAMPLE_S seconds,
 * the rate measured against the newest sample at least WINDOW_S old. */
#define WINDOW_S  3.0
#define SAMPLE_S  0.25
#define N_SAMPLES 32 /* > WINDOW_S / SAMPLE_S: the window always has a base */

enum xfer_state { XFER_RUNNING, XFER_DONE, XFER_FAILED, XFER_CANCELLED };

struct sample {
    double t; /* cfs_now() */
    uint64_t done;
};

struct cfs_transfer {
    struct cfs_transfer *next;
    char *path, *from;
    enum cfs_transfer_dir dir;
    enum xfer_state state;
    int err;
    uint64_t total, done;
    double t0, t1;                /* cfs_now() at begin and end */
    struct timespec wall0, wall1; /* the same, on the wall clock */
    struct sample samples[N_SAMPLES];
    size_t n_samples, next_sample; /* a ring */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended = PTHREAD_COND_INITIALIZER;
static struct cfs_transfer *head, **tail = &head;
static size_t n_running, n_finished;
static bool cancel_all;
static double last_rate; /* bytes/s of the last big transfer done, 0: none yet */

static void transfer_free(struct cfs_transfer *t)
{
    free(t->path);
    free(t->from);
    free(t);
}

static void add_sample(struct cfs_transfer *t, double now)
{
    t->samples[t->next_sample] = (struct sample){ now, t->done };
    t->next_sample = (t->next_sample + 1) % N_SAMPLES;
    if (t->n_samples < N_SAMPLES)
        t->n_samples++;
}

static struct sample *newest_sample(struct cfs_transfer *t)
{
    return &t->samples[(t->next_sample + N_SAMPLES - 1) % N_SAMPLES];
}

static const struct sample *second_newest(const struct cfs_transfer *t)
{
    return &t->samples[(t->next_sample + N_SAMPLES - 2) % N_SAMPLES];
}

struct cfs_transfer *cfs_transfer_begin(const char *path, const char *from,
                                        enum cfs_transfer_dir dir, uint64_t total)
{
    struct cfs_transfer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->path = strdup(path ? path : "");
    t->from = from ? strdup(from) : NULL;
    if (!t->path || (from && !t->from)) {
        transfer_free(t);
        return NULL;
    }
    t->dir = dir;
    t->total = total;
    t->state = XFER_RUNNING;
    t->t0 = cfs_now();
    clock_gettime(CLOCK_REALTIME, &t->wall0);
    add_sample(t, t->t0);

    pthread_mutex_lock(&lock);
    *tail = t;
    tail = &t->next;
    n_running++;
    pthread_mutex_unlock(&lock);
    return t;
}

void cfs_transfer_set_total(struct cfs_transfer *t, uint64_t total)
{
    if (!t)
        return;
    pthread_mutex_lock(&lock);
    t->total = total;
    pthread_mutex_unlock(&lock);
}

void cfs_transfer_progress(struct cfs_transfer *t, uint64_t done)
{
    if (!t)
        return;
    double now = cfs_now();
    pthread_mutex_lock(&lock);
    if (done > t->done) {
        t->done = done;
        /* The newest sample is always the latest progress; the ones
         * before it stay SAMPLE_S apart. */
        const struct sample *prev = t->n_samples > 1 ? second_newest(t) : NULL;
        if (prev && now - prev->t < SAMPLE_S)
            *newest_sample(t) = (struct sample){ now, done };
        else
            add_sample(t, now);
    }
    pthread_mutex_unlock(&lock);
}

/* Drops the oldest finished transfers beyond RECENT_MAX. Under lock. */
static void trim_recent(void)
{
    for (struct cfs_transfer **pp = &head; *pp && n_finished > RECENT_MAX;) {
        struct cfs_transfer *t = *pp;
        if (t->state == XFER_RUNNING) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        if (tail == &t->next)
            tail = pp;
        n_finished--;
        transfer_free(t);
    }
}

void cfs_transfer_end(struct cfs_transfer *t, int err)
{
    if (!t)
        return;
    if (err > 0)
        err = -err;
    pthread_mutex_lock(&lock);
    t->t1 = cfs_now();
    clock_gettime(CLOCK_REALTIME, &t->wall1);
    t->err = err;
    if (err == 0 && t->done < t->total)
        t->done = t->total; /* what a meter cannot see: a hole at the end */
    /* Small transfers are mostly latency: they would say little of the link. */
    if (err == 0 && t->dir != CFS_XFER_SNAPSHOT && t->done >= (8u << 20) && t->t1 > t->t0)
        last_rate = (double)t->done / (t->t1 - t->t0);
    t->state = err == 0 ? XFER_DONE : err == -ECANCELED ? XFER_CANCELLED : XFER_FAILED;
    n_running--;
    n_finished++;
    trim_recent();
    pthread_cond_broadcast(&ended);
    pthread_mutex_unlock(&lock);
}

bool cfs_transfer_cancelled(void *t)
{
    (void)t; /* cancellation is mount-wide (unmount_timeout) */
    pthread_mutex_lock(&lock);
    bool c = cancel_all;
    pthread_mutex_unlock(&lock);
    return c;
}

void cfs_transfers_cancel_all(void)
{
    pthread_mutex_lock(&lock);
    cancel_all = true;
    pthread_mutex_unlock(&lock);
}

size_t cfs_transfers_active(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_running;
    pthread_mutex_unlock(&lock);
    return n;
}

bool cfs_transfers_wait(double timeout_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double end = (double)until.tv_sec + until.tv_nsec / 1e9 + (timeout_s > 0 ? timeout_s : 0);
    until.tv_sec = (time_t)end;
    until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);

    pthread_mutex_lock(&lock);
    while (n_running > 0)
        if (pthread_cond_timedwait(&ended, &lock, &until) == ETIMEDOUT)
            break;
    bool none = n_running == 0;
    pthread_mutex_unlock(&lock);
    return none;
}

/* Bytes per second over the last WINDOW_S seconds: from the newest sample
 * at least that old (or the oldest kept) to now, so a stalled transfer
 * decays to 0 rather than showing its last speed. Under lock. */
static double window_rate(const struct cfs_transfer *t, double now)
{
    const struct sample *base = NULL;
    for (size_t i = 0; i < t->n_samples; i++) {
        const struct sample *s = &t->samples[(t->next_sample + N_SAMPLES - 1 - i) % N_SAMPLES];
        base = s;
        if (now - s->t >= WINDOW_S)
            break;
    }
    double dt = now - base->t;
    return dt > 0.05 ? (double)(t->done - base->done) / dt : 0;
}

/* Linux file names are any bytes; JSON strings are UTF-8: bytes that are
 * not become U+FFFD (as fs/names.c shows cloud names). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xf5 ? 0 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    bool overlong_or_surrogate = (p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
                                 (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90);
    return overlong_or_surrogate ? 0 : len;
}

static json_t *json_path(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *clean = malloc(3 * n + 1), *q = clean;
    if (!clean)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; n > 0;) {
        size_t len = utf8_seq(p, n);
        if (len == 0) {
            memcpy(q, "\xef\xbf\xbd", 3);
            q += 3;
            len = 1;
        } else {
            memcpy(q, p, len);
            q += len;
        }
        p += len;
        n -= len;
    }
    *q = '\0';
    j = json_string(clean);
    free(clean);
    return j;
}

static json_t *json_time(const struct timespec *ts)
{
    return json_real((double)ts->tv_sec + (double)(ts->tv_nsec / 1000000) / 1e3);
}

static const char *const state_names[] = { "running", "done", "failed", "cancelled" };
static const char *const dir_names[] = { "upload", "copy", "snapshot" };

/* One transfer as a JSON object. Under lock. */
static json_t *transfer_json(const struct cfs_transfer *t, double now)
{
    bool running = t->state == XFER_RUNNING;
    double elapsed = (running ? now : t->t1) - t->t0;
    double avg = elapsed > 0.05 ? (double)t->done / elapsed : 0;
    json_t *o = json_object();
    if (!o)
        return NULL;
    int err = 0;
    err |= json_object_set_new(o, "path", json_path(t->path));
    err |= json_object_set_new(o, "from", json_path(t->from));
    err |= json_object_set_new(o, "direction", json_string(dir_names[t->dir]));
    err |= json_object_set_new(o, "done", json_integer((json_int_t)t->done));
    err |= json_object_set_new(o, "total", json_integer((json_int_t)t->total));
    /* A finished transfer's rate is its average. */
    err |= json_object_set_new(o, "rate", json_real(running ? window_rate(t, now) : avg));
    err |= json_object_set_new(o, "avg_rate", json_real(avg));
    err |= json_object_set_new(o, "state", json_string(state_names[t->state]));
    err |= json_object_set_new(o, "error", t->err ? json_string(strerror(-t->err)) : json_null());
    err |= json_object_set_new(o, "started", json_time(&t->wall0));
    err |= json_object_set_new(o, "ended", running ? json_null() : json_time(&t->wall1));
    if (err) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cfs_transfers_json(char **text, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int err = 0;
    if (!buf)
        return -ENOMEM;
    pthread_mutex_lock(&lock);
    double now = cfs_now();
    for (const struct cfs_transfer *t = head; t && !err; t = t->next) {
        json_t *o = transfer_json(t, now);
        /* 13 digits: times to the millisecond, not 1795357577.3369999 */
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(13)) : NULL;
        json_decref(o);
        if (!line) {
            err = -ENOMEM;
            break;
        }
        size_t l = strlen(line);
        if (n + l + 2 > cap) {
            size_t ncap = (n + l + 2) * 2;
            char *nb = realloc(buf, ncap);
            if (!nb)
                err = -ENOMEM;
            else {
                buf = nb;
                cap = ncap;
            }
        }
        if (!err) {
            memcpy(buf + n, line, l);
            n += l;
            buf[n++] = '\n';
        }
        free(line);
    }
    pthread_mutex_unlock(&lock);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

double cfs_transfers_last_rate(void)
{
    pthread_mutex_lock(&lock);
    double r = last_rate;
    pthread_mutex_unlock(&lock);
    return r;
}
