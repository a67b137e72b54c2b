/* copy_file_range into a file being written (DESIGN.md §5, way 1).
 *
 * What the kernel sends when cp copies between two files of the mount:
 * one call for the whole file (several for files over ~4 GiB: a FUSE
 * reply's size is 32 bits), or, for a sparse source, one call per data
 * extent found with SEEK_DATA and an ftruncate to the final size. None of
 * them needs to move bytes: the first call into a new, empty, visible
 * file starts provider->put() in a thread, reading a second open of the
 * source object (cp may close its own handle first), and every call
 * answers at once. Decisions:
 * - A call is consistent when it copies from the same source handle at
 *   the same offset in both files, forward, and what it skips over is a
 *   hole of the source (those read as zeros there too); a write() of
 *   zeros over such a hole is consistent too (cp --sparse=never). Before direct
 *   mode anything else is EOPNOTSUPP (the kernel falls back to read and
 *   write); once the upload runs it fails the file (close says EIO),
 *   since the bytes asked for are no longer what is sent.
 * - The upload never reads past what the calls (or the final ftruncate)
 *   covered: a cp interrupted halfway leaves no complete object behind;
 *   its close cancels the upload.
 * - The spool stays: the pending file's size shows progress through it
 *   (ftruncate, a hole: no data, no disk). Reads of it answer EBUSY. */
#define _GNU_SOURCE
#include "copy.h"
#include "log.h"
#include "vmdk_compress.h"
#include "meter.h"
#include "mount.h"
#include "names.h"
#include "pending_upload.h"
#include "spool.h"
#include "transfers.h"
#include "tree.h"
#include "util.h"
#include "verify.h"
#include "viewinfo.h"
#include "views.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct cfs_copy {
    struct cfs_mount *m;
    struct cfs_pending *p;   /* the destination (a reference) */
    uintptr_t from;          /* fi_in->fh of the first call */
    char *from_path;         /* for log lines */
    struct cfs_source *src;  /* the source object, opened again */
    struct cfs_source *gate; /* src, read only as far as the calls went */
    struct cfs_source *meter;
    /* A view whose disk has no allocation map (a vSphere flat extent): put()
     * reads the view laid out from the disk's zeros instead, once cp's calls
     * covered the whole file (compact_gate). */
    bool compact;
    struct cfs_source *compact_src, *compact_gate, *compact_meter;
    char *props, *xattrs, *warnings; /* for cfs_put */
    char *digest_algo, *digest_hex;  /* ... the digest src is checked against */
    size_t props_len, xattrs_len;
    struct ovf_defaults ovf; /* for cfs_put: the source machine's hardware */
    struct cfs_transfer *xfer;
    uint64_t size; /* the source's */
    double t0;
    pthread_t thread;
    pthread_cond_t cond; /* end, cancel or done changed */
    /* Under copy_lock: */
    uint64_t end; /* how far the calls (and ftruncate) took the file */
    bool failed;  /* an inconsistent call, a write, an early close */
    bool done;
    int err; /* put's result, once done */
};

/* One lock for every copy: the calls only compare and store offsets. */
static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cfs_mount *mount_of(void)
{
    return fuse_get_context()->private_data;
}

/* Bytes [a, b) of s read as zeros: a hole its SEEK_DATA skips. */
static bool is_hole(const struct cfs_source *s, uint64_t a, uint64_t b)
{
    if (a >= b)
        return true;
    if (!s->alloc)
        return false;
    for (uint64_t g = a >> CFS_GRAIN_SHIFT; g <= (b - 1) >> CFS_GRAIN_SHIFT; g++)
        if (cfs_alloc_test(s->alloc, g))
            return false;
    return true;
}

/* The end of a range of len bytes at off, within a source of size bytes
 * (off < size). */
static uint64_t clamp(uint64_t size, uint64_t off, size_t len)
{
    return off + (len < size - off ? len : size - off);
}

/* Under copy_lock. */
static void fail_locked(struct cfs_copy *c, const char *why)
{
    if (c->failed || c->done)
        return;
    c->failed = true;
    pthread_cond_broadcast(&c->cond);
    cfs_log_error("upload of %s: %s: the copy from %s is cancelled", c->p->path, why, c->from_path);
}

/* Under copy_lock: the destination now reaches end. */
static void advance_locked(struct cfs_copy *c, uint64_t end)
{
    if (end <= c->end)
        return;
    c->end = end;
    cfs_spool_truncate(c->p->fd, end); /* its size, for stat; a hole */
    pthread_cond_broadcast(&c->cond);
}

static bool copy_cancelled(void *ctx)
{
    struct cfs_copy *c = ctx;
    pthread_mutex_lock(&copy_lock);
    bool failed = c->failed;
    pthread_mutex_unlock(&copy_lock);
    return failed || cfs_transfer_cancelled(c->xfer);
}

/* ---- the gate: put() reads only what cp has asked for so far ---- */

struct gate_source {
    struct cfs_source base;
    struct cfs_copy *c;
    struct cfs_source *inner;
    bool whole; /* inner is not the file cp copies: nothing before all of it */
};

static ssize_t gate_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct gate_source *g = (struct gate_source *)src;
    struct cfs_copy *c = g->c;
    bool open = false;

    pthread_mutex_lock(&copy_lock);
    for (;;) {
        /* A failed copy reads nothing more, whether or not the provider
         * polls cancelled(): its put fails at the next read. */
        open = !c->failed && (g->whole ? c->end == c->size : off + len <= c->end);
        if (open || c->failed || cfs_transfer_cancelled(c->xfer))
            break;
        /* A second at a time: the transfer registry's cancel has no signal. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&c->cond, &copy_lock, &ts);
    }
    pthread_mutex_unlock(&copy_lock);
    if (!open)
        return -ECANCELED;
    return cfs_source_pread(g->inner, buf, len, off);
}

static void gate_close(struct cfs_source *src)
{
    free(src);
}

static const struct cfs_source_ops gate_ops = {
    .name = "copy-gate",
    .pread = gate_pread,
    .close = gate_close,
};

static int gate_open(struct cfs_copy *c, struct cfs_source *inner, bool whole,
                     struct cfs_source **out)
{
    struct gate_source *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->base.ops = &gate_ops;
    g->base.size = inner->size;
    g->base.alloc = inner->alloc;
    g->c = c;
    g->inner = inner;
    g->whole = whole;
    *out = &g->base;
    return 0;
}

/* ---- the source object ---- */

/* Appends key=value to the pairs in v (room for 64 more bytes). */
static size_t add_prop(char *v, size_t n, const char *key, unsigned value)
{
    int len = sprintf(v + n, "%s", key) + 1;
    len += sprintf(v + n + len, "%u", value) + 1;
    return n + (size_t)len;
}

/* A source object's properties as cfs_put.src_props: a Glance image's
 * user.glance.* attributes, and those a provider derived for the object
 * in the same vocabulary, user.cloudfs.props.* (a vCD template's
 * hardware), without the namespace (the target picks what it carries);
 * then min_ram and min_disk of the machine the source is (a server's
 * flavor), which an image's own properties win over (the first of a key
 * wins). */
static int source_props(const struct cfs_object *o, char **out, size_t *len)
{
    static const char *const prefixes[] = { "user.glance.", "user.cloudfs.props." };
    size_t n = 0;
    char *v = malloc(o->xattrs_len + 1 + 2 * 64);

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < 2; i++) {
        size_t plen = strlen(prefixes[i]);
        for (const char *q = o->xattrs; q && q < o->xattrs + o->xattrs_len;) {
            const char *value = q + strlen(q) + 1;
            size_t vlen = strlen(value) + 1;
            if (strncmp(q, prefixes[i], plen) == 0) {
                size_t klen = strlen(q + plen) + 1;
                memcpy(v + n, q + plen, klen);
                memcpy(v + n + klen, value, vlen);
                n += klen + vlen;
            }
            q = value + vlen;
        }
    }
    if (o->hw.memory_mb)
        n = add_prop(v, n, "min_ram", o->hw.memory_mb);
    if (o->hw.disk_gb)
        n = add_prop(v, n, "min_disk", o->hw.disk_gb);
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *len = n;
    return 0;
}

/* Opens the object at path again, as open() did for cp. -EOPNOTSUPP for
 * what is not a cloud object or view. */
static int open_source(struct cfs_mount *m, const char *path, struct cfs_copy *c)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(m, path, false, &node);

    if (err)
        return err;
    if (node.kind != NODE_FILE || node.entry->obj->is_dir) {
        cfs_node_release(&node);
        return -EOPNOTSUPP;
    }
    const struct cfs_object *o = node.entry->obj;
    bool checked = m->verify && o->digest_algo && o->digest_hex;
    if (node.entry->view == CFS_NATIVE) {
        unsigned flags =
            !m->verify ? CFS_OPEN_UNCHECKED : CFS_OPEN_NO_FILL | (checked ? CFS_OPEN_CHECKED : 0);
        err =
            node.mc->cloud->provider->open(node.mc->cloud, cfs_node_dir(&node), o, flags, &c->src);
        /* The target may not read every byte (a qcow2 converted for vCD
         * skips its refcounts): confirm() hashes what it left. */
        if (!err && checked)
            err = cfs_verify_open(c->src, o->digest_algo, o->digest_hex, c->from_path, false,
                                  &c->src);
        if (err)
            c->src = NULL; /* cfs_verify_open closed it */
        else if (checked && (!(c->digest_algo = strdup(o->digest_algo)) ||
                             !(c->digest_hex = strdup(o->digest_hex))))
            err = -ENOMEM;
    } else {
        err = cfs_view_open_node(m, &node, CFS_OPEN_NO_FILL, &c->src, NULL);
        /* A raw disk only (the others' decoders have a map), and without a
         * digest: the scan's read and the conversion's are checked by
         * nothing either way (a digest would cover one read). */
        enum cfs_view v = (enum cfs_view)node.entry->view;
        c->compact = !o->digest_hex && o->ext && strcmp(o->ext, "raw") == 0 &&
                     (v == CFS_VIEW_QCOW2 || v == CFS_VIEW_VMDK || v == CFS_VIEW_OVA ||
                      (v == CFS_VIEW_VHD && m->vhd == VHD_DYNAMIC));
    }
    if (!err)
        err = source_props(node.entry->obj, &c->props, &c->props_len);
    /* What the source's hardware has no equivalent for (a vCD template's,
     * or an earlier migration's): the target keeps it with the copy. */
    const char *warnings = cfs_object_xattr(node.entry->obj, "user.cloudfs.warnings");
    if (!err && warnings && !(c->warnings = strdup(warnings)))
        err = -ENOMEM;
    cfs_object_ovf(m, node.entry->obj, &c->ovf);
    cfs_node_release(&node);
    return err;
}

/* ---- the upload ---- */

/* The end of the upload waits for the source's digest (cfs_put.confirm). */
static int copy_confirm(void *ctx)
{
    struct cfs_copy *c = ctx;
    int err = cfs_source_finish(c->compact_src ? c->compact_src : c->src);
    return err == -ENODATA ? 0 : err; /* no digest: a vCD export, checked as it arrived */
}

/* The view laid out from the disk's zeros, for a copy that set compact:
 * 0 with c->compact_meter, -ENODATA when the listed view is already that
 * one, or the scan's -errno. */
static int open_compact(struct cfs_copy *c)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(c->m, c->from_path, false, &node);

    if (err)
        return err;
    err = cfs_view_open_scanned(c->m, &node, CFS_OPEN_NO_FILL, copy_cancelled, c, &c->compact_src);
    cfs_node_release(&node);
    if (!err)
        err = gate_open(c, c->compact_src, true, &c->compact_gate);
    if (!err)
        err = cfs_meter_source_open(c->compact_gate, c->xfer, &c->compact_meter);
    if (!err)
        cfs_transfer_set_total(c->xfer, c->compact_src->size);
    if (!err)
        cfs_log_info("upload of %s: %llu bytes, the view of %s without the disk's zeros",
                     c->p->path, (unsigned long long)c->compact_src->size, c->from_path);
    return err;
}

static void *run(void *arg)
{
    struct cfs_copy *c = arg;
    struct cfs_cloud *cloud = cfs_dircache_cloud(c->p->dc);
    int err = c->compact ? open_compact(c) : 0;
    char *cloud_fname = cfs_name_to_cloud(c->p->fname);
    struct cfs_put req = {
        .dir = cfs_dircache_dir(c->p->dc),
        .fname = cloud_fname,
        .content = c->compact_meter ? c->compact_meter : c->meter,
        .xattrs = c->xattrs,
        .xattrs_len = c->xattrs_len,
        .ovf = &c->ovf,
        .vmdk_zip = cfs_vmdk_zip(c->m),
        .vhd = c->m->vhd,
        .vhd_azure = c->m->opts.vhd_azure,
        .label = c->p->path,
        .src_props = c->props,
        .src_props_len = c->props_len,
        .src_warnings = c->warnings,
        .src_digest_algo = c->digest_algo,
        .src_digest_hex = c->digest_hex,
        .replace = c->p->replace,
        .marker = c->m->marker,
        .cancelled = copy_cancelled,
        .cancel_ctx = c,
        .confirm = copy_confirm,
        .confirm_ctx = c,
    };
    if (err == -ENODATA)
        err = 0;
    if (!err)
        err = cloud_fname ? cloud->provider->put(cloud, &req) : -ENOMEM;

    free(cloud_fname);
    if (err > 0)
        err = -EIO;
    if (err)
        cfs_log_error("upload of %s: failed after %.1f s: %s", c->p->path, cfs_now() - c->t0,
                      strerror(-err));
    else
        cfs_log_info("upload of %s: done in %.1f s", c->p->path, cfs_now() - c->t0);
    if (!err)
        cfs_upload_finish(c->p, c->p->fname, c->p->path);
    if (!err)
        cfs_dircache_invalidate(c->p->dc);
    cfs_pending_end_upload(c->p, err);
    cfs_transfer_end(c->xfer, err);
    pthread_mutex_lock(&copy_lock);
    c->err = err;
    c->done = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&copy_lock);
    return NULL;
}

static void copy_free(struct cfs_copy *c)
{
    cfs_source_close(c->compact_meter);
    cfs_source_close(c->compact_gate);
    cfs_source_close(c->compact_src);
    cfs_source_close(c->meter);
    cfs_source_close(c->gate);
    cfs_source_close(c->src);
    free(c->props);
    free(c->warnings);
    free(c->digest_algo);
    free(c->digest_hex);
    free(c->xattrs);
    free(c->from_path);
    if (c->p)
        cfs_pending_put(c->p);
    pthread_cond_destroy(&c->cond);
    free(c);
}

/* Why the first call cannot start a direct copy, or NULL. */
static const char *unfit(const struct cfs_handle *in, const struct cfs_handle *out,
                         const char *path_in, off_t off_in, off_t off_out)
{
    struct cfs_pending *p = out->pending;
    struct stat st;

    if (!in->src || in->pending || !path_in)
        return "the source is not a cloud object";
    if (off_in != off_out)
        return "different offsets in the two files";
    if (p->fname[0] == '.')
        return "the target is staged (a dot-file)";
    if (fstat(p->fd, &st) != 0 || st.st_size != 0 || cfs_pending_state(p) != 0)
        return "the target was written already";
    if (!cfs_dircache_cloud(p->dc)->provider->put)
        return "the target's cloud takes no uploads";
    return NULL;
}

/* The first call: 0 and *out, or -EOPNOTSUPP (logged) if the copy cannot
 * go direct; another -errno if it failed. */
static int start(struct cfs_handle *in, struct cfs_handle *out, const char *path_in, off_t off,
                 off_t off_out, size_t len, struct cfs_copy **out_c)
{
    struct cfs_mount *m = mount_of();
    struct cfs_pending *p = out->pending;
    const char *why = unfit(in, out, path_in, off, off_out);
    struct cfs_copy *c;
    uint64_t end;
    int err;

    if (why)
        goto refuse;
    end = clamp(in->src->size, (uint64_t)off, len);
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    pthread_cond_init(&c->cond, NULL);
    c->m = m;
    c->from = (uintptr_t)in;
    c->size = in->src->size;
    c->t0 = cfs_now();
    cfs_pending_hold(p);
    c->p = p;
    if (!(c->from_path = strdup(path_in))) {
        copy_free(c);
        return -ENOMEM;
    }
    err = open_source(m, path_in, c);
    if (err == -EOPNOTSUPP || (!err && c->src->size != c->size)) {
        why = err ? "the source is not a cloud object" : "the source changed size";
        copy_free(c);
        goto refuse;
    }
    if (!err && !is_hole(c->src, 0, (uint64_t)off)) {
        why = "the first range does not start at the source's first data";
        copy_free(c);
        goto refuse;
    }
    if (!err)
        err = cfs_pending_xattrs_copy(p, &c->xattrs, &c->xattrs_len);
    if (!err)
        err = gate_open(c, c->src, false, &c->gate);
    if (err) {
        cfs_log_error("upload of %s: cannot open %s for a copy: %s", p->path, path_in,
                      strerror(-err));
        copy_free(c);
        return err;
    }
    if (!cfs_pending_begin_upload(p)) {
        why = "the target is being uploaded";
        copy_free(c);
        goto refuse;
    }
    /* From here on the file is the copy's: writes through any handle fail. */
    p->direct = true;
    c->xfer = cfs_transfer_begin(p->path, path_in, CFS_XFER_COPY, c->size);
    err = cfs_meter_source_open(c->gate, c->xfer, &c->meter);
    c->end = end;
    cfs_spool_truncate(p->fd, end);
    cfs_log_info("upload of %s: %llu bytes to %s/%s, copied from %s", p->path,
                 (unsigned long long)c->size, cfs_dircache_cloud(p->dc)->name,
                 cfs_dircache_dir(p->dc), path_in);
    if (!err)
        err = -pthread_create(&c->thread, NULL, run, c);
    if (err) {
        cfs_log_error("upload of %s: cannot start: %s", p->path, strerror(-err));
        cfs_pending_end_upload(p, err);
        cfs_transfer_end(c->xfer, err);
        copy_free(c);
        return err;
    }
    *out_c = c;
    return 0;

refuse:
    cfs_log_debug("copy_file_range %s -> %s: %s; the kernel copies through read and write",
                  path_in ? path_in : "?", p->path, why);
    return -EOPNOTSUPP;
}

ssize_t cfs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in, off_t off_in,
                            const char *path_out, struct fuse_file_info *fi_out, off_t off_out,
                            size_t size, int flags)
{
    struct cfs_handle *in = cfs_handle_of(fi_in), *out = cfs_handle_of(fi_out);
    struct cfs_copy *c;
    uint64_t total, end;
    ssize_t r;

    (void)path_out;
    if (!in || !out || !out->pending || flags || off_in < 0 || off_out < 0)
        return -EOPNOTSUPP;
    pthread_mutex_lock(&copy_lock);
    c = out->copy;
    pthread_mutex_unlock(&copy_lock);
    if (!c) {
        if (in->src && !in->pending && (uint64_t)off_in >= in->src->size)
            return 0; /* past the end: nothing to start */
        int err = start(in, out, path_in, off_in, off_out, size, &c);
        if (err)
            return err;
        pthread_mutex_lock(&copy_lock);
        out->copy = c;
        pthread_mutex_unlock(&copy_lock);
        return (ssize_t)(c->end - (uint64_t)off_in);
    }

    pthread_mutex_lock(&copy_lock);
    total = c->size;
    if (c->failed) {
        r = -EIO;
    } else if ((uintptr_t)in != c->from || off_in != off_out) {
        fail_locked(c, "copy_file_range from another file or offset");
        r = -EIO;
    } else if ((uint64_t)off_in >= total) {
        r = 0;
    } else if ((uint64_t)off_in < c->end || !is_hole(c->src, c->end, (uint64_t)off_in)) {
        fail_locked(c, "copy_file_range out of order, or skipping data");
        r = -EIO;
    } else {
        end = clamp(total, (uint64_t)off_in, size);
        advance_locked(c, end);
        r = (ssize_t)(end - (uint64_t)off_in);
    }
    pthread_mutex_unlock(&copy_lock);
    return r;
}

int cfs_copy_write(struct cfs_handle *h, const char *buf, size_t size, off_t off)
{
    struct cfs_copy *c = h->copy;
    int r = -EIO;

    pthread_mutex_lock(&copy_lock);
    if (!c->failed && off >= 0 && (uint64_t)off >= c->end && size <= c->size &&
        (uint64_t)off <= c->size - size && is_hole(c->src, c->end, (uint64_t)off + size) &&
        cfs_all_zero(buf, size)) {
        advance_locked(c, (uint64_t)off + size);
        r = (int)size;
    } else {
        fail_locked(c, "a write() into a file being copied");
    }
    pthread_mutex_unlock(&copy_lock);
    return r;
}

int cfs_copy_truncate(struct cfs_handle *h, off_t size)
{
    struct cfs_copy *c = h->copy;
    int err = 0;

    pthread_mutex_lock(&copy_lock);
    if (c->failed)
        err = -EIO;
    else if ((uint64_t)size == c->end)
        ; /* nothing changes */
    else if ((uint64_t)size == c->size && is_hole(c->src, c->end, c->size))
        advance_locked(c, c->size);
    else {
        fail_locked(c, "ftruncate to another size than the source's");
        err = -EIO;
    }
    pthread_mutex_unlock(&copy_lock);
    return err;
}

/* Under copy_lock: waits for the upload; a copy cp left short is cancelled. */
static int wait_locked(struct cfs_copy *c)
{
    if (!c->done && c->end < c->size) {
        char why[96];
        snprintf(why, sizeof why, "closed at %llu of %llu bytes", (unsigned long long)c->end,
                 (unsigned long long)c->size);
        fail_locked(c, why);
    }
    while (!c->done)
        pthread_cond_wait(&c->cond, &copy_lock);
    return c->failed ? -EIO : c->err;
}

int cfs_copy_flush(struct cfs_handle *h)
{
    pthread_mutex_lock(&copy_lock);
    int err = wait_locked(h->copy);
    pthread_mutex_unlock(&copy_lock);
    return err;
}

void cfs_copy_release(struct cfs_handle *h)
{
    struct cfs_copy *c = h->copy;

    pthread_mutex_lock(&copy_lock);
    wait_locked(c);
    h->copy = NULL;
    pthread_mutex_unlock(&copy_lock);
    pthread_join(c->thread, NULL);
    copy_free(c);
}
