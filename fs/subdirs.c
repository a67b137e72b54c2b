/* A small table under one mutex: a mount shows tens of catalogs, not
 * thousands, and a lookup costs a string compare per cached directory. */
#include "subdirs.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    struct cfs_dircache *dc; /* the table's reference */
    uint64_t used;           /* tick of the last get */
};

struct cfs_subdirs {
    pthread_mutex_t lock;
    struct slot *v;
    size_t n, max;
    uint64_t tick;
    double ttl;
    unsigned views;
};

struct cfs_subdirs *cfs_subdirs_new(size_t max, double ttl, unsigned views)
{
    struct cfs_subdirs *sd = calloc(1, sizeof *sd);
    if (!sd)
        return NULL;
    sd->v = calloc(max ? max : 1, sizeof *sd->v);
    if (!sd->v) {
        free(sd);
        return NULL;
    }
    pthread_mutex_init(&sd->lock, NULL);
    sd->max = max ? max : 1;
    sd->ttl = ttl;
    sd->views = views;
    return sd;
}

void cfs_subdirs_free(struct cfs_subdirs *sd)
{
    if (!sd)
        return;
    for (size_t i = 0; i < sd->n; i++)
        cfs_dircache_put(sd->v[i].dc);
    pthread_mutex_destroy(&sd->lock);
    free(sd->v);
    free(sd);
}

int cfs_subdirs_get(struct cfs_subdirs *sd, struct cfs_cloud *cloud, const char *dir,
                    struct cfs_dircache **out)
{
    struct slot *s = NULL;
    int err = 0;

    pthread_mutex_lock(&sd->lock);
    for (size_t i = 0; i < sd->n && !s; i++)
        if (cfs_dircache_cloud(sd->v[i].dc) == cloud &&
            strcmp(cfs_dircache_dir(sd->v[i].dc), dir) == 0)
            s = &sd->v[i];
    if (!s) {
        struct cfs_dircache *dc = cfs_dircache_new(cloud, dir, sd->ttl, sd->views);
        if (!dc) {
            err = -ENOMEM;
            goto out;
        }
        if (sd->n < sd->max) {
            s = &sd->v[sd->n++];
        } else {
            s = &sd->v[0];
            for (size_t i = 1; i < sd->n; i++)
                if (sd->v[i].used < s->used)
                    s = &sd->v[i];
            cfs_dircache_put(s->dc);
        }
        s->dc = dc;
    }
    s->used = ++sd->tick;
    cfs_dircache_hold(s->dc);
    *out = s->dc;
out:
    pthread_mutex_unlock(&sd->lock);
    return err;
}
