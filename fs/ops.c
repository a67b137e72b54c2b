/* The FUSE operations: paths to nodes, nodes to attributes, listings and
 * byte sources. Nothing here speaks HTTP, JSON or a format. */
#include "ops.h"
#include "log.h"
#include "mount.h"
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

struct cfs_handle {
    struct cfs_source *src;
    bool failed; /* a read failed: the pages the kernel holds are suspect */
};

static struct cfs_mount *mount_of(void)
{
    return fuse_get_context()->private_data;
}

static void dir_attr(const struct cfs_mount *m, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_atim = st->st_mtim = st->st_ctim = m->started;
}

static void file_attr(const struct cfs_mount *m, const struct cfs_object *o, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | 0444;
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

static int cfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_node node;
    int err;

    (void)fi;
    err = cfs_tree_resolve(m, path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_FILE)
        file_attr(m, node.entry->obj, st);
    else
        dir_attr(m, st);
    cfs_node_release(&node);
    return 0;
}

static int fill(void *buf, fuse_fill_dir_t filler, const char *name, const struct stat *st,
                bool plus)
{
    return filler(buf, name, st, 0, plus ? FUSE_FILL_DIR_PLUS : 0);
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
    if (node.kind == NODE_FILE) {
        cfs_node_release(&node);
        return -ENOTDIR;
    }
    dir_attr(m, &st);
    fill(buf, filler, ".", &st, plus);
    fill(buf, filler, "..", &st, plus);
    switch (node.kind) {
    case NODE_ROOT:
        for (size_t i = 0; i < m->n_clouds; i++)
            fill(buf, filler, m->clouds[i].cloud->name, &st, plus);
        break;
    case NODE_CLOUD:
        for (size_t i = 0; i < node.mc->n_dirs; i++)
            fill(buf, filler, node.mc->cloud->provider->dirs[i], &st, plus);
        break;
    case NODE_DIR:
        fill(buf, filler, CFS_BY_ID, &st, plus);
        for (size_t i = 0; i < node.snap->n_names; i++) {
            file_attr(m, node.snap->names[i].obj, &st);
            fill(buf, filler, node.snap->names[i].fname, &st, plus);
        }
        break;
    case NODE_BYID:
        for (size_t i = 0; i < node.snap->n_ids; i++) {
            file_attr(m, node.snap->ids[i].obj, &st);
            fill(buf, filler, node.snap->ids[i].fname, &st, plus);
        }
        break;
    case NODE_FILE:
        break;
    }
    cfs_node_release(&node);
    return 0;
}

static int cfs_open(const char *path, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_node node;
    struct cfs_handle *h;
    int err;

    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    err = cfs_tree_resolve(m, path, false, &node);
    if (err)
        return err;
    if (node.kind != NODE_FILE) {
        cfs_node_release(&node);
        return -EISDIR;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        cfs_node_release(&node);
        return -ENOMEM;
    }
    const struct cfs_provider *p = node.mc->cloud->provider;
    err = p->open(node.mc->cloud, p->dirs[node.dir], node.entry->obj, &h->src);
    if (err) {
        free(h);
        cfs_node_release(&node);
        return err;
    }
    /* Active images never change: the page cache may keep their pages. */
    fi->keep_cache = node.entry->obj->immutable;
    fi->fh = (uintptr_t)h;
    cfs_node_release(&node);
    return 0;
}

static int cfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct cfs_handle *h = (struct cfs_handle *)(uintptr_t)fi->fh;
    size_t done = 0;

    (void)path;
    if (off < 0)
        return -EINVAL;
    while (done < size) {
        ssize_t n = cfs_source_pread(h->src, buf + done, size - done, (uint64_t)off + done);
        if (n < 0) {
            h->failed = true;
            return done ? (int)done : (int)n;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (int)done;
}

static int cfs_release(const char *path, struct fuse_file_info *fi)
{
    struct cfs_handle *h = (struct cfs_handle *)(uintptr_t)fi->fh;
    /* After a failed read (a digest mismatch above all) the kernel must not
     * serve the pages it cached to the next reader. Not from read(): the
     * kernel holds those pages locked there. */
    if (h->failed && path)
        fuse_invalidate_path(fuse_get_context()->fuse, path);
    cfs_source_close(h->src);
    free(h);
    return 0;
}

/* Metadata as extended attributes (DESIGN.md §1): getfattr -d -m - FILE. */
static int cfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(mount_of(), path, false, &node);
    const char *v;

    if (err)
        return err;
    v = node.kind == NODE_FILE ? cfs_object_xattr(node.entry->obj, name) : NULL;
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
    if (node.kind == NODE_FILE) {
        const struct cfs_object *o = node.entry->obj;
        /* The names are every other string of the pairs. */
        for (const char *p = o->xattrs; p && p < o->xattrs + o->xattrs_len;) {
            size_t len = strlen(p) + 1;
            const char *value = p + len;
            if (size && n + len <= size)
                memcpy(list + n, p, len);
            n += len;
            p = value + strlen(value) + 1;
        }
    }
    cfs_node_release(&node);
    if (size && n > size)
        return -ERANGE;
    return (int)n;
}

static int cfs_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = 128 * 1024;
    sv->f_frsize = 512;
    sv->f_namemax = 255;
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
    /* Large reads: fewer round trips through the kernel. */
    conn->max_readahead = 1u << 20;
    conn->max_write = 1u << 20;
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
};
