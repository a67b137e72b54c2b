/* Sizes of views by image, computed once per mount. No lock is held while
 * a view is opened: the entry is marked busy and other threads asking for
 * the same view wait for it; other images are not delayed. */
#include "viewinfo.h"
#include "log.h"
#include "util.h"
#include "views.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS      4096
#define FAILURE_HOLD 10.0 /* seconds a failure is remembered */

struct vi_entry {
    struct vi_entry *next;
    char *key;
    bool busy;
    int err;
    double failed_at;
    struct cfs_view_stat st;
};

struct cfs_viewinfo {
    atomic_int warmers; /* threads of cfs_viewinfo_warm still running */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct vi_entry *buckets[BUCKETS];
};

static uint32_t fnv1a(const char *s, uint32_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct cfs_viewinfo *cfs_viewinfo_new(void)
{
    struct cfs_viewinfo *vi = calloc(1, sizeof *vi);
    if (!vi)
        return NULL;
    pthread_mutex_init(&vi->lock, NULL);
    pthread_cond_init(&vi->cond, NULL);
    return vi;
}

int cfs_viewinfo_busy(struct cfs_viewinfo *vi)
{
    return vi ? atomic_load(&vi->warmers) : 0;
}

void cfs_viewinfo_free(struct cfs_viewinfo *vi)
{
    if (!vi)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct vi_entry *e = vi->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->key);
            free(e->st.warnings);
            free(e);
        }
    }
    pthread_mutex_destroy(&vi->lock);
    pthread_cond_destroy(&vi->cond);
    free(vi);
}

/* Everything the view's bytes depend on: image (by digest), kind, names. */
static char *key_of(const struct cfs_node *node)
{
    const struct cfs_entry *e = node->entry;
    /* Size and time too: an object without a digest could change. */
    return cfs_printf("%s\x1f%s\x1f%s\x1f%llu\x1f%lld\x1f%s\x1f%s\x1f%d", node->mc->cloud->name,
                      e->obj->id, e->obj->digest_hex ? e->obj->digest_hex : "",
                      (unsigned long long)e->obj->size, (long long)e->obj->mtime.tv_sec, e->fname,
                      e->vmdk_name ? e->vmdk_name : "", e->view);
}

/* A Glance image's property, else the one its provider derived in the
 * same vocabulary (a vSphere VM's hardware: user.cloudfs.props.*), so that
 * the .ovf view maps both through one table, as copies do (copy.c). */
static const char *glance_prop(const void *ctx, const char *key)
{
    char name[256];
    snprintf(name, sizeof name, "user.glance.%s", key);
    const char *v = cfs_object_xattr(ctx, name);
    if (v)
        return v;
    snprintf(name, sizeof name, "user.cloudfs.props.%s", key);
    return cfs_object_xattr(ctx, name);
}

void cfs_object_ovf(const struct cfs_mount *m, const struct cfs_object *o, struct ovf_defaults *out)
{
    *out = m->ovf;
    if (o->hw.cpus)
        out->cpus = o->hw.cpus;
    if (o->hw.memory_mb)
        out->memory_mb = o->hw.memory_mb;
}

/* What a copy's source learns before it is converted (cfs_view_open_scanned). */
struct scan {
    bool (*cancelled)(void *ctx);
    void *ctx;
};

static int view_open(struct cfs_mount *m, const struct cfs_node *node, unsigned flags,
                     const struct scan *scan, struct cfs_source **out, char **warnings)
{
    const struct cfs_entry *e = node->entry;
    const struct cfs_object *o = e->obj;
    const struct cfs_provider *p = node->mc->cloud->provider;
    const char *ext = cfs_view_ext((enum cfs_view)e->view);
    char *base = strndup(e->fname, strlen(e->fname) - strlen(ext) - 1);
    char *label = cfs_printf("%s/%s/%s", node->mc->cloud->name, cfs_node_dir(node), e->fname);
    char *seed = cfs_printf("%s:%s", o->id, o->digest_hex ? o->digest_hex : "");
    struct cfs_source *file = NULL;
    struct ovf_defaults ovf;
    int err = -ENOMEM;

    if (!base || !label || !seed)
        goto out;
    cfs_object_ovf(m, o, &ovf);
    struct cfs_view_spec spec = {
        .base = base,
        .vmdk_name = e->vmdk_name,
        .cid = fnv1a(seed, 2166136261u),
        .mtime = (uint64_t)o->mtime.tv_sec,
        .label = label,
        .prop = glance_prop,
        .prop_ctx = o,
        .defaults = &ovf,
        .digest_algo = m->verify ? o->digest_algo : NULL,
        .digest_hex = m->verify ? o->digest_hex : NULL,
        .vhd = m->vhd,
        .vhd_azure = m->opts.vhd_azure,
    };
    /* The view checks what its decoder reads (include/verify.h). With
     * verify=none nothing does, and what is read unchecked must not reach
     * the block cache, whose chunks later mounts trust. */
    if (!m->verify)
        flags |= CFS_OPEN_UNCHECKED;
    else if (o->digest_hex)
        flags |= CFS_OPEN_CHECKED;
    err = p->open(node->mc->cloud, cfs_node_dir(node), o, CFS_OPEN_DECODE | flags, &file);
    if (!err && scan && file->alloc) {
        cfs_source_close(file); /* the disk has its map: nothing to learn */
        err = -ENODATA;
    } else if (!err && scan) {
        err = cfs_zero_scan_open(file, label, scan->cancelled, scan->ctx, &file);
    }
    if (!err)
        err = cfs_view_open(file, o->ext, (enum cfs_view)e->view, &spec, out, warnings);
out:
    free(base);
    free(label);
    free(seed);
    return err;
}

int cfs_view_open_node(struct cfs_mount *m, const struct cfs_node *node, unsigned flags,
                       struct cfs_source **out, char **warnings)
{
    return view_open(m, node, flags, NULL, out, warnings);
}

int cfs_view_open_scanned(struct cfs_mount *m, const struct cfs_node *node, unsigned flags,
                          bool (*cancelled)(void *ctx), void *ctx, struct cfs_source **out)
{
    struct scan scan = { cancelled, ctx };
    return view_open(m, node, flags, &scan, out, NULL);
}

static struct vi_entry **slot(struct cfs_viewinfo *vi, const char *key)
{
    struct vi_entry **pp = &vi->buckets[fnv1a(key, 2166136261u) % BUCKETS];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void copy_out(const struct vi_entry *e, struct cfs_view_stat *out)
{
    *out = e->st;
    out->warnings = e->st.warnings ? strdup(e->st.warnings) : NULL;
}

bool cfs_viewinfo_peek(struct cfs_mount *m, const struct cfs_node *node, struct cfs_view_stat *out)
{
    char *key = key_of(node);
    bool found = false;
    if (!key)
        return false;
    pthread_mutex_lock(&m->viewinfo->lock);
    struct vi_entry *e = *slot(m->viewinfo, key);
    if (e && !e->busy && !e->err) {
        copy_out(e, out);
        found = true;
    }
    pthread_mutex_unlock(&m->viewinfo->lock);
    free(key);
    return found;
}

/* Opens the view to learn its size and allocation; nothing is read but
 * the image's metadata. */
static int compute(struct cfs_mount *m, const struct cfs_node *node, struct cfs_view_stat *st)
{
    struct cfs_source *src = NULL;
    int err = cfs_view_open_node(m, node, 0, &src, &st->warnings);
    if (err)
        return err;
    st->size = src->size;
    st->blocks =
        src->alloc ? src->alloc->n_alloc << (CFS_GRAIN_SHIFT - 9) : (src->size + 511) / 512;
    if (st->blocks > (src->size + 511) / 512)
        st->blocks = (src->size + 511) / 512;
    cfs_source_close(src);
    return 0;
}

int cfs_viewinfo_get(struct cfs_mount *m, const struct cfs_node *node, struct cfs_view_stat *out)
{
    struct cfs_viewinfo *vi = m->viewinfo;
    char *key = key_of(node);
    struct vi_entry *e;
    int err;

    if (!key)
        return -ENOMEM;
    pthread_mutex_lock(&vi->lock);
    for (;;) {
        e = *slot(vi, key);
        if (!e) {
            e = calloc(1, sizeof *e);
            if (!e) {
                err = -ENOMEM;
                break;
            }
            e->key = strdup(key);
            if (!e->key) {
                free(e);
                err = -ENOMEM;
                break;
            }
            e->next = vi->buckets[fnv1a(e->key, 2166136261u) % BUCKETS];
            vi->buckets[fnv1a(e->key, 2166136261u) % BUCKETS] = e;
            e->err = -EAGAIN;
        }
        if (e->busy) {
            pthread_cond_wait(&vi->cond, &vi->lock);
            continue;
        }
        if (e->err == 0) {
            copy_out(e, out);
            err = 0;
            break;
        }
        if (e->err != -EAGAIN && cfs_now() - e->failed_at < FAILURE_HOLD) {
            err = e->err;
            break;
        }
        e->busy = true;
        pthread_mutex_unlock(&vi->lock);
        struct cfs_view_stat st = { 0 };
        err = compute(m, node, &st);
        pthread_mutex_lock(&vi->lock);
        e->busy = false;
        e->err = err;
        if (err)
            e->failed_at = cfs_now();
        else
            e->st = st;
        pthread_cond_broadcast(&vi->cond);
    }
    pthread_mutex_unlock(&vi->lock);
    free(key);
    return err;
}

/* ---- warming a directory's views ---- */

#define WARM_THREADS 4

struct warm {
    struct cfs_mount *m;
    struct cfs_node dir; /* holds a snapshot reference */
    atomic_size_t next;
    atomic_int left;
};

static void *warm_main(void *arg)
{
    struct warm *w = arg;
    struct cfs_viewinfo *vi = w->m->viewinfo;
    const struct cfs_snapshot *s = w->dir.snap;
    /* The listing the lookup came from: names, or by-id/. */
    const struct cfs_entry *list = w->dir.by_id ? s->ids : s->names;
    size_t n = w->dir.by_id ? s->n_ids : s->n_names;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= n)
            break;
        const struct cfs_entry *e = &list[i];
        /* size_at_open: known only by opening, which prepares the object
         * (a server's snapshot): never for a listing. */
        if (e->view == CFS_NATIVE || e->obj->size_at_open)
            continue;
        struct cfs_node node = w->dir;
        struct cfs_view_stat vs;
        node.kind = NODE_FILE;
        node.entry = e;
        if (cfs_viewinfo_get(w->m, &node, &vs) == 0)
            free(vs.warnings);
    }
    if (atomic_fetch_sub(&w->left, 1) == 1) {
        cfs_snapshot_put(w->dir.snap);
        free(w);
    }
    atomic_fetch_sub(&vi->warmers, 1); /* w may be gone: vi was read first */
    return NULL;
}

void cfs_viewinfo_warm(struct cfs_mount *m, const struct cfs_node *dir)
{
    struct warm *w;
    if (!dir->snap || !cfs_snapshot_claim_warm(dir->snap, dir->by_id))
        return;
    w = calloc(1, sizeof *w);
    if (!w)
        return;
    w->m = m;
    w->dir = *dir;
    cfs_snapshot_hold(dir->snap);
    atomic_init(&w->next, 0);
    atomic_init(&w->left, WARM_THREADS);
    for (int i = 0; i < WARM_THREADS; i++) {
        pthread_t tid;
        atomic_fetch_add(&m->viewinfo->warmers, 1);
        if (pthread_create(&tid, NULL, warm_main, w) == 0) {
            pthread_detach(tid);
            continue;
        }
        atomic_fetch_sub(&m->viewinfo->warmers, 1);
        if (atomic_fetch_sub(&w->left, 1) == 1) {
            cfs_snapshot_put(w->dir.snap);
            free(w);
        }
    }
}
