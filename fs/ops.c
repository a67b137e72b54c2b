/* The FUSE operations: paths to nodes, nodes to attributes, listings and
 * byte sources. Nothing here speaks HTTP, JSON or a format. */
#define _GNU_SOURCE
#include "ops.h"
#include "copy.h"
#include "handle.h"
#include "log.h"
#include "mount.h"
#include "opensize.h"
#include "status_file.h"
#include "tree.h"
#include "util.h"
#include "verified.h"
#include "viewinfo.h"
#include "views.h"
#include "write.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static struct cfs_mount *mount_of(void)
{
    return fuse_get_context()->private_data;
}

static void dir_attr(const struct cfs_mount *m, struct stat *st, mode_t mode)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFDIR | cfs_mount_mode(m, mode);
    st->st_nlink = 2;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_atim = st->st_mtim = st->st_ctim = m->started;
}

/* A directory files can be created in is writable: 0777, else 0555,
 * less umask= (dir_attr; the kernel checks these bits:
 * default_permissions). */
static mode_t dir_mode(const struct cfs_node *node)
{
    if (node->kind != NODE_DIR)
        return 0555;
    return cfs_dircache_can_put(node->dc, NULL) == 0 ? 0777 : 0555;
}

static void file_attr(const struct cfs_mount *m, const struct cfs_object *o, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | cfs_mount_mode(m, 0444);
    st->st_nlink = 1;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_size = (off_t)o->size;
    st->st_blocks = (blkcnt_t)((o->size + 511) / 512);
    st->st_blksize = 128 * 1024;
    st->st_mtim = o->mtime;
    st->st_atim = o->mtime;
    st->st_ctim = o->ctime;
}

/* The key of a file (an object's bytes or one of its views) whose size
 * is known only once opened. */
static char *open_key(const struct cfs_node *node)
{
    const struct cfs_object *o = node->entry->obj;
    return cfs_printf("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%lld\x1f%d", node->mc->cloud->name,
                      cfs_node_dir(node), o->id, o->name, o->ext ? o->ext : "",
                      (long long)o->mtime.tv_sec, node->entry->view);
}

/* A native file, or any file of a size_at_open object (a server's views
 * too: their size needs the snapshot, which a stat must not take).
 * size_at_open objects say 0 until an open found their size: then the
 * open handle's source, else the size that open found. */
static void native_attr(const struct cfs_mount *m, const struct cfs_node *node,
                        const struct cfs_handle *h, struct stat *st)
{
    const struct cfs_object *o = node->entry->obj;
    uint64_t size = 0;
    file_attr(m, o, st);
    if (!o->size_at_open)
        return;
    if (h && h->src) {
        size = h->src->size;
    } else {
        char *key = open_key(node);
        if (!key || !cfs_opensize_get(m->opensize, key, &size))
            size = 0;
        free(key);
    }
    st->st_size = (off_t)size;
    st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

/* A view: its size from the image's metadata; blocks count only the data
 * (a .raw view is sparse, so cp and rsync skip its holes). */
static void view_attr(const struct cfs_mount *m, const struct cfs_object *o,
                      const struct cfs_view_stat *vs, struct stat *st)
{
    file_attr(m, o, st);
    st->st_size = (off_t)vs->size;
    st->st_blocks = (blkcnt_t)vs->blocks;
}

static int cfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_handle *h = cfs_handle_of(fi);
    struct cfs_node node;
    int err;

    if (h && h->pending) {
        cfs_pending_attr(m, h->pending, st);
        return 0;
    }
    err = cfs_tree_resolve(m, path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        cfs_pending_attr(m, node.pending, st);
    } else if (node.kind == NODE_STATUS) {
        cfs_status_attr(m, st);
    } else if (node.kind != NODE_FILE) {
        dir_attr(m, st, dir_mode(&node));
    } else if (node.entry->view == CFS_NATIVE || node.entry->obj->size_at_open) {
        native_attr(m, &node, h, st);
    } else {
        struct cfs_view_stat vs;
        /* The first view looked up in a listing: `ls -l` is likely to ask
         * for all of them, so find the others meanwhile, a few at a time. */
        if (!cfs_viewinfo_peek(m, &node, &vs))
            cfs_viewinfo_warm(m, &node);
        else
            free(vs.warnings);
        err = cfs_viewinfo_get(m, &node, &vs);
        if (!err) {
            view_attr(m, node.entry->obj, &vs, st);
            free(vs.warnings);
        }
    }
    cfs_node_release(&node);
    return err;
}

static int fill(void *buf, fuse_fill_dir_t filler, const char *name, const struct stat *st,
                bool plus)
{
    return filler(buf, name, st, 0, plus ? FUSE_FILL_DIR_PLUS : 0);
}

/* A file entry; a view whose size is not known yet goes without its
 * attributes, so that a plain `ls` reads no image metadata (the kernel
 * looks such an entry up when something stats it). */
static void fill_entry(struct cfs_mount *m, const struct cfs_node *dir, const struct cfs_entry *e,
                       void *buf, fuse_fill_dir_t filler, bool plus)
{
    struct stat st;
    struct cfs_node node = *dir;
    struct cfs_view_stat vs;
    node.kind = NODE_FILE;
    node.entry = e;
    if (e->obj->is_dir) {
        /* Its mode needs the provider's can_put: left to its lookup. */
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFDIR | cfs_mount_mode(m, 0555);
        fill(buf, filler, e->fname, &st, false);
        return;
    }
    if (e->view == CFS_NATIVE || e->obj->size_at_open) {
        native_attr(m, &node, NULL, &st);
        fill(buf, filler, e->fname, &st, plus);
        return;
    }
    if (plus && cfs_viewinfo_peek(m, &node, &vs)) {
        view_attr(m, e->obj, &vs, &st);
        free(vs.warnings);
        fill(buf, filler, e->fname, &st, true);
        return;
    }
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | cfs_mount_mode(m, 0444);
    fill(buf, filler, e->fname, &st, false);
}

struct pending_names {
    char **v;
    size_t n, cap;
};

static void add_pending_name(void *ctx, struct cfs_pending *p)
{
    struct pending_names *pn = ctx;
    if (pn->n == pn->cap) {
        size_t cap = pn->cap ? 2 * pn->cap : 8;
        char **v = realloc(pn->v, cap * sizeof *v);
        if (!v)
            return;
        pn->v = v;
        pn->cap = cap;
    }
    if ((pn->v[pn->n] = strdup(p->fname)))
        pn->n++;
}

static bool is_pending_name(const struct pending_names *pn, const char *fname)
{
    for (size_t i = 0; i < pn->n; i++)
        if (strcmp(pn->v[i], fname) == 0)
            return true;
    return false;
}

/* A listed directory: files being written first (they win a tie with a
 * listed object, as in lookups), then the listing. */
static void fill_dir(struct cfs_mount *m, const char *path, const struct cfs_node *node, void *buf,
                     fuse_fill_dir_t filler, bool plus)
{
    struct pending_names pn = { 0 };
    struct stat st;

    cfs_pending_each(m->pending, path, add_pending_name, &pn);
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | cfs_mount_mode(m, 0666);
    for (size_t i = 0; i < pn.n; i++)
        fill(buf, filler, pn.v[i], &st, false);
    for (size_t i = 0; i < node->snap->n_names; i++)
        if (!is_pending_name(&pn, node->snap->names[i].fname))
            fill_entry(m, node, &node->snap->names[i], buf, filler, plus);
    for (size_t i = 0; i < pn.n; i++)
        free(pn.v[i]);
    free(pn.v);
}

static int cfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct cfs_mount *m = mount_of();
    bool plus = flags & FUSE_READDIR_PLUS;
    struct cfs_node node;
    struct stat st;
    int err;

    (void)off, (void)fi;
    err = cfs_tree_resolve(m, path, true, &node);
    if (err)
        return err;
    if (node.kind == NODE_FILE || node.kind == NODE_PENDING || node.kind == NODE_STATUS) {
        cfs_node_release(&node);
        return -ENOTDIR;
    }
    dir_attr(m, &st, 0555);
    fill(buf, filler, ".", &st, plus);
    fill(buf, filler, "..", &st, plus);
    switch (node.kind) {
    case NODE_ROOT:
        fill(buf, filler, CFS_CTL_DIR, &st, plus);
        for (size_t i = 0; i < m->n_clouds; i++)
            fill(buf, filler, m->clouds[i].cloud->name, &st, plus);
        break;
    case NODE_CTL:
        cfs_status_attr(m, &st);
        fill(buf, filler, CFS_CTL_STATUS, &st, plus);
        break;
    case NODE_CLOUD:
        for (size_t i = 0; i < node.mc->n_dirs; i++)
            fill(buf, filler, node.mc->cloud->provider->dirs[i], &st, plus);
        break;
    case NODE_DIR:
        if (cfs_tree_has_by_id(&node))
            fill(buf, filler, CFS_BY_ID, &st, plus);
        fill_dir(m, path, &node, buf, filler, plus);
        break;
    case NODE_BYID:
        for (size_t i = 0; i < node.snap->n_ids; i++)
            fill_entry(m, &node, &node.snap->ids[i], buf, filler, plus);
        break;
    case NODE_FILE:
    case NODE_PENDING:
    case NODE_STATUS:
        break;
    }
    cfs_node_release(&node);
    return 0;
}

/* open() prepared an object whose size was not known (an export): stat
 * answers it from now on. The high-level API has no per-file attribute
 * timeout, and a mount-wide attr_timeout of 0 would cost a GETATTR per
 * read (auto_inval_data asks for fresh attributes before each read), so
 * the kernel is told to forget the 0 it holds for this file instead: its
 * next fstat, and the size check before a read past the old end, ask
 * again. Not cached in pages either (keep_cache stays off). */
static void found_size(struct cfs_mount *m, const char *path, const struct cfs_node *node,
                       uint64_t size)
{
    char *key = open_key(node);
    if (key)
        cfs_opensize_set(m->opensize, key, size);
    free(key);
    fuse_invalidate_path(fuse_get_context()->fuse, path);
}

static int cfs_open(const char *path, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_node node;
    struct cfs_handle *h;
    int err;

    err = cfs_tree_resolve(m, path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        err = cfs_write_open(m, &node, fi);
        cfs_node_release(&node);
        return err;
    }
    if (node.kind == NODE_STATUS) {
        cfs_node_release(&node);
        return cfs_status_open(fi);
    }
    if (node.kind != NODE_FILE) {
        cfs_node_release(&node);
        return -EISDIR;
    }
    /* Cloud objects never change in place (root passes the mode check):
     * writing to a name the cloud already has is a duplicate (DESIGN.md §6). */
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
        cfs_node_release(&node);
        return -EEXIST;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        cfs_node_release(&node);
        return -ENOMEM;
    }
    const struct cfs_provider *p = node.mc->cloud->provider;
    if (node.entry->view == CFS_NATIVE)
        err = p->open(node.mc->cloud, cfs_node_dir(&node), node.entry->obj,
                      m->verify ? 0 : CFS_OPEN_UNCHECKED, &h->src);
    else
        err = cfs_view_open_node(m, &node, 0, &h->src, NULL);
    if (err) {
        free(h);
        cfs_node_release(&node);
        return err;
    }
    /* Active images never change, so the kernel may keep their pages, but
     * only once a complete read matched the cloud's digest: a complete
     * read of partly cached pages would otherwise not be checked. A whole
     * read of a view checks the image too; the views of an object with no
     * digest (a vCD export, checked as it arrives) keep their pages. */
    fi->keep_cache = node.entry->obj->immutable &&
                     (!m->verify || cfs_verified_has(m, node.entry->obj, node.entry->view) ||
                      (node.entry->view != CFS_NATIVE && !node.entry->obj->digest_hex));
    h->obj_key = cfs_verified_key(node.entry->obj, node.entry->view);
    if (node.entry->obj->size_at_open)
        found_size(m, path, &node, h->src->size);
    fi->fh = (uintptr_t)h;
    cfs_node_release(&node);
    return 0;
}

static int cfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct cfs_handle *h = cfs_handle_of(fi);
    size_t done = 0;

    (void)path;
    if (off < 0)
        return -EINVAL;
    if (h->pending)
        return cfs_write_read(h, buf, size, off);
    while (done < size) {
        ssize_t n = cfs_source_pread(h->src, buf + done, size - done, (uint64_t)off + done);
        if (n < 0) {
            /* Never a short count: the kernel would take it for the end
             * of the file, and a copy would end "successfully". */
            h->failed = true;
            return (int)n;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (int)done;
}

static int cfs_release(const char *path, struct fuse_file_info *fi)
{
    struct cfs_handle *h = cfs_handle_of(fi);
    if (h->pending) {
        cfs_write_release(h, path);
        return 0;
    }
    /* After a failed read (a digest mismatch above all) the kernel must not
     * serve the pages it cached to the next reader. Not from read(): the
     * kernel holds those pages locked there. */
    if (h->failed && path)
        fuse_invalidate_path(fuse_get_context()->fuse, path);
    if (h->src->verified && h->obj_key)
        cfs_verified_add(mount_of(), h->obj_key);
    free(h->obj_key);
    cfs_source_close(h->src);
    free(h);
    return 0;
}

/* Attributes of a view besides its image's: which view, OVF warnings. */
static const char *const view_xattrs[] = { "user.cloudfs.view", "user.cloudfs.warnings" };

/* A view's own attribute: not its image's of the same name (a migrated
 * image's user.cloudfs.warnings are not its .ovf view's). */
static bool is_view_xattr(const struct cfs_node *node, const char *name)
{
    for (size_t i = 0; node->kind == NODE_FILE && node->entry->view != CFS_NATIVE &&
                       i < CFS_ARRAY_SIZE(view_xattrs);
         i++)
        if (strcmp(name, view_xattrs[i]) == 0)
            return true;
    return false;
}

static char *view_xattr(struct cfs_mount *m, const struct cfs_node *node, const char *name)
{
    struct cfs_view_stat vs;
    if (node->entry->view == CFS_NATIVE)
        return NULL;
    if (strcmp(name, view_xattrs[0]) == 0)
        return strdup(cfs_view_ext((enum cfs_view)node->entry->view));
    /* Not for size_at_open objects: the warnings would cost a snapshot. */
    if (strcmp(name, view_xattrs[1]) == 0 && !node->entry->obj->size_at_open &&
        cfs_viewinfo_get(m, node, &vs) == 0)
        return vs.warnings; /* NULL: none */
    return NULL;
}

/* Metadata as extended attributes (DESIGN.md §1): getfattr -d -m - FILE. */
static int cfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct cfs_mount *m = mount_of();
    struct cfs_node node;
    int err = cfs_tree_resolve(m, path, false, &node);
    const char *v;

    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        err = cfs_pending_getxattr(node.pending, name, value, size);
        cfs_node_release(&node);
        return err;
    }
    v = node.kind == NODE_FILE && !is_view_xattr(&node, name)
            ? cfs_object_xattr(node.entry->obj, name)
            : NULL;
    char *extra = NULL;
    if (!v && node.kind == NODE_FILE)
        v = extra = view_xattr(m, &node, name);
    if (!v)
        err = -ENODATA;
    else if (size == 0)
        err = (int)strlen(v);
    else if (strlen(v) > size)
        err = -ERANGE;
    else {
        memcpy(value, v, strlen(v));
        err = (int)strlen(v);
    }
    free(extra);
    cfs_node_release(&node);
    return err;
}

static int cfs_listxattr(const char *path, char *list, size_t size)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(mount_of(), path, false, &node);
    size_t n = 0;

    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        err = cfs_pending_listxattr(node.pending, list, size);
        cfs_node_release(&node);
        return err;
    }
    if (node.kind == NODE_FILE) {
        const struct cfs_object *o = node.entry->obj;
        /* The names are every other string of the pairs. */
        for (const char *p = o->xattrs; p && p < o->xattrs + o->xattrs_len;) {
            size_t len = strlen(p) + 1;
            const char *value = p + len;
            bool shadowed = is_view_xattr(&node, p);
            if (size && n + len <= size && !shadowed)
                memcpy(list + n, p, len);
            n += shadowed ? 0 : len;
            p = value + strlen(value) + 1;
        }
        for (size_t i = 0; i < CFS_ARRAY_SIZE(view_xattrs); i++) {
            char *v = view_xattr(mount_of(), &node, view_xattrs[i]);
            size_t len = strlen(view_xattrs[i]) + 1;
            if (!v)
                continue;
            free(v);
            if (size && n + len <= size)
                memcpy(list + n, view_xattrs[i], len);
            n += len;
        }
    }
    cfs_node_release(&node);
    if (size && n > size)
        return -ERANGE;
    return (int)n;
}

/* SEEK_DATA / SEEK_HOLE from the allocation map of the file's source, at
 * grain granularity: cp and rsync skip the holes of a .raw view. */
static off_t cfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
    struct cfs_handle *h = cfs_handle_of(fi);

    (void)path;
    if (off < 0 || (whence != SEEK_DATA && whence != SEEK_HOLE))
        return -EINVAL;
    if (h->pending) {
        off_t r = lseek(h->pending->fd, off, whence);
        return r < 0 ? -errno : r;
    }
    const struct cfs_alloc *a = h->src->alloc;
    uint64_t size = h->src->size, pos = (uint64_t)off;

    if (pos >= size)
        return -ENXIO;
    for (uint64_t g = pos >> CFS_GRAIN_SHIFT; a && g < a->n_grains; g++) {
        if (cfs_alloc_test(a, g) == (whence == SEEK_DATA)) {
            uint64_t at = g << CFS_GRAIN_SHIFT;
            return (off_t)(at > pos ? at : pos);
        }
    }
    if (!a)
        return whence == SEEK_DATA ? off : (off_t)size;
    return whence == SEEK_DATA ? -ENXIO : (off_t)size;
}

/* Free space is what a write may still spool: the cache directory's
 * file system less the reserve that writes leave free (df shows it). */
static int cfs_statfs(const char *path, struct statvfs *sv)
{
    struct cfs_mount *m = mount_of();
    struct statvfs c;

    (void)path;
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = 128 * 1024;
    sv->f_frsize = 512;
    sv->f_namemax = 255;
    if (m->cache_dir && statvfs(m->cache_dir, &c) == 0) {
        uint64_t unit = c.f_frsize ? c.f_frsize : c.f_bsize, reserve = m->cache_reserve_bytes;
        uint64_t avail = (uint64_t)c.f_bavail * unit, free_b = (uint64_t)c.f_bfree * unit;
        sv->f_blocks = (fsblkcnt_t)((uint64_t)c.f_blocks * unit / 512);
        sv->f_bfree = (fsblkcnt_t)((free_b > reserve ? free_b - reserve : 0) / 512);
        sv->f_bavail = (fsblkcnt_t)((avail > reserve ? avail - reserve : 0) / 512);
    }
    return 0;
}

/* The kernel reads ahead only 128 KiB on a FUSE mount unless its bdi says
 * more (DESIGN.md §3). Raising it needs root; without it reads still work. */
static void *tune_readahead(void *arg)
{
    struct cfs_mount *m = arg;
    struct stat st;
    char path[64];

    if (stat(m->mountpoint, &st) != 0)
        return NULL;
    snprintf(path, sizeof path, "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    FILE *f = fopen(path, "we");
    if (!f) {
        cfs_log_debug("read-ahead stays at the kernel's default (%s: %s)", path, strerror(errno));
        return NULL;
    }
    fprintf(f, "%u\n", m->opts.read_ahead_kb);
    if (fclose(f) == 0)
        cfs_log_debug("kernel read-ahead set to %u KiB", m->opts.read_ahead_kb);
    return NULL;
}

static void *cfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    struct cfs_mount *m = fuse_get_context()->private_data;

    if (!m->opts.foreground)
        cfs_log_use_syslog();
    cfg->entry_timeout = m->opts.list_ttl;
    cfg->attr_timeout = m->opts.list_ttl;
    cfg->negative_timeout = m->opts.list_ttl;
    /* An unlinked file being written is dropped at once; its handles keep
     * the spool. Not libfuse's rename to .fuse_hidden*, which would be a
     * rename the write path refuses. */
    cfg->hard_remove = 1;
    /* Large reads: fewer round trips through the kernel. */
    conn->max_readahead = 1u << 20;
    conn->max_write = 1u << 20;
    conn->max_read = m->opts.max_read;
    if (m->opts.read_ahead_kb && m->mountpoint) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, tune_readahead, m) == 0)
            pthread_detach(tid);
    }
    cfs_log_info("mounted %zu cloud%s at %s", m->n_clouds, m->n_clouds == 1 ? "" : "s",
                 m->mountpoint ? m->mountpoint : "?");
    return m;
}

const struct fuse_operations cfs_ops = {
    .init = cfs_init,
    .getattr = cfs_getattr,
    .readdir = cfs_readdir,
    .open = cfs_open,
    .read = cfs_read,
    .release = cfs_release,
    .statfs = cfs_statfs,
    .getxattr = cfs_getxattr,
    .listxattr = cfs_listxattr,
    .lseek = cfs_lseek,
    .create = cfs_write_create,
    .write = cfs_write_write,
    .truncate = cfs_write_truncate,
    .flush = cfs_write_flush,
    .fsync = cfs_write_fsync,
    .unlink = cfs_write_unlink,
    .mkdir = cfs_write_mkdir,
    .rmdir = cfs_write_rmdir,
    .rename = cfs_write_rename,
    .chmod = cfs_write_chmod,
    .chown = cfs_write_chown,
    .utimens = cfs_write_utimens,
    .setxattr = cfs_write_setxattr,
    .removexattr = cfs_write_removexattr,
    .copy_file_range = cfs_copy_file_range,
};
