/* The block cache's memo of small reads (include/cache.h): a decoder's
 * header and table reads, kept in memory by image key and byte range, so
 * that the three or four views of one image that ls -l sizes decode it
 * from one set of requests. A read that misses claims its range (others
 * asking for it wait) and fills it. Bounded in entries and bytes; the
 * least recently used entry goes first. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_SLOTS 256
#define MEMO_BYTES (8u << 20)

struct memo_slot {
    char *key;
    uint64_t off;
    size_t len;
    char *data;    /* NULL while pending */
    uint64_t used; /* tick of the last use; 0: empty */
};

struct cfs_memo {
    pthread_mutex_t lock;
    pthread_cond_t filled;
    struct memo_slot slot[MEMO_SLOTS];
    uint64_t tick;
    size_t bytes;
};

struct cfs_memo *cfs_memo_new(void)
{
    struct cfs_memo *m = calloc(1, sizeof *m);
    if (m) {
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->filled, NULL);
    }
    return m;
}

static void slot_clear(struct cfs_memo *m, struct memo_slot *s)
{
    if (s->used)
        m->bytes -= s->len;
    free(s->key);
    free(s->data);
    memset(s, 0, sizeof *s);
}

void cfs_memo_free(struct cfs_memo *m)
{
    if (!m)
        return;
    for (int i = 0; i < MEMO_SLOTS; i++)
        slot_clear(m, &m->slot[i]);
    pthread_cond_destroy(&m->filled);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The entry of key holding [off, off + len), filled or pending. */
static struct memo_slot *cover(struct cfs_memo *m, const char *key, uint64_t off, size_t len)
{
    for (int i = 0; i < MEMO_SLOTS; i++) {
        struct memo_slot *s = &m->slot[i];
        if (s->used && s->off <= off && off + len <= s->off + s->len && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

bool cfs_memo_get(struct cfs_memo *m, const char *key, uint64_t off, size_t len, void *buf)
{
    struct memo_slot *s;
    if (!m)
        return false;
    pthread_mutex_lock(&m->lock);
    while ((s = cover(m, key, off, len)) && !s->data)
        pthread_cond_wait(&m->filled, &m->lock);
    if (s) {
        memcpy(buf, s->data + (off - s->off), len);
        s->used = ++m->tick;
    }
    pthread_mutex_unlock(&m->lock);
    return s != NULL;
}

bool cfs_memo_claim(struct cfs_memo *m, const char *key, uint64_t off, size_t len)
{
    if (!m || len > CFS_MEMO_MAX)
        return false;
    char *k = strdup(key);
    if (!k)
        return false;
    pthread_mutex_lock(&m->lock);
    if (cover(m, key, off, len)) { /* another reader has it, or fetches it */
        pthread_mutex_unlock(&m->lock);
        free(k);
        return false;
    }
    /* Evict filled entries until there is a free slot and room. */
    for (;;) {
        struct memo_slot *victim = NULL, *empty = NULL;
        for (int i = 0; i < MEMO_SLOTS; i++) {
            struct memo_slot *s = &m->slot[i];
            if (!s->used)
                empty = empty ? empty : s;
            else if (s->data && (!victim || s->used < victim->used))
                victim = s;
        }
        if (empty && m->bytes + len <= MEMO_BYTES) {
            *empty = (struct memo_slot){ k, off, len, NULL, ++m->tick };
            m->bytes += len;
            break;
        }
        if (!victim) { /* all pending: not memoised */
            pthread_mutex_unlock(&m->lock);
            free(k);
            return false;
        }
        slot_clear(m, victim);
    }
    pthread_mutex_unlock(&m->lock);
    return true;
}

void cfs_memo_fill(struct cfs_memo *m, const char *key, uint64_t off, size_t len, const void *buf)
{
    char *d = buf ? malloc(len ? len : 1) : NULL;
    if (d)
        memcpy(d, buf, len);
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < MEMO_SLOTS; i++) {
        struct memo_slot *s = &m->slot[i];
        if (s->used && !s->data && s->off == off && s->len == len && strcmp(s->key, key) == 0) {
            if (d)
                s->data = d;
            else
                slot_clear(m, s); /* failed: the waiters fetch it themselves */
            d = NULL;
            break;
        }
    }
    pthread_cond_broadcast(&m->filled);
    pthread_mutex_unlock(&m->lock);
    free(d);
}

void cfs_memo_forget(struct cfs_memo *m, const char *key)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < MEMO_SLOTS; i++) {
        struct memo_slot *s = &m->slot[i];
        /* A pending entry belongs to its fetcher, which fills or clears it. */
        if (s->used && s->data && strcmp(s->key, key) == 0)
            slot_clear(m, s);
    }
    pthread_mutex_unlock(&m->lock);
}
