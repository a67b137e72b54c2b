/* Directory snapshots with a TTL. No lock is held while listing: the
 * listing thread marks the cache busy, others wait on the condition
 * variable for its result, and other directories are not affected. */
#include "dircache.h"
#include "log.h"
#include "names.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_HOLD_S 2.0

struct cfs_dircache {
    struct cfs_cloud *cloud;
    char *dir;
    double ttl;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool busy;
    struct cfs_snapshot *snap;
    double fetched_at;
    int err;
    double err_until;
};

static void snapshot_free(struct cfs_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i].fname);
    for (size_t i = 0; i < s->n_ids; i++)
        free(s->ids[i].fname);
    free(s->names);
    free(s->ids);
    cfs_object_list_free(&s->objs);
    free(s);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct cfs_entry *)a)->fname, ((const struct cfs_entry *)b)->fname);
}

static int build_snapshot(struct cfs_object_list *objs, struct cfs_snapshot **out)
{
    struct cfs_snapshot *s = calloc(1, sizeof *s);
    size_t n = objs->n;
    struct cfs_name_in *in = calloc(n ? n : 1, sizeof *in);
    char **names = calloc(n ? n : 1, sizeof *names);
    int err = 0;

    if (!s || !in || !names) {
        err = -ENOMEM;
        goto out;
    }
    s->objs = *objs;
    memset(objs, 0, sizeof *objs);
    s->names = calloc(n ? n : 1, sizeof *s->names);
    s->ids = calloc(n ? n : 1, sizeof *s->ids);
    if (!s->names || !s->ids) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        in[i] = (struct cfs_name_in){ s->objs.v[i].name, s->objs.v[i].id, s->objs.v[i].ext, true };
    }
    err = cfs_names_assign(in, n, names);
    if (err)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct cfs_object *o = &s->objs.v[i];
        if (names[i]) {
            s->names[s->n_names++] = (struct cfs_entry){ names[i], o };
            names[i] = NULL;
        }
        char *idn = cfs_name_by_id(o->id, o->ext);
        if (!idn) {
            err = -ENOMEM;
            goto out;
        }
        s->ids[s->n_ids++] = (struct cfs_entry){ idn, o };
    }
    qsort(s->names, s->n_names, sizeof *s->names, cmp_entry);
    qsort(s->ids, s->n_ids, sizeof *s->ids, cmp_entry);
    /* The same id listed twice (a listing that shifted between pages). */
    size_t w = 0;
    for (size_t i = 0; i < s->n_ids; i++) {
        if (w > 0 && strcmp(s->ids[w - 1].fname, s->ids[i].fname) == 0) {
            free(s->ids[i].fname);
            continue;
        }
        s->ids[w++] = s->ids[i];
    }
    s->n_ids = w;
out:
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(in);
    if (err) {
        snapshot_free(s);
        return err;
    }
    *out = s;
    return 0;
}

struct cfs_dircache *cfs_dircache_new(struct cfs_cloud *cloud, const char *dir, double ttl)
{
    struct cfs_dircache *dc = calloc(1, sizeof *dc);
    if (!dc)
        return NULL;
    dc->cloud = cloud;
    dc->dir = strdup(dir);
    dc->ttl = ttl;
    pthread_mutex_init(&dc->lock, NULL);
    pthread_cond_init(&dc->cond, NULL);
    if (!dc->dir) {
        free(dc);
        return NULL;
    }
    return dc;
}

void cfs_dircache_free(struct cfs_dircache *dc)
{
    if (!dc)
        return;
    if (dc->snap && --dc->snap->refs == 0)
        snapshot_free(dc->snap);
    free(dc->dir);
    pthread_mutex_destroy(&dc->lock);
    pthread_cond_destroy(&dc->cond);
    free(dc);
}

int cfs_dircache_get(struct cfs_dircache *dc, struct cfs_snapshot **out)
{
    int err;

    pthread_mutex_lock(&dc->lock);
    for (;;) {
        double now = cfs_now();
        if (dc->snap && now - dc->fetched_at < dc->ttl) {
            err = 0;
            break;
        }
        if (now < dc->err_until) {
            err = dc->snap ? 0 : dc->err;
            break;
        }
        if (dc->busy) {
            pthread_cond_wait(&dc->cond, &dc->lock);
            continue;
        }
        dc->busy = true;
        pthread_mutex_unlock(&dc->lock);

        struct cfs_object_list objs;
        struct cfs_snapshot *fresh = NULL;
        err = dc->cloud->provider->list(dc->cloud, dc->dir, &objs);
        if (!err) {
            err = build_snapshot(&objs, &fresh);
            cfs_object_list_free(&objs);
        }

        pthread_mutex_lock(&dc->lock);
        dc->busy = false;
        pthread_cond_broadcast(&dc->cond);
        if (err) {
            dc->err = err;
            dc->err_until = cfs_now() + ERROR_HOLD_S;
            if (dc->snap) {
                cfs_log_warn("%s/%s: listing failed, showing the listing of %.0f s ago",
                             dc->cloud->name, dc->dir, cfs_now() - dc->fetched_at);
                err = 0;
            }
            break;
        }
        fresh->owner = dc;
        fresh->refs = 1;
        if (dc->snap && --dc->snap->refs == 0)
            snapshot_free(dc->snap);
        dc->snap = fresh;
        dc->fetched_at = cfs_now();
        dc->err_until = 0;
    }
    if (!err) {
        dc->snap->refs++;
        *out = dc->snap;
    }
    pthread_mutex_unlock(&dc->lock);
    return err;
}

void cfs_snapshot_put(struct cfs_snapshot *snap)
{
    struct cfs_dircache *dc;
    bool last;
    if (!snap)
        return;
    dc = snap->owner;
    pthread_mutex_lock(&dc->lock);
    last = --snap->refs == 0;
    pthread_mutex_unlock(&dc->lock);
    if (last)
        snapshot_free(snap);
}

static const struct cfs_entry *find(const struct cfs_entry *v, size_t n, const char *fname)
{
    struct cfs_entry key = { (char *)fname, NULL };
    return bsearch(&key, v, n, sizeof *v, cmp_entry);
}

const struct cfs_entry *cfs_snapshot_find(const struct cfs_snapshot *s, const char *fname)
{
    return find(s->names, s->n_names, fname);
}

const struct cfs_entry *cfs_snapshot_find_id(const struct cfs_snapshot *s, const char *fname)
{
    return find(s->ids, s->n_ids, fname);
}
