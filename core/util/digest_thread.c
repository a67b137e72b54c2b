/* A digest computed on a thread of its own (include/digest.h). The
 * caller's bytes are copied into a ring and hashed behind it, so that a
 * sender that must compute two digests (Glance's md5 and sha512) computes
 * them on two cores instead of one after the other on the thread that
 * feeds the network. One thread feeds it; the ring bounds the memory. */
#include "digest.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RING (4u << 20)

struct cfs_digest_thread {
    struct cfs_digest *d;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* bytes queued, bytes hashed, closing */
    char *ring;
    size_t head, len; /* waiting or being hashed: [head, head + len) mod RING */
    bool closing;
};

static void *hash_main(void *arg)
{
    struct cfs_digest_thread *t = arg;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->len && !t->closing)
            pthread_cond_wait(&t->cond, &t->lock);
        if (!t->len)
            break;
        size_t n = t->len < RING - t->head ? t->len : RING - t->head;
        const char *p = t->ring + t->head;
        pthread_mutex_unlock(&t->lock);
        cfs_digest_update(t->d, p, n); /* the feeder writes only outside [head, head + len) */
        pthread_mutex_lock(&t->lock);
        t->head = (t->head + n) % RING;
        t->len -= n;
        pthread_cond_broadcast(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int cfs_digest_thread_new(const char *algo, struct cfs_digest_thread **out)
{
    struct cfs_digest_thread *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    int err = cfs_digest_new(algo, &t->d);
    if (err) {
        free(t);
        return err;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (!(t->ring = malloc(RING)) || pthread_create(&t->thread, NULL, hash_main, t) != 0) {
        free(t->ring);
        t->ring = NULL; /* no thread to join */
        cfs_digest_thread_free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

void cfs_digest_thread_update(struct cfs_digest_thread *t, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        pthread_mutex_lock(&t->lock);
        while (t->len == RING)
            pthread_cond_wait(&t->cond, &t->lock);
        size_t tail = (t->head + t->len) % RING, room = RING - t->len;
        size_t n = len < room ? len : room;
        if (n > RING - tail)
            n = RING - tail;
        pthread_mutex_unlock(&t->lock);
        memcpy(t->ring + tail, p, n);
        pthread_mutex_lock(&t->lock);
        t->len += n;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        p += n;
        len -= n;
    }
}

bool cfs_digest_thread_matches(struct cfs_digest_thread *t, const char *expected_hex, char *hex_out)
{
    pthread_mutex_lock(&t->lock);
    while (t->len)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
    return cfs_digest_matches(t->d, expected_hex, hex_out);
}

void cfs_digest_thread_free(struct cfs_digest_thread *t)
{
    if (!t)
        return;
    if (t->ring) {
        pthread_mutex_lock(&t->lock);
        t->closing = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
        free(t->ring);
    }
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    cfs_digest_free(t->d);
    free(t);
}
