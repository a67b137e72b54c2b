/* The block cache as a byte-source filter (include/cache.h).
 *
 * Trust: the cloud's digest covers the whole image, so a chunk cannot be
 * checked on its own when it arrives. Chunks are stored as they are
 * downloaded, but never served from disk until the image has a manifest:
 * once every chunk is stored, a thread reads them back in order, hashes
 * their concatenation with os_hash_algo and, only if it matches
 * os_hash_value, writes the sha256 of each chunk as the manifest. From
 * then on a chunk read from disk, or refetched after an eviction or a
 * corruption, is served only if it matches its manifest line: the cache
 * holds nothing a lying server or a flipped bit could slip in without a
 * hash collision. Until then reads go to inner, as without the cache,
 * except for chunks this source stored itself: those are the bytes this
 * very download received, and come back from disk (CRC-checked) as they
 * would from the network.
 *
 * Storer threads compress and write chunks off the readers' path; until
 * a chunk is on disk, readers take it from memory. A plain reader waits
 * when they fall behind; a spare one (cfs_cache_source_spare: a view)
 * never does, and its storers run on idle CPU only. A worker thread per
 * source loads a verified image's next chunks ahead of a sequential
 * reader, and fills a range a decoder hints (cfs_source_prefetch) in one
 * sequential pass: a qcow2 whose clusters lie all over the file is read
 * from the cache, not by one small request per cluster. Readers of a
 * chunk the fill will reach wait for it instead of disturbing its
 * download.
 *
 * A derived source (cfs_cache_source_derive) caches what a decoder made of
 * a cached image (a qcow2's decompressed clusters) under the image's key
 * and a tag. Its chunks are pure functions of the image's bytes, so they
 * are stored only while the image is verified (it has its manifest), and
 * served with their CRC alone. */
#define _GNU_SOURCE 1 /* SCHED_IDLE */
#include "cache.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS       4 /* chunks kept in memory: a 128 KiB reader fetches each chunk once */
#define MAX_LOADING 8 /* chunks being loaded at once */
#define QUEUE       2 /* chunks waiting to be written to disk: bounds the memory */
#define STORERS     2 /* threads compressing and writing them: lz4 is slower than the network */
#define AHEAD       2 /* chunks a sequential reader of a verified image gets loaded ahead */

/* A chunk in memory, shared by a slot, its reader and the write queue. */
struct cbuf {
    atomic_int refs;
    size_t len;
    char data[];
};

struct slot {
    uint64_t idx;
    struct cbuf *buf;
    uint64_t used; /* tick of the last use; 0: empty */
};

/* Work for the source's worker thread: load chunk idx from disk ahead of
 * a sequential reader, or (idx FILL) fill the hinted range. */
#define FILL UINT64_MAX

/* A chunk from the cloud waiting for a storer thread (lz4 and the
 * write); readers are served from it meanwhile. have: the image had its
 * manifest when the chunk was loaded. */
struct pending {
    uint64_t idx;
    struct cbuf *buf;
    bool have;
};

struct cache_source {
    struct cfs_source base;
    struct cfs_source *inner;
    struct cfs_cache *cache;
    char *key, *algo, *hex;
    uint64_t n_chunks;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a chunk loaded, a job taken or done, closing */
    uint8_t *manifest;   /* n_chunks sha256, NULL until verified */
    uint64_t *stored;    /* bit per chunk: an entry was stored or found */
    uint64_t n_stored;
    uint64_t *mine; /* bit per chunk: stored by this source, servable before the manifest */
    bool filling;   /* the worker fills [fill_next, fill_end) */
    uint64_t fill_next, fill_end;
    struct cache_source *trust; /* derived: the image's cache source, else NULL */
    struct slot slots[SLOTS];
    uint64_t tick;
    uint64_t loading[MAX_LOADING]; /* chunks a thread is loading: others wait for them */
    unsigned n_loading;
    uint64_t queue[AHEAD]; /* the worker's jobs: chunks to load ahead, or FILL */
    unsigned q_head, q_len;
    pthread_t worker;
    bool worker_running;
    struct pending pending[QUEUE]; /* oldest first; stays here while being stored */
    unsigned n_pending, n_storing; /* the first n_storing have a storer on them */
    pthread_t storers[STORERS];
    unsigned n_storers;
    bool spare;         /* stores only from spare CPU: skipped when the storers are behind */
    uint64_t n_skipped; /* chunks not stored for that */
    bool closing;
    bool discarded; /* its bytes failed a check: nothing more is stored */
    pthread_t verifier;
    bool verifying;
    uint64_t next_off; /* where the last read ended: a read there is sequential */
    uint64_t n_reads;
};

/* Small reads that do not continue the previous one (a decoder's header
 * and tables, an ls -l sizing a view) go straight to the cloud: fetching a
 * whole chunk for each would read megabytes for a few KiB of metadata. */
#define PASS_THROUGH_MAX (128u << 10)
#define MEMO_PREFIX      (512u << 10) /* fetched whole by the first small read in it */

static size_t chunk_len(const struct cache_source *s, uint64_t idx)
{
    uint64_t off = idx << CFS_CACHE_CHUNK_SHIFT;
    uint64_t left = s->base.size - off;
    return left < CFS_CACHE_CHUNK ? (size_t)left : CFS_CACHE_CHUNK;
}

static struct cbuf *cbuf_new(size_t len)
{
    struct cbuf *b = malloc(sizeof *b + (len ? len : 1));
    if (b) {
        atomic_init(&b->refs, 1);
        b->len = len;
    }
    return b;
}

static struct cbuf *cbuf_ref(struct cbuf *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

static void cbuf_unref(struct cbuf *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static void sha256(const void *p, size_t len, uint8_t *out)
{
    char hex[129] = "";
    struct cfs_digest *d;
    memset(out, 0, CFS_CACHE_SHA256);
    if (cfs_digest_new("sha256", &d) != 0)
        return;
    cfs_digest_update(d, p, len);
    cfs_digest_matches(d, "", hex);
    cfs_digest_free(d);
    for (int i = 0; i < CFS_CACHE_SHA256 && hex[2 * i]; i++)
        sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static bool bit_test(const uint64_t *bits, uint64_t idx)
{
    return (bits[idx >> 6] >> (idx & 63)) & 1;
}

/* Mark chunk idx stored (lock held); true when that completes the set. */
static bool mark_stored(struct cache_source *s, uint64_t idx)
{
    uint64_t bit = 1ull << (idx & 63);
    if (s->stored[idx >> 6] & bit)
        return false;
    s->stored[idx >> 6] |= bit;
    return ++s->n_stored == s->n_chunks;
}

/* Reads the stored chunks back, in order: the manifest if they are the
 * image the cloud describes, else they are dropped. */
static void *verify_main(void *arg)
{
    struct cache_source *s = arg;
    uint8_t *man = malloc((size_t)s->n_chunks * CFS_CACHE_SHA256);
    char *buf = malloc(CFS_CACHE_CHUNK), got[129] = "";
    struct cfs_digest *d = NULL;
    uint64_t i = 0;
    int err = !man || !buf ? -ENOMEM : cfs_digest_new(s->algo, &d);
    for (; !err && i < s->n_chunks; i++) {
        size_t len = chunk_len(s, i);
        if (cfs_cache_get(s->cache, s->key, i, buf, len) != (ssize_t)len) {
            err = -ENOENT; /* evicted or corrupt meanwhile: the next download retries */
            pthread_mutex_lock(&s->lock);
            if (bit_test(s->stored, i)) { /* a discard may have cleared it */
                s->stored[i >> 6] &= ~(1ull << (i & 63));
                s->n_stored--;
            }
            pthread_mutex_unlock(&s->lock);
            break;
        }
        cfs_digest_update(d, buf, len);
        sha256(buf, len, man + i * CFS_CACHE_SHA256);
    }
    if (!err && !cfs_digest_matches(d, s->hex, got)) {
        cfs_log_warn("block cache: %s: stored chunks hash to %s, not the cloud's digest: dropped",
                     s->key, got);
        for (uint64_t j = 0; j < s->n_chunks; j++)
            cfs_cache_drop(s->cache, s->key, j);
        err = -EIO;
    }
    if (!err && cfs_cache_manifest_put(s->cache, s->key, s->n_chunks, man) == 0) {
        cfs_log_debug("block cache: %s: %llu chunks verified", s->key,
                      (unsigned long long)s->n_chunks);
        pthread_mutex_lock(&s->lock);
        s->manifest = man;
        s->base.verified = true;
        man = NULL;
        pthread_mutex_unlock(&s->lock);
    }
    cfs_digest_free(d);
    free(man);
    free(buf);
    return NULL;
}

static void maybe_verify(struct cache_source *s)
{
    if (s->trust)
        return; /* derived chunks have no digest of their own */
    pthread_mutex_lock(&s->lock);
    if (!s->verifying && !s->manifest && s->n_stored == s->n_chunks) {
        s->verifying = pthread_create(&s->verifier, NULL, verify_main, s) == 0;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Writes a chunk that came from the cloud into the cache. */
static void store(struct cache_source *s, uint64_t idx, const struct cbuf *b, bool have)
{
    bool complete = false;
    pthread_mutex_lock(&s->lock);
    bool discarded = s->discarded;
    pthread_mutex_unlock(&s->lock);
    if (discarded)
        return;
    if (s->trust) {
        pthread_mutex_lock(&s->trust->lock);
        bool verified = s->trust->manifest != NULL;
        pthread_mutex_unlock(&s->trust->lock);
        if (!verified)
            return; /* decoded from bytes not yet checked: not kept */
    }
    if (cfs_cache_put(s->cache, s->key, idx, b->data, b->len) == 0) {
        pthread_mutex_lock(&s->lock);
        discarded = s->discarded; /* meanwhile */
        if (!discarded) {
            s->mine[idx >> 6] |= 1ull << (idx & 63);
            complete = !have && !s->trust && mark_stored(s, idx);
        }
        pthread_mutex_unlock(&s->lock);
        if (discarded)
            cfs_cache_drop(s->cache, s->key, idx);
    }
    if (complete)
        maybe_verify(s);
}

/* The bytes of chunk idx, from disk when verified, else from inner.
 * *fresh: they came from inner and are not stored yet. */
static int load(struct cache_source *s, uint64_t idx, struct cbuf **out, bool *fresh)
{
    size_t len = chunk_len(s, idx);
    uint8_t want[CFS_CACHE_SHA256], sum[CFS_CACHE_SHA256];
    struct cbuf *b = cbuf_new(len);
    if (!b)
        return -ENOMEM;
    pthread_mutex_lock(&s->lock);
    bool have = s->manifest != NULL, mine = bit_test(s->mine, idx);
    if (have)
        memcpy(want, s->manifest + idx * CFS_CACHE_SHA256, sizeof want);
    pthread_mutex_unlock(&s->lock);
    *fresh = false;
    /* Decoded chunks, and this download's own, are served on their CRC. */
    if (!have && (s->trust || mine) &&
        cfs_cache_get(s->cache, s->key, idx, b->data, len) == (ssize_t)len) {
        *out = b;
        return 0;
    }
    if (have && cfs_cache_get(s->cache, s->key, idx, b->data, len) == (ssize_t)len) {
        sha256(b->data, len, sum);
        if (memcmp(sum, want, sizeof sum) == 0) {
            *out = b;
            return 0;
        }
        cfs_cache_drop(s->cache, s->key, idx);
    }
    int err = cfs_source_read_full(s->inner, b->data, len, idx << CFS_CACHE_CHUNK_SHIFT);
    if (err) {
        cbuf_unref(b);
        return err;
    }
    if (have) {
        sha256(b->data, len, sum);
        if (memcmp(sum, want, sizeof sum) != 0) {
            cfs_log_error(
                "block cache: %s: chunk %llu from the cloud differs from the verified one", s->key,
                (unsigned long long)idx);
            cbuf_unref(b);
            return -EIO;
        }
    }
    *fresh = true;
    *out = b;
    return 0;
}

/* Chunk idx's slot (lock held), or NULL. */
static struct slot *slot_of(struct cache_source *s, uint64_t idx)
{
    for (int i = 0; i < SLOTS; i++)
        if (s->slots[i].used && s->slots[i].idx == idx)
            return &s->slots[i];
    return NULL;
}

/* Puts b in the least recently used slot (lock held). */
static void to_slot(struct cache_source *s, uint64_t idx, struct cbuf *b)
{
    struct slot *old = &s->slots[0];
    for (int i = 0; i < SLOTS; i++)
        if (s->slots[i].used < old->used)
            old = &s->slots[i];
    cbuf_unref(old->buf);
    *old = (struct slot){ .idx = idx, .buf = cbuf_ref(b), .used = ++s->tick };
}

static bool is_loading(const struct cache_source *s, uint64_t idx)
{
    for (unsigned i = 0; i < s->n_loading; i++)
        if (s->loading[i] == idx)
            return true;
    return false;
}

/* Chunk idx is no longer being loaded (lock held). */
static void loading_done(struct cache_source *s, uint64_t idx)
{
    for (unsigned i = 0; i < s->n_loading; i++)
        if (s->loading[i] == idx) {
            s->loading[i] = s->loading[--s->n_loading];
            return;
        }
}

static void *worker_main(void *arg);
static void *storer_main(void *arg);

/* Chunk idx is ahead in the range the worker fills (lock held). */
static bool fill_will_get(const struct cache_source *s, uint64_t idx)
{
    return s->filling && idx >= s->fill_next && idx < s->fill_end && !bit_test(s->mine, idx);
}

/* Queues a job for the worker (lock held); dropped when the worker is
 * busy with AHEAD of them already. */
static bool enqueue(struct cache_source *s, uint64_t idx)
{
    if (!s->worker_running && !s->closing)
        s->worker_running = pthread_create(&s->worker, NULL, worker_main, s) == 0;
    if (!s->worker_running || s->q_len >= AHEAD)
        return false;
    s->queue[(s->q_head + s->q_len++) % AHEAD] = idx;
    pthread_cond_broadcast(&s->cond);
    return true;
}

/* Hands chunk idx (b, taken) to the storers (lock held), waiting for
 * room: the queue bounds the memory of chunks not yet on disk. A spare
 * source does not wait: its reader goes on, and the chunk is stored by a
 * later read. The storers start as work arrives; without one the chunk
 * is not stored, reads still work. */
static void queue_store(struct cache_source *s, uint64_t idx, struct cbuf *b, bool have)
{
    if (!have && !s->trust && bit_test(s->stored, idx)) {
        cbuf_unref(b); /* on disk from an earlier download: the verification judges it */
        return;
    }
    if (s->n_storers < STORERS && s->n_pending >= s->n_storers && !s->closing &&
        pthread_create(&s->storers[s->n_storers], NULL, storer_main, s) == 0)
        s->n_storers++;
    if (!s->n_storers || (s->spare && s->n_pending >= QUEUE)) {
        s->n_skipped += s->n_storers > 0;
        cbuf_unref(b);
        return;
    }
    while (s->n_pending >= QUEUE)
        pthread_cond_wait(&s->cond, &s->lock);
    s->pending[s->n_pending++] = (struct pending){ idx, b, have };
    pthread_cond_broadcast(&s->cond);
}

/* Chunk idx while it waits to be stored (lock held), or NULL. */
static struct cbuf *pending_of(const struct cache_source *s, uint64_t idx)
{
    for (unsigned i = 0; i < s->n_pending && !s->discarded; i++)
        if (s->pending[i].idx == idx)
            return s->pending[i].buf;
    return NULL;
}

/* Chunk idx, with a reference for the caller. One thread loads a chunk;
 * the others wait for it. */
static int get_chunk(struct cache_source *s, uint64_t idx, bool in_worker, struct cbuf **out)
{
    struct slot *sl;
    struct cbuf *p;
    pthread_mutex_lock(&s->lock);
    if ((p = pending_of(s, idx))) {
        *out = cbuf_ref(p);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    while (!(sl = slot_of(s, idx)) &&
           (is_loading(s, idx) || s->n_loading == MAX_LOADING || fill_will_get(s, idx))) {
        if (in_worker) { /* a load ahead: a reader has it in hand already */
            pthread_mutex_unlock(&s->lock);
            return -EAGAIN;
        }
        pthread_cond_wait(&s->cond, &s->lock);
    }
    if (sl) {
        sl->used = ++s->tick;
        *out = cbuf_ref(sl->buf);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    s->loading[s->n_loading++] = idx;
    bool have = s->manifest != NULL;
    pthread_mutex_unlock(&s->lock);

    struct cbuf *b = NULL;
    bool fresh = false;
    int err = load(s, idx, &b, &fresh);

    pthread_mutex_lock(&s->lock);
    loading_done(s, idx);
    if (!err)
        to_slot(s, idx, b);
    pthread_cond_broadcast(&s->cond); /* before queue_store, which may wait */
    if (!err && fresh)
        queue_store(s, idx, cbuf_ref(b), have);
    pthread_mutex_unlock(&s->lock);
    *out = b;
    return err;
}

/* Downloads the hinted range in order into the cache (worker thread).
 * The storer compresses and writes what it gets meanwhile, and readers
 * take the chunks from memory until they are on disk. */
static void fill(struct cache_source *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->fill_next < s->fill_end &&
               (bit_test(s->mine, s->fill_next) || slot_of(s, s->fill_next) ||
                pending_of(s, s->fill_next)))
            s->fill_next++;
        if (s->closing || s->manifest || s->discarded || s->fill_next >= s->fill_end)
            break;
        uint64_t idx = s->fill_next;
        if (is_loading(s, idx) || s->n_loading == MAX_LOADING) { /* a reader got there first */
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        s->loading[s->n_loading++] = idx;
        pthread_mutex_unlock(&s->lock);
        struct cbuf *b = NULL;
        bool fresh = false;
        int err = load(s, idx, &b, &fresh);
        pthread_mutex_lock(&s->lock);
        loading_done(s, idx);
        if (err)
            break; /* readers fetch it themselves */
        to_slot(s, idx, b);
        s->fill_next = idx + 1;
        pthread_cond_broadcast(&s->cond); /* before queue_store, which may wait */
        if (fresh)
            queue_store(s, idx, cbuf_ref(b), false);
        cbuf_unref(b);
    }
    s->filling = false;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Loads chunks of a verified image ahead of a sequential reader, fills
 * hinted ranges. */
static void *worker_main(void *arg)
{
    struct cache_source *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->q_len && !s->closing)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->closing)
            break;
        uint64_t idx = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % AHEAD;
        s->q_len--;
        pthread_mutex_unlock(&s->lock);
        if (idx == FILL) {
            fill(s);
        } else {
            struct cbuf *b = NULL;
            if (get_chunk(s, idx, true, &b) == 0)
                cbuf_unref(b);
        }
        pthread_mutex_lock(&s->lock);
        pthread_cond_broadcast(&s->cond);
    }
    s->filling = false; /* a FILL still queued never runs */
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Back to storing every chunk, at the readers' priority (lock held). */
static void unspare(struct cache_source *s)
{
    struct sched_param normal = { 0 };
    for (unsigned i = 0; i < s->n_storers && s->spare; i++)
        pthread_setschedparam(s->storers[i], SCHED_OTHER, &normal);
    s->spare = false;
}

/* Stores chunks off the readers' path (lz4 and the write), the oldest
 * first; at close, what is queued still goes to disk. */
static void *storer_main(void *arg)
{
    struct cache_source *s = arg;
    pthread_mutex_lock(&s->lock);
    if (s->spare && !s->closing) { /* the reader's threads come first */
        struct sched_param idle = { 0 };
        pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    }
    for (;;) {
        while (s->n_storing == s->n_pending && !s->closing)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->n_storing == s->n_pending)
            break;
        /* The oldest no storer is on; the entries move as others finish,
         * but those being stored stay first. */
        struct pending job = s->pending[s->n_storing++];
        pthread_mutex_unlock(&s->lock);
        store(s, job.idx, job.buf, job.have);
        pthread_mutex_lock(&s->lock);
        for (unsigned i = 0; i < s->n_pending; i++)
            if (s->pending[i].buf == job.buf) {
                memmove(&s->pending[i], &s->pending[i + 1],
                        (s->n_pending - i - 1) * sizeof s->pending[0]);
                s->n_pending--;
                s->n_storing--;
                break;
            }
        cbuf_unref(job.buf);
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* A sequential reader of a verified image: load the next chunks from disk
 * while it copies this one (lock held). */
static void load_ahead(struct cache_source *s, uint64_t idx)
{
    for (uint64_t k = idx + 1; k <= idx + AHEAD && k < s->n_chunks; k++) {
        bool queued = false;
        for (unsigned i = 0; i < s->q_len; i++)
            if (s->queue[(s->q_head + i) % AHEAD] == k)
                queued = true;
        if (!queued && !slot_of(s, k) && !is_loading(s, k) && !pending_of(s, k))
            enqueue(s, k);
    }
}

/* A small read outside the chunks: a decoder's metadata, which the other
 * views of the image want too. Reads in the image's first MEMO_PREFIX
 * bytes (the header and, from qemu-img, the tables) fetch all of them
 * once; others are memoised as they are. */
static int read_small(struct cache_source *s, char *dst, size_t n, uint64_t pos)
{
    struct cfs_memo *memo = cfs_cache_memo(s->cache);
    uint64_t prefix = s->base.size < MEMO_PREFIX ? s->base.size : MEMO_PREFIX;
    uint64_t at = pos + n <= prefix ? 0 : pos;
    size_t want = pos + n <= prefix ? (size_t)prefix : n;
    if (cfs_memo_get(memo, s->key, pos, n, dst))
        return 0;
    if (!cfs_memo_claim(memo, s->key, at, want)) /* another reader has it now, or no room */
        return cfs_memo_get(memo, s->key, pos, n, dst)
                   ? 0
                   : cfs_source_read_full(s->inner, dst, n, pos);
    char *tmp = want == n ? dst : malloc(want);
    int err = tmp ? cfs_source_read_full(s->inner, tmp, want, at) : -ENOMEM;
    cfs_memo_fill(memo, s->key, at, want, err ? NULL : tmp);
    if (!err && tmp != dst)
        memcpy(dst, tmp + (pos - at), n);
    if (tmp != dst)
        free(tmp);
    return err;
}

static ssize_t cache_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct cache_source *s = (struct cache_source *)src;
    size_t done = 0;
    pthread_mutex_lock(&s->lock);
    bool sequential = s->n_reads && off == s->next_off;
    bool pass = len < PASS_THROUGH_MAX && !s->manifest && !s->trust && !sequential;
    s->n_reads++;
    s->next_off = off + len;
    /* Verified chunks come from disk, derived ones are decoded: both are
     * worth a second core. */
    if (sequential && (s->manifest || s->trust))
        load_ahead(s, (off + len - 1) >> CFS_CACHE_CHUNK_SHIFT);
    pthread_mutex_unlock(&s->lock);
    while (done < len) {
        uint64_t pos = off + done, idx = pos >> CFS_CACHE_CHUNK_SHIFT;
        size_t at = (size_t)(pos & (CFS_CACHE_CHUNK - 1));
        size_t n = chunk_len(s, idx) - at;
        if (n > len - done)
            n = len - done;
        pthread_mutex_lock(&s->lock);
        struct slot *sl = slot_of(s, idx);
        struct cbuf *b = sl ? sl->buf : pending_of(s, idx);
        if (b)
            cbuf_ref(b);
        if (sl)
            sl->used = ++s->tick;
        bool direct = pass && !fill_will_get(s, idx) && !bit_test(s->mine, idx);
        pthread_mutex_unlock(&s->lock);
        if (!b && direct) {
            int err = read_small(s, (char *)buf + done, n, pos);
            if (err)
                return done ? (ssize_t)done : err;
        } else {
            if (!b) {
                int err = get_chunk(s, idx, false, &b);
                if (err)
                    return done ? (ssize_t)done : err;
            }
            memcpy((char *)buf + done, b->data + at, n);
            cbuf_unref(b);
        }
        done += n;
    }
    if (s->inner->verified)
        s->base.verified = true;
    return (ssize_t)done;
}

/* A decoder's hint: fill [off, off + len) from inner in one pass, unless
 * the image is verified (its chunks are on disk) or a fill runs. Its
 * reader wants the range from disk: every chunk is stored. */
static void cache_prefetch(struct cfs_source *src, uint64_t off, uint64_t len)
{
    struct cache_source *s = (struct cache_source *)src;
    if (s->trust) {
        cfs_source_prefetch(s->inner, off, len);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (!s->manifest && !s->filling && len) {
        s->fill_next = off >> CFS_CACHE_CHUNK_SHIFT;
        s->fill_end = ((off + len - 1) >> CFS_CACHE_CHUNK_SHIFT) + 1;
        s->filling = enqueue(s, FILL);
        if (s->filling)
            unspare(s);
    }
    pthread_mutex_unlock(&s->lock);
}

/* What this source fetched did not hash to the cloud's digest (a check
 * above it said so): the chunks it stored and the metadata it memoised
 * are dropped, so that the next open fetches them again. */
static void cache_discard(struct cfs_source *src)
{
    struct cache_source *s = (struct cache_source *)src;
    if (s->trust)
        return; /* stored only from a verified image */
    pthread_mutex_lock(&s->lock);
    bool verified = s->manifest != NULL;
    s->discarded = !verified;
    pthread_mutex_unlock(&s->lock);
    if (verified)
        return; /* every chunk was checked against the manifest */
    cfs_memo_forget(cfs_cache_memo(s->cache), s->key);
    /* Once discarded is set, store() marks nothing more: mine is frozen. */
    for (uint64_t i = 0; i < s->n_chunks; i++)
        if (bit_test(s->mine, i))
            cfs_cache_drop(s->cache, s->key, i);
    pthread_mutex_lock(&s->lock);
    memset(s->mine, 0, (size_t)(s->n_chunks / 64 + 1) * sizeof *s->mine);
    memset(s->stored, 0, (size_t)(s->n_chunks / 64 + 1) * sizeof *s->stored);
    s->n_stored = 0;
    for (int i = 0; i < SLOTS; i++) {
        cbuf_unref(s->slots[i].buf);
        s->slots[i] = (struct slot){ 0 };
    }
    pthread_mutex_unlock(&s->lock);
}

/* Frees what source_new made (not inner). */
static void source_free(struct cache_source *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->manifest);
    free(s->stored);
    free(s->mine);
    free(s->key);
    free(s->algo);
    free(s->hex);
    free(s);
}

static void cache_close(struct cfs_source *src)
{
    struct cache_source *s = (struct cache_source *)src;
    pthread_mutex_lock(&s->lock);
    s->closing = true; /* the worker loads nothing more, the storers write what is queued */
    pthread_cond_broadcast(&s->cond);
    unspare(s); /* what is queued is not starved by other readers */
    pthread_mutex_unlock(&s->lock);
    if (s->worker_running)
        pthread_join(s->worker, NULL);
    for (unsigned i = 0; i < s->n_storers; i++) /* after the worker: nothing more is queued */
        pthread_join(s->storers[i], NULL);
    if (s->n_skipped)
        cfs_log_debug("block cache: %s: %llu of %llu chunks not stored: no spare CPU for them",
                      s->key, (unsigned long long)s->n_skipped, (unsigned long long)s->n_chunks);
    if (s->verifying)
        pthread_join(s->verifier, NULL);
    for (int i = 0; i < SLOTS; i++)
        cbuf_unref(s->slots[i].buf);
    for (unsigned i = 0; i < s->n_pending; i++)
        cbuf_unref(s->pending[i].buf); /* queued after the storers ended */
    cfs_source_close(s->inner);
    source_free(s);
}

static const struct cfs_source_ops cache_ops = {
    .name = "cache",
    .pread = cache_pread,
    .close = cache_close,
    .prefetch = cache_prefetch,
    .discard = cache_discard,
};

/* A source over inner under key (taken), with no manifest yet. */
static struct cache_source *source_new(struct cfs_source *inner, struct cfs_cache *c, char *key,
                                       const char *algo, const char *hex)
{
    struct cache_source *s = calloc(1, sizeof *s);
    if (!s) {
        free(key);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->n_chunks = (inner->size + CFS_CACHE_CHUNK - 1) >> CFS_CACHE_CHUNK_SHIFT;
    s->key = key;
    s->algo = strdup(algo);
    s->hex = strdup(hex);
    s->stored = calloc((size_t)(s->n_chunks / 64 + 1), sizeof *s->stored);
    s->mine = calloc((size_t)(s->n_chunks / 64 + 1), sizeof *s->mine);
    if (!s->key || !s->algo || !s->hex || !s->stored || !s->mine) {
        source_free(s);
        return NULL;
    }
    s->inner = inner;
    s->cache = c;
    s->base.ops = &cache_ops;
    s->base.size = inner->size;
    s->base.alloc = inner->alloc;
    s->base.verified = inner->verified;
    return s;
}

static int open_source(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                       const char *hex, bool stored_only, struct cfs_source **out)
{
    if (inner->size > cfs_cache_cap(c) / 2)
        return -EFBIG;
    char *key = cfs_printf("%s:%s:%llu", algo, hex, (unsigned long long)inner->size);
    struct cache_source *s = source_new(inner, c, key, algo, hex);
    if (!s)
        return -ENOMEM;
    uint8_t *man = malloc((size_t)s->n_chunks * CFS_CACHE_SHA256 + 1);
    if (man && cfs_cache_manifest_get(c, s->key, s->n_chunks, man) == 0) {
        s->manifest = man;
        s->base.verified = true; /* each chunk is checked against it */
    } else if (stored_only) {
        free(man);
        source_free(s); /* the caller keeps inner */
        return -ENOENT;
    } else {
        free(man);
        /* Chunks of an earlier, unfinished download count towards the set. */
        for (uint64_t i = 0; i < s->n_chunks; i++)
            if (cfs_cache_has(c, s->key, i))
                mark_stored(s, i);
    }
    *out = &s->base;
    if (s->n_chunks && !s->manifest)
        maybe_verify(s);
    return 0;
}

int cfs_cache_source_open(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                          const char *hex, struct cfs_source **out)
{
    return open_source(inner, c, algo, hex, false, out);
}

int cfs_cache_source_open_stored(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                                 const char *hex, struct cfs_source **out)
{
    return open_source(inner, c, algo, hex, true, out);
}

void cfs_cache_source_spare(struct cfs_source *src)
{
    if (src->ops == &cache_ops)
        ((struct cache_source *)src)->spare = true;
}

int cfs_cache_source_derive(struct cfs_source *image, struct cfs_source *decoded, const char *tag,
                            struct cfs_source **out)
{
    if (image->ops != &cache_ops)
        return -ENOTSUP;
    struct cache_source *f = (struct cache_source *)image;
    char *key = cfs_printf("%s:%s:%llu", f->key, tag, (unsigned long long)decoded->size);
    struct cache_source *s = source_new(decoded, f->cache, key, f->algo, f->hex);
    if (!s)
        return -ENOMEM;
    s->trust = f;
    s->spare = f->spare;
    s->base.verified = false; /* no digest covers a decoded disk */
    *out = &s->base;
    return 0;
}
