/* The sweep at mount: provider->sweep in a thread per scope, so that a
 * cloud that does not answer delays neither the mount nor the other
 * clouds' sweeps. Clouds of one scope (cfs_cloud.scope: two names for the
 * same project) see the same leftovers: swept by both, each removal would
 * race and the loser log an error for an object that is gone, so one
 * sweep serves them all (the next cloud of the scope tries when one
 * fails, as its credentials may work where the first's do not). */
#include "sweep.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned running;

struct job {
    const struct cfs_marker_self *self;
    size_t n;
    struct cfs_cloud *clouds[]; /* of one scope, in the mount's order */
};

static void *sweep_one(void *arg)
{
    struct job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        struct cfs_cloud *cloud = j->clouds[i];
        int err = cloud->provider->sweep(cloud, j->self);
        if (!err) {
            cfs_log_debug("cloud %s: sweep for half-made uploads done", cloud->name);
            break;
        }
        cfs_log_warn("cloud %s: sweep for half-made uploads failed: %s%s", cloud->name,
                     strerror(-err), i + 1 < j->n ? "; trying a cloud of the same project" : "");
    }
    free(j);
    pthread_mutex_lock(&lock);
    running--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static bool same_scope(const struct cfs_cloud *a, const struct cfs_cloud *b)
{
    return a->provider == b->provider && a->scope && b->scope && strcmp(a->scope, b->scope) == 0;
}

/* The first cloud before i that sweeps what cloud i would, else i. */
static size_t first_of_scope(const struct cfs_mount *m, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (m->clouds[k].cloud->provider->sweep &&
            same_scope(m->clouds[k].cloud, m->clouds[i].cloud))
            return k;
    return i;
}

static void start_job(struct job *j)
{
    pthread_t th;
    pthread_attr_t attr;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&lock);
    int err = pthread_create(&th, &attr, sweep_one, j);
    if (!err)
        running++;
    pthread_mutex_unlock(&lock);
    pthread_attr_destroy(&attr);
    if (err) {
        cfs_log_warn("cloud %s: no sweep for half-made uploads: %s", j->clouds[0]->name,
                     strerror(err));
        free(j);
    }
}

void cfs_sweep_start(struct cfs_mount *m)
{
    for (size_t i = 0; i < m->n_clouds; i++) {
        struct cfs_cloud *cloud = m->clouds[i].cloud;
        size_t first = first_of_scope(m, i), n = 0;
        struct job *j;

        if (!cloud->provider->sweep)
            continue;
        if (first != i) {
            cfs_log_debug("cloud %s: the sweep of cloud %s (the same project) serves it too",
                          cloud->name, m->clouds[first].cloud->name);
            continue;
        }
        if (!(j = malloc(sizeof *j + (m->n_clouds - i) * sizeof j->clouds[0])))
            continue;
        j->self = &m->marker_self;
        for (size_t k = i; k < m->n_clouds; k++)
            if (k == i || (m->clouds[k].cloud->provider->sweep && first_of_scope(m, k) == i))
                j->clouds[n++] = m->clouds[k].cloud;
        j->n = n;
        start_job(j);
    }
}

bool cfs_sweep_busy(void)
{
    pthread_mutex_lock(&lock);
    bool busy = running > 0;
    pthread_mutex_unlock(&lock);
    return busy;
}
