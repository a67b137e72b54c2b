/* The set of verified objects: a sorted array under a lock; it only grows,
 * by one entry per image read whole. */
#include "verified.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cfs_verified {
    pthread_mutex_t lock;
    char **keys;
    size_t n, cap;
};

char *cfs_verified_key(const struct cfs_object *obj, int view)
{
    return cfs_printf("%s:%s:%d", obj->id, obj->digest_hex ? obj->digest_hex : "", view);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct cfs_verified *cfs_verified_new(void)
{
    struct cfs_verified *v = calloc(1, sizeof *v);
    if (v)
        pthread_mutex_init(&v->lock, NULL);
    return v;
}

bool cfs_verified_has(struct cfs_mount *m, const struct cfs_object *obj, int view)
{
    struct cfs_verified *v = m->verified;
    char *key = cfs_verified_key(obj, view);
    bool found;
    if (!key)
        return false;
    pthread_mutex_lock(&v->lock);
    found = v->n && bsearch(&key, v->keys, v->n, sizeof *v->keys, cmp);
    pthread_mutex_unlock(&v->lock);
    free(key);
    return found;
}

void cfs_verified_add(struct cfs_mount *m, const char *key)
{
    struct cfs_verified *v = m->verified;
    pthread_mutex_lock(&v->lock);
    if (!(v->n && bsearch(&key, v->keys, v->n, sizeof *v->keys, cmp))) {
        if (v->n == v->cap) {
            size_t cap = v->cap ? v->cap * 2 : 64;
            char **k = realloc(v->keys, cap * sizeof *k);
            if (!k)
                goto out;
            v->keys = k;
            v->cap = cap;
        }
        char *copy = strdup(key);
        if (!copy)
            goto out;
        v->keys[v->n++] = copy;
        qsort(v->keys, v->n, sizeof *v->keys, cmp);
    }
out:
    pthread_mutex_unlock(&v->lock);
}

void cfs_verified_free(struct cfs_verified *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->keys[i]);
    free(v->keys);
    pthread_mutex_destroy(&v->lock);
    free(v);
}
