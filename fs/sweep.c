/* The sweep at mount: provider->sweep of each cloud in a thread of its
 * own, so that a cloud that does not answer delays neither the mount nor
 * the other clouds' sweeps. */
#include "sweep.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned running;

struct job {
    struct cfs_cloud *cloud;
    const struct cfs_marker_self *self;
};

static void *sweep_one(void *arg)
{
    struct job *j = arg;
    int err = j->cloud->provider->sweep(j->cloud, j->self);
    if (err)
        cfs_log_warn("cloud %s: sweep for half-made uploads failed: %s", j->cloud->name,
                     strerror(-err));
    else
        cfs_log_debug("cloud %s: sweep for half-made uploads done", j->cloud->name);
    free(j);
    pthread_mutex_lock(&lock);
    running--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

void cfs_sweep_start(struct cfs_mount *m)
{
    for (size_t i = 0; i < m->n_clouds; i++) {
        struct cfs_cloud *cloud = m->clouds[i].cloud;
        struct job *j;
        pthread_t th;
        pthread_attr_t attr;

        if (!cloud->provider->sweep || !(j = malloc(sizeof *j)))
            continue;
        j->cloud = cloud;
        j->self = &m->marker_self;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&lock);
        int err = pthread_create(&th, &attr, sweep_one, j);
        if (!err)
            running++;
        pthread_mutex_unlock(&lock);
        pthread_attr_destroy(&attr);
        if (err) {
            cfs_log_warn("cloud %s: no sweep for half-made uploads: %s", cloud->name,
                         strerror(err));
            free(j);
        }
    }
}

bool cfs_sweep_busy(void)
{
    pthread_mutex_lock(&lock);
    bool busy = running > 0;
    pthread_mutex_unlock(&lock);
    return busy;
}
