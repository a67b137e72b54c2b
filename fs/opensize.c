/* A ring of (key, size) under a mutex: few objects have sizes known only
 * at open, and a linear search of a few hundred keys is cheaper than the
 * FUSE round trip it serves. */
#include "opensize.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char *key;
    uint64_t size;
};

struct cfs_opensize {
    pthread_mutex_t lock;
    struct slot *v;
    size_t max, next;
};

struct cfs_opensize *cfs_opensize_new(size_t max)
{
    struct cfs_opensize *os = calloc(1, sizeof *os);
    if (!os || !(os->v = calloc(max ? max : 1, sizeof *os->v))) {
        free(os);
        return NULL;
    }
    os->max = max ? max : 1;
    pthread_mutex_init(&os->lock, NULL);
    return os;
}

void cfs_opensize_free(struct cfs_opensize *os)
{
    if (!os)
        return;
    for (size_t i = 0; i < os->max; i++)
        free(os->v[i].key);
    free(os->v);
    pthread_mutex_destroy(&os->lock);
    free(os);
}

static struct slot *find(struct cfs_opensize *os, const char *key)
{
    for (size_t i = 0; i < os->max; i++)
        if (os->v[i].key && strcmp(os->v[i].key, key) == 0)
            return &os->v[i];
    return NULL;
}

void cfs_opensize_set(struct cfs_opensize *os, const char *key, uint64_t size)
{
    pthread_mutex_lock(&os->lock);
    struct slot *s = find(os, key);
    if (!s) {
        char *k = strdup(key);
        if (k) {
            s = &os->v[os->next];
            os->next = (os->next + 1) % os->max;
            free(s->key);
            s->key = k;
        }
    }
    if (s)
        s->size = size;
    pthread_mutex_unlock(&os->lock);
}

bool cfs_opensize_get(struct cfs_opensize *os, const char *key, uint64_t *size)
{
    pthread_mutex_lock(&os->lock);
    struct slot *s = find(os, key);
    if (s)
        *size = s->size;
    pthread_mutex_unlock(&os->lock);
    return s != NULL;
}
