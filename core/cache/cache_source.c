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
 * hash collision. Until then reads go to inner, as without the cache. */
#include "cache.h"
#include "digest.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4 /* chunks kept in memory: a 128 KiB reader fetches each chunk once */

struct slot {
    uint64_t idx;
    char *data;
    size_t len;
    uint64_t used; /* tick of the last use; 0: empty */
};

struct cache_source {
    struct cfs_source base;
    struct cfs_source *inner;
    struct cfs_cache *cache;
    char *key, *algo, *hex;
    uint64_t n_chunks;
    pthread_mutex_t lock;
    uint8_t *manifest; /* n_chunks sha256, NULL until verified */
    uint64_t *stored;  /* bit per chunk: an entry was stored or found */
    uint64_t n_stored;
    struct slot slots[SLOTS];
    uint64_t tick;
    pthread_t verifier;
    bool verifying;
    uint64_t next_off; /* where the last read ended: a read there is sequential */
    uint64_t n_reads;
};

/* Small reads that do not continue the previous one (a decoder's header
 * and tables, an ls -l sizing a view) go straight to the cloud: fetching a
 * whole chunk for each would read megabytes for a few KiB of metadata. */
#define PASS_THROUGH_MAX (128u << 10)

static size_t chunk_len(const struct cache_source *s, uint64_t idx)
{
    uint64_t off = idx << CFS_CACHE_CHUNK_SHIFT;
    uint64_t left = s->base.size - off;
    return left < CFS_CACHE_CHUNK ? (size_t)left : CFS_CACHE_CHUNK;
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
            s->stored[i >> 6] &= ~(1ull << (i & 63));
            s->n_stored--;
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
    pthread_mutex_lock(&s->lock);
    if (!s->verifying && !s->manifest && s->n_stored == s->n_chunks) {
        s->verifying = pthread_create(&s->verifier, NULL, verify_main, s) == 0;
    }
    pthread_mutex_unlock(&s->lock);
}

/* The bytes of chunk idx, from disk when verified, else from inner (and
 * then stored). Returns a malloc'd buffer of chunk_len(idx) or NULL. */
static int fetch(struct cache_source *s, uint64_t idx, char **out)
{
    size_t len = chunk_len(s, idx);
    uint8_t want[CFS_CACHE_SHA256], sum[CFS_CACHE_SHA256];
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    pthread_mutex_lock(&s->lock);
    bool have = s->manifest != NULL;
    if (have)
        memcpy(want, s->manifest + idx * CFS_CACHE_SHA256, sizeof want);
    pthread_mutex_unlock(&s->lock);
    if (have && cfs_cache_get(s->cache, s->key, idx, buf, len) == (ssize_t)len) {
        sha256(buf, len, sum);
        if (memcmp(sum, want, sizeof sum) == 0) {
            *out = buf;
            return 0;
        }
        cfs_cache_drop(s->cache, s->key, idx);
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = cfs_source_pread(s->inner, buf + done, len - done,
                                     (idx << CFS_CACHE_CHUNK_SHIFT) + done);
        if (n <= 0) {
            free(buf);
            return n < 0 ? (int)n : -EIO;
        }
        done += (size_t)n;
    }
    if (have) {
        sha256(buf, len, sum);
        if (memcmp(sum, want, sizeof sum) != 0) {
            cfs_log_error(
                "block cache: %s: chunk %llu from the cloud differs from the verified one", s->key,
                (unsigned long long)idx);
            free(buf);
            return -EIO;
        }
    }
    bool complete = false;
    if (cfs_cache_put(s->cache, s->key, idx, buf, len) == 0 && !have) {
        pthread_mutex_lock(&s->lock);
        complete = mark_stored(s, idx);
        pthread_mutex_unlock(&s->lock);
    }
    if (complete)
        maybe_verify(s);
    *out = buf;
    return 0;
}

/* Copies from chunk idx's slot if it is in memory (lock held). */
static bool from_slot(struct cache_source *s, uint64_t idx, char *dst, size_t at, size_t n)
{
    for (int i = 0; i < SLOTS; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->used && sl->idx == idx) {
            memcpy(dst, sl->data + at, n);
            sl->used = ++s->tick;
            return true;
        }
    }
    return false;
}

static void to_slot(struct cache_source *s, uint64_t idx, char *data, size_t len)
{
    struct slot *old = &s->slots[0];
    for (int i = 0; i < SLOTS; i++) {
        if (s->slots[i].used && s->slots[i].idx == idx) {
            free(data); /* another reader fetched it too */
            return;
        }
        if (s->slots[i].used < old->used)
            old = &s->slots[i];
    }
    free(old->data);
    *old = (struct slot){ .idx = idx, .data = data, .len = len, .used = ++s->tick };
}

static ssize_t cache_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct cache_source *s = (struct cache_source *)src;
    size_t done = 0;
    pthread_mutex_lock(&s->lock);
    bool pass = len < PASS_THROUGH_MAX && !s->manifest && !(s->n_reads && off == s->next_off);
    s->n_reads++;
    s->next_off = off + len;
    pthread_mutex_unlock(&s->lock);
    while (done < len) {
        uint64_t pos = off + done, idx = pos >> CFS_CACHE_CHUNK_SHIFT;
        size_t at = (size_t)(pos & (CFS_CACHE_CHUNK - 1));
        size_t n = chunk_len(s, idx) - at;
        if (n > len - done)
            n = len - done;
        pthread_mutex_lock(&s->lock);
        bool hit = from_slot(s, idx, (char *)buf + done, at, n);
        pthread_mutex_unlock(&s->lock);
        if (!hit && pass) {
            ssize_t got = cfs_source_pread(s->inner, (char *)buf + done, n, pos);
            if (got <= 0)
                return done ? (ssize_t)done : got < 0 ? got : -EIO;
            n = (size_t)got;
        } else if (!hit) {
            char *data = NULL;
            int err = fetch(s, idx, &data);
            if (err)
                return done ? (ssize_t)done : err;
            memcpy((char *)buf + done, data + at, n);
            pthread_mutex_lock(&s->lock);
            to_slot(s, idx, data, chunk_len(s, idx));
            pthread_mutex_unlock(&s->lock);
        }
        done += n;
    }
    if (s->inner->verified)
        s->base.verified = true;
    return (ssize_t)done;
}

static void cache_close(struct cfs_source *src)
{
    struct cache_source *s = (struct cache_source *)src;
    if (s->verifying)
        pthread_join(s->verifier, NULL);
    for (int i = 0; i < SLOTS; i++)
        free(s->slots[i].data);
    cfs_source_close(s->inner);
    pthread_mutex_destroy(&s->lock);
    free(s->manifest);
    free(s->stored);
    free(s->key);
    free(s->algo);
    free(s->hex);
    free(s);
}

static const struct cfs_source_ops cache_ops = {
    .name = "cache",
    .pread = cache_pread,
    .close = cache_close,
};

int cfs_cache_source_open(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                          const char *hex, struct cfs_source **out)
{
    struct cache_source *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->n_chunks = (inner->size + CFS_CACHE_CHUNK - 1) >> CFS_CACHE_CHUNK_SHIFT;
    s->key = cfs_printf("%s:%s:%llu", algo, hex, (unsigned long long)inner->size);
    s->algo = strdup(algo);
    s->hex = strdup(hex);
    s->stored = calloc((size_t)(s->n_chunks / 64 + 1), sizeof *s->stored);
    if (!s->key || !s->algo || !s->hex || !s->stored) {
        free(s->key);
        free(s->algo);
        free(s->hex);
        free(s->stored);
        free(s);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->inner = inner;
    s->cache = c;
    s->base.ops = &cache_ops;
    s->base.size = inner->size;
    s->base.alloc = inner->alloc;
    s->base.verified = inner->verified;
    uint8_t *man = malloc((size_t)s->n_chunks * CFS_CACHE_SHA256 + 1);
    if (man && cfs_cache_manifest_get(c, s->key, s->n_chunks, man) == 0) {
        s->manifest = man;
        s->base.verified = true; /* each chunk is checked against it */
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
