/* Directory snapshots with a TTL. No lock is held while listing: the
 * listing thread marks the cache busy, others wait on the condition
 * variable for its result, and other directories are not affected. */
#include "dircache.h"
#include "log.h"
#include "names.h"
#include "util.h"
#include "views.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_HOLD_S 2.0

struct cfs_dircache {
    struct cfs_cloud *cloud;
    char *dir;
    /* Its owner's (the mount's, or the cache of subdirectories'), each
     * node's and each snapshot handed out: a subdirectory's cache can be
     * evicted while a request still uses it. */
    atomic_int refs;
    double ttl;
    unsigned views;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool busy;
    struct cfs_snapshot *snap;
    double fetched_at;
    int err;
    double err_until;
    int put_err; /* can_put's answer, asked again after the TTL */
    double put_checked_at;
    bool put_logged;
};

static void free_entries(struct cfs_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].fname);
        free(v[i].vmdk_name);
    }
    free(v);
}

static void snapshot_free(struct cfs_snapshot *s)
{
    if (!s)
        return;
    free_entries(s->names, s->n_names);
    free_entries(s->ids, s->n_ids);
    cfs_object_list_free(&s->objs);
    free(s);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct cfs_entry *)a)->fname, ((const struct cfs_entry *)b)->fname);
}

static const char *ext_of(const struct cfs_object *o, int view)
{
    if (o->is_dir)
        return "";
    return view == CFS_NATIVE ? (o->ext ? o->ext : "") : cfs_view_ext((enum cfs_view)view);
}

/* Views of an object: none for directories and objects that say so. */
static bool shows(const struct cfs_object *o, int view, unsigned views)
{
    if (view == CFS_NATIVE)
        return true;
    return !o->is_dir && !o->no_views && (views & (1u << view)) &&
           cfs_view_offered((enum cfs_view)view, o->ext);
}

/* The entries of the directory: every object's stored bytes, and the views
 * it offers, named by the rules of names.c over whole file names. */
static int name_entries(struct cfs_snapshot *s, unsigned views)
{
    size_t n = 0, max = s->objs.n * (1 + CFS_VIEW_COUNT);
    struct cfs_name_in *in = calloc(max ? max : 1, sizeof *in);
    char **names = calloc(max ? max : 1, sizeof *names);
    int *view = calloc(max ? max : 1, sizeof *view);
    const struct cfs_object **obj = calloc(max ? max : 1, sizeof *obj);
    int err = 0;

    s->names = calloc(max ? max : 1, sizeof *s->names);
    if (!in || !names || !view || !obj || !s->names) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->objs.n; i++) {
        const struct cfs_object *o = &s->objs.v[i];
        for (int v = CFS_NATIVE; v < CFS_VIEW_COUNT; v++) {
            if (!shows(o, v, views))
                continue;
            in[n] = (struct cfs_name_in){ o->name, o->id, ext_of(o, v), v == CFS_NATIVE };
            view[n] = v;
            obj[n++] = o;
        }
    }
    err = cfs_names_assign(in, n, names);
    if (err)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        s->names[s->n_names++] = (struct cfs_entry){ names[i], obj[i], view[i], NULL };
        names[i] = NULL;
    }
    /* An .ovf references the .vmdk shown next to it. */
    for (size_t i = 0; i < s->n_names; i++) {
        struct cfs_entry *e = &s->names[i];
        if (e->view != CFS_VIEW_OVF)
            continue;
        for (size_t j = 0; j < s->n_names && !e->vmdk_name; j++)
            if (s->names[j].obj == e->obj && s->names[j].view == CFS_VIEW_VMDK)
                e->vmdk_name = strdup(s->names[j].fname);
        if (!e->vmdk_name) {
            size_t len = strlen(e->fname) - strlen(".ovf");
            e->vmdk_name = cfs_printf("%.*s.vmdk", (int)len, e->fname);
        }
        if (!e->vmdk_name) {
            err = -ENOMEM;
            goto out;
        }
    }
out:
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(in);
    free(view);
    free(obj);
    return err;
}

/* by-id/<id>.<ext>: ids are unique and safe, so no marks are needed.
 * Files only: a directory is reached by its name. */
static int id_entries(struct cfs_snapshot *s, unsigned views)
{
    size_t max = s->objs.n * (1 + CFS_VIEW_COUNT);
    s->ids = calloc(max ? max : 1, sizeof *s->ids);
    if (!s->ids)
        return -ENOMEM;
    for (size_t i = 0; i < s->objs.n; i++) {
        const struct cfs_object *o = &s->objs.v[i];
        for (int v = CFS_NATIVE; v < CFS_VIEW_COUNT && !o->is_dir; v++) {
            if (!shows(o, v, views))
                continue;
            struct cfs_entry *e = &s->ids[s->n_ids];
            e->fname = cfs_name_by_id(o->id, ext_of(o, v));
            e->obj = o;
            e->view = v;
            if (v == CFS_VIEW_OVF)
                e->vmdk_name = cfs_name_by_id(o->id, "vmdk");
            if (!e->fname || (v == CFS_VIEW_OVF && !e->vmdk_name)) {
                free(e->fname);
                free(e->vmdk_name);
                return -ENOMEM;
            }
            s->n_ids++;
        }
    }
    qsort(s->ids, s->n_ids, sizeof *s->ids, cmp_entry);
    /* The same id listed twice (a listing that shifted between pages). */
    size_t w = 0;
    for (size_t i = 0; i < s->n_ids; i++) {
        if (w > 0 && strcmp(s->ids[w - 1].fname, s->ids[i].fname) == 0) {
            free(s->ids[i].fname);
            free(s->ids[i].vmdk_name);
            continue;
        }
        s->ids[w++] = s->ids[i];
    }
    s->n_ids = w;
    return 0;
}

static int build_snapshot(struct cfs_object_list *objs, unsigned views, struct cfs_snapshot **out)
{
    struct cfs_snapshot *s = calloc(1, sizeof *s);
    int err;

    if (!s)
        return -ENOMEM;
    s->objs = *objs;
    memset(objs, 0, sizeof *objs);
    err = name_entries(s, views);
    if (!err)
        err = id_entries(s, views);
    if (err) {
        snapshot_free(s);
        return err;
    }
    qsort(s->names, s->n_names, sizeof *s->names, cmp_entry);
    *out = s;
    return 0;
}

struct cfs_dircache *cfs_dircache_new(struct cfs_cloud *cloud, const char *dir, double ttl,
                                      unsigned views)
{
    struct cfs_dircache *dc = calloc(1, sizeof *dc);
    if (!dc)
        return NULL;
    dc->cloud = cloud;
    atomic_init(&dc->refs, 1);
    dc->dir = strdup(dir);
    dc->ttl = ttl;
    dc->views = views;
    pthread_mutex_init(&dc->lock, NULL);
    pthread_cond_init(&dc->cond, NULL);
    if (!dc->dir) {
        free(dc);
        return NULL;
    }
    return dc;
}

void cfs_dircache_hold(struct cfs_dircache *dc)
{
    atomic_fetch_add(&dc->refs, 1);
}

void cfs_dircache_put(struct cfs_dircache *dc)
{
    if (!dc || atomic_fetch_sub(&dc->refs, 1) != 1)
        return;
    /* Nobody holds a snapshot any more: each holds a reference to dc. */
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
            err = build_snapshot(&objs, dc->views, &fresh);
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
        break; /* fresh, whatever the TTL (list_ttl=0: list every time) */
    }
    if (!err) {
        dc->snap->refs++;
        atomic_fetch_add(&dc->refs, 1);
        *out = dc->snap;
    }
    pthread_mutex_unlock(&dc->lock);
    return err;
}

void cfs_dircache_invalidate(struct cfs_dircache *dc)
{
    pthread_mutex_lock(&dc->lock);
    dc->fetched_at = -1e300;
    dc->err_until = 0;
    dc->put_checked_at = -1e300;
    pthread_mutex_unlock(&dc->lock);
}

const char *cfs_dircache_dir(const struct cfs_dircache *dc)
{
    return dc->dir;
}

struct cfs_cloud *cfs_dircache_cloud(const struct cfs_dircache *dc)
{
    return dc->cloud;
}

int cfs_dircache_can_put(struct cfs_dircache *dc, bool *first_refusal)
{
    const struct cfs_provider *p = dc->cloud->provider;
    double now = cfs_now();
    int err;

    pthread_mutex_lock(&dc->lock);
    bool fresh = dc->put_checked_at && now - dc->put_checked_at < dc->ttl;
    err = dc->put_err;
    pthread_mutex_unlock(&dc->lock);
    if (!fresh) {
        /* Outside the lock: a provider may ask its cloud. */
        err = p->can_put ? p->can_put(dc->cloud, dc->dir) : -EROFS;
        if (err > 0)
            err = -EIO;
        pthread_mutex_lock(&dc->lock);
        dc->put_err = err;
        dc->put_checked_at = now;
        pthread_mutex_unlock(&dc->lock);
    }
    if (first_refusal) {
        pthread_mutex_lock(&dc->lock);
        *first_refusal = err && !dc->put_logged;
        dc->put_logged |= err != 0;
        pthread_mutex_unlock(&dc->lock);
    }
    return err;
}

void cfs_snapshot_hold(struct cfs_snapshot *snap)
{
    pthread_mutex_lock(&snap->owner->lock);
    snap->refs++;
    pthread_mutex_unlock(&snap->owner->lock);
    atomic_fetch_add(&snap->owner->refs, 1);
}

bool cfs_snapshot_claim_warm(struct cfs_snapshot *snap, bool by_id)
{
    pthread_mutex_lock(&snap->owner->lock);
    bool first = !snap->warmed[by_id];
    snap->warmed[by_id] = true;
    pthread_mutex_unlock(&snap->owner->lock);
    return first;
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
    cfs_dircache_put(dc);
}

static const struct cfs_entry *find(const struct cfs_entry *v, size_t n, const char *fname)
{
    struct cfs_entry key = { (char *)fname, NULL, 0, NULL };
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
