/* The table of files being written: a list under one mutex (a mount
 * writes a handful of files at a time). Entries are reference-counted:
 * the table holds one while the entry is in it, every node and handle
 * one more; the spool's fd closes with the last. */
#define _GNU_SOURCE
#include "pending.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Bound of the user.* attributes of one file, as ext4's per inode. */
#define XATTRS_MAX (64 * 1024)

struct cfs_pending_table {
    pthread_mutex_t lock;
    struct cfs_pending **v;
    size_t n, cap;
    double linger_s;
};

struct cfs_pending_table *cfs_pending_table_new(double linger_s)
{
    struct cfs_pending_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->linger_s = linger_s;
    return t;
}

static void pending_free(struct cfs_pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    cfs_dircache_put(p->dc);
    free(p->xattrs);
    free(p->path);
    free(p);
}

/* Under the lock. The caller drops the table's reference. */
static void unlink_entry(struct cfs_pending_table *t, struct cfs_pending *p)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i] == p) {
            t->v[i] = t->v[--t->n];
            break;
        }
    }
    p->in_table = false;
}

/* Under the lock: the reference to drop after it, or NULL. */
static struct cfs_pending *leave(struct cfs_pending_table *t, struct cfs_pending *p)
{
    if (!p->in_table)
        return NULL;
    unlink_entry(t, p);
    return --p->refs == 0 ? p : NULL;
}

/* Under the lock: staged files nobody came back for. Returns them for
 * freeing outside the lock (fd close may take a while on a big spool). */
static void expire(struct cfs_pending_table *t, double now, struct cfs_pending **gone, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < t->n;) {
        struct cfs_pending *p = t->v[i];
        if (p->opens == 0 && !p->uploading && p->idle_since > 0 &&
            now - p->idle_since >= t->linger_s && *n < 8) {
            cfs_log_info("%s: staged file dropped, unused for %.0f s", p->path,
                         now - p->idle_since);
            struct cfs_pending *f = leave(t, p);
            if (f)
                gone[(*n)++] = f;
            continue; /* v[i] is another entry now */
        }
        i++;
    }
}

static void free_all(struct cfs_pending **gone, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pending_free(gone[i]);
}

void cfs_pending_table_free(struct cfs_pending_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        t->v[i]->in_table = false;
        if (--t->v[i]->refs == 0)
            pending_free(t->v[i]);
    }
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct cfs_pending *lookup(struct cfs_pending_table *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->path, path) == 0)
            return t->v[i];
    return NULL;
}

int cfs_pending_add(struct cfs_pending_table *t, const char *path, struct cfs_dircache *dc, int fd,
                    struct cfs_pending **out)
{
    struct cfs_pending *p = calloc(1, sizeof *p), *gone[8];
    size_t n_gone;
    int err = 0;

    if (!p || !(p->path = strdup(path))) {
        free(p);
        close(fd);
        return -ENOMEM;
    }
    p->fname = strrchr(p->path, '/') ? strrchr(p->path, '/') + 1 : p->path;
    p->fd = fd;
    p->dc = dc;
    cfs_dircache_hold(dc);
    p->table = t;
    p->refs = 2; /* the table's and the caller's */
    clock_gettime(CLOCK_REALTIME, &p->ctime);

    pthread_mutex_lock(&t->lock);
    expire(t, cfs_now(), gone, &n_gone);
    if (lookup(t, path)) {
        err = -EBUSY;
    } else if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct cfs_pending **v = realloc(t->v, cap * sizeof *v);
        if (v) {
            t->v = v;
            t->cap = cap;
        } else {
            err = -ENOMEM;
        }
    }
    if (!err) {
        t->v[t->n++] = p;
        p->in_table = true;
    }
    pthread_mutex_unlock(&t->lock);
    free_all(gone, n_gone);
    if (err) {
        pending_free(p);
        return err;
    }
    *out = p;
    return 0;
}

struct cfs_pending *cfs_pending_find(struct cfs_pending_table *t, const char *path)
{
    struct cfs_pending *p, *gone[8];
    size_t n_gone;

    pthread_mutex_lock(&t->lock);
    expire(t, cfs_now(), gone, &n_gone);
    p = lookup(t, path);
    if (p)
        p->refs++;
    pthread_mutex_unlock(&t->lock);
    free_all(gone, n_gone);
    return p;
}

void cfs_pending_hold(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    p->refs++;
    pthread_mutex_unlock(&p->table->lock);
}

void cfs_pending_put(struct cfs_pending *p)
{
    struct cfs_pending_table *t = p->table;
    pthread_mutex_lock(&t->lock);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (last)
        pending_free(p);
}

void cfs_pending_opened(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    p->opens++;
    pthread_mutex_unlock(&p->table->lock);
}

void cfs_pending_closed(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    if (--p->opens == 0)
        p->idle_since = cfs_now();
    pthread_mutex_unlock(&p->table->lock);
}

void cfs_pending_drop(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    struct cfs_pending *f = leave(p->table, p);
    pthread_mutex_unlock(&p->table->lock);
    if (f)
        pending_free(f);
}

bool cfs_pending_begin_upload(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    bool ok = p->in_table && !p->uploading;
    if (ok)
        p->uploading = true;
    pthread_mutex_unlock(&p->table->lock);
    return ok;
}

void cfs_pending_end_upload(struct cfs_pending *p, int err)
{
    pthread_mutex_lock(&p->table->lock);
    p->uploading = false;
    p->uploaded = !err;
    if (err)
        p->err = err;
    struct cfs_pending *f = leave(p->table, p);
    pthread_mutex_unlock(&p->table->lock);
    if (f)
        pending_free(f);
}

void cfs_pending_fail(struct cfs_pending *p, int err)
{
    pthread_mutex_lock(&p->table->lock);
    p->err = err;
    struct cfs_pending *f = leave(p->table, p);
    pthread_mutex_unlock(&p->table->lock);
    if (f)
        pending_free(f);
}

int cfs_pending_state(struct cfs_pending *p)
{
    pthread_mutex_lock(&p->table->lock);
    int r = p->err         ? p->err
            : p->uploading ? -EBUSY
            : p->uploaded  ? -EROFS
            : !p->in_table ? -ENOENT
                           : 0;
    pthread_mutex_unlock(&p->table->lock);
    return r;
}

void cfs_pending_each(struct cfs_pending_table *t, const char *dir_path,
                      void (*fn)(void *ctx, struct cfs_pending *p), void *ctx)
{
    size_t len = strlen(dir_path);
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        struct cfs_pending *p = t->v[i];
        if (strncmp(p->path, dir_path, len) == 0 && p->path[len] == '/' &&
            p->fname == p->path + len + 1)
            fn(ctx, p);
    }
    pthread_mutex_unlock(&t->lock);
}

/* ---- attributes: "name\0value\0" pairs, as struct cfs_put wants ---- */

/* Under the lock: the pair of name, or NULL; *pair_len its bytes. */
static char *find_pair(struct cfs_pending *p, const char *name, size_t *pair_len)
{
    for (char *q = p->xattrs; q && q < p->xattrs + p->xattrs_len;) {
        size_t n = strlen(q) + 1, v = strlen(q + n) + 1;
        if (strcmp(q, name) == 0) {
            *pair_len = n + v;
            return q;
        }
        q += n + v;
    }
    return NULL;
}

static void remove_pair(struct cfs_pending *p, char *pair, size_t len)
{
    memmove(pair, pair + len, (size_t)(p->xattrs + p->xattrs_len - (pair + len)));
    p->xattrs_len -= len;
}

int cfs_pending_setxattr(struct cfs_pending *p, const char *name, const char *value, size_t len,
                         int flags)
{
    size_t n = strlen(name) + 1, old_len = 0;
    int err = 0;

    if (strncmp(name, "user.", 5) != 0)
        return -ENOTSUP;
    if (memchr(value, '\0', len))
        return -EINVAL; /* the cloud takes text */
    pthread_mutex_lock(&p->table->lock);
    char *old = find_pair(p, name, &old_len);
    if (old && (flags & XATTR_CREATE)) {
        err = -EEXIST;
    } else if (!old && (flags & XATTR_REPLACE)) {
        err = -ENODATA;
    } else if (p->xattrs_len - old_len + n + len + 1 > XATTRS_MAX) {
        err = -ENOSPC;
    } else {
        char *x = realloc(p->xattrs, p->xattrs_len + n + len + 1);
        if (!x) {
            err = -ENOMEM;
        } else {
            p->xattrs = x;
            old = find_pair(p, name, &old_len);
            if (old)
                remove_pair(p, old, old_len);
            memcpy(x + p->xattrs_len, name, n);
            memcpy(x + p->xattrs_len + n, value, len);
            x[p->xattrs_len + n + len] = '\0';
            p->xattrs_len += n + len + 1;
        }
    }
    pthread_mutex_unlock(&p->table->lock);
    return err;
}

int cfs_pending_getxattr(struct cfs_pending *p, const char *name, char *value, size_t size)
{
    size_t len;
    int err;
    pthread_mutex_lock(&p->table->lock);
    char *pair = find_pair(p, name, &len);
    if (!pair) {
        err = -ENODATA;
    } else {
        const char *v = pair + strlen(pair) + 1;
        size_t vlen = strlen(v);
        err = size == 0 ? (int)vlen : vlen > size ? -ERANGE : (int)vlen;
        if (size && vlen <= size)
            memcpy(value, v, vlen);
    }
    pthread_mutex_unlock(&p->table->lock);
    return err;
}

int cfs_pending_listxattr(struct cfs_pending *p, char *list, size_t size)
{
    size_t n = 0;
    pthread_mutex_lock(&p->table->lock);
    for (const char *q = p->xattrs; q && q < p->xattrs + p->xattrs_len;) {
        size_t len = strlen(q) + 1;
        if (size && n + len <= size)
            memcpy(list + n, q, len);
        n += len;
        q += len + strlen(q + len) + 1;
    }
    pthread_mutex_unlock(&p->table->lock);
    return size && n > size ? -ERANGE : (int)n;
}

int cfs_pending_removexattr(struct cfs_pending *p, const char *name)
{
    size_t len;
    pthread_mutex_lock(&p->table->lock);
    char *pair = find_pair(p, name, &len);
    if (pair)
        remove_pair(p, pair, len);
    pthread_mutex_unlock(&p->table->lock);
    return pair ? 0 : -ENODATA;
}

void cfs_pending_set_mtime(struct cfs_pending *p, const struct timespec *t)
{
    pthread_mutex_lock(&p->table->lock);
    p->mtime = *t;
    p->mtime_set = true;
    pthread_mutex_unlock(&p->table->lock);
}

bool cfs_pending_mtime(const struct cfs_pending *p, struct timespec *t)
{
    pthread_mutex_lock(&p->table->lock);
    bool set = p->mtime_set;
    if (set)
        *t = p->mtime;
    pthread_mutex_unlock(&p->table->lock);
    return set;
}

int cfs_pending_xattrs_copy(struct cfs_pending *p, char **out, size_t *len)
{
    int err = 0;
    pthread_mutex_lock(&p->table->lock);
    *out = NULL;
    *len = p->xattrs_len;
    if (p->xattrs_len && !(*out = malloc(p->xattrs_len)))
        err = -ENOMEM;
    else if (p->xattrs_len)
        memcpy(*out, p->xattrs, p->xattrs_len);
    pthread_mutex_unlock(&p->table->lock);
    return err;
}
