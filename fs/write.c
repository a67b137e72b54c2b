/* The write path's FUSE operations (DESIGN.md §5), shaped as libfuse's
 * example/passthrough: create/write/truncate/flush/release over a spool
 * file. Decisions:
 * - A file is uploaded when a handle that wrote or truncated it is
 *   flushed (close()) by the process that opened it, synchronously:
 *   close() returns put()'s result. Once per write burst: a dup'ed fd's
 *   second close uploads nothing. Every close of an inherited descriptor
 *   flushes too (a forked child exiting, a shell's subprocess), and must
 *   not upload a half-written file: those are skipped; if the opener
 *   never closes it (the fd went elsewhere), release() uploads, and only
 *   the log tells the result.
 * - Dot-files (rsync's ".name.XXXXXX") are staged: never uploaded on
 *   close, only when renamed to a visible name in the same directory,
 *   and rename() returns the upload's result. rsync closes its temporary
 *   file before renaming it, so staged files outlive their handles
 *   (fs/pending.h: the linger time).
 * - A second create of a name being written: EBUSY. A name the cloud
 *   lists: EEXIST, unless allow_delete: then put() replaces the object
 *   (rsync's rename over an existing name; the new object is made first).
 * - utimens stores the time on the cloud object (provider set_mtime), so
 *   a second rsync -a finds the file unchanged. On a file being written
 *   the time is kept and stored once its upload succeeded (rsync sets it
 *   on its temporary file, then renames; cp -p before close), on the
 *   object named like the file (or, failing that, like the file without
 *   its extension: a vCD template made from x.qcow2).
 * - unlink of a cloud object deletes it with allow_delete (every file
 *   and view of one image or template names the same object: removing
 *   one removes them all), else EACCES.
 * - rename: fs/rename.c.
 * - chmod/chown succeed without effect (rsync -a must not fail on them);
 *   mkdir/rmdir EPERM. */
#define _GNU_SOURCE
#include "write.h"
#include "copy.h"
#include "forget.h"
#include "log.h"
#include "spool.h"
#include "pending_upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cfs_mount *mount_of(void)
{
    return fuse_get_context()->private_data;
}

/* Files unlinked while open stay writable (their bytes go nowhere). */
static int writable(struct cfs_pending *p)
{
    int err = cfs_pending_state(p);
    return err == -ENOENT ? 0 : err;
}

void cfs_pending_attr(const struct cfs_mount *m, const struct cfs_pending *p, struct stat *st)
{
    struct stat s;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | cfs_mount_mode(m, 0666);
    st->st_nlink = 1;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_blksize = 128 * 1024;
    st->st_ctim = st->st_mtim = st->st_atim = p->ctime;
    if (fstat(p->fd, &s) == 0) {
        st->st_size = s.st_size;
        st->st_blocks = s.st_blocks;
        st->st_mtim = st->st_atim = s.st_mtim;
    }
    cfs_pending_mtime(p, &st->st_mtim);
}

/* The node of path's parent and path's last component. */
static int resolve_parent(struct cfs_mount *m, const char *path, struct cfs_node *node,
                          char name[256])
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1])
        return -EINVAL;
    if (strlen(slash + 1) >= 256)
        return -ENAMETOOLONG;
    strcpy(name, slash + 1);
    char *parent = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (!parent)
        return -ENOMEM;
    int err = cfs_tree_resolve(m, parent, false, node);
    free(parent);
    return err;
}

/* The process of a thread (FUSE requests carry the thread's id). */
static pid_t tgid_of(pid_t tid)
{
    char path[64], line[128];
    pid_t tgid = tid;
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Tgid: %d", &tgid) == 1)
            break;
    if (f)
        fclose(f);
    return tgid;
}

static int new_handle(struct cfs_pending *p, struct fuse_file_info *fi)
{
    struct cfs_handle *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->pending = p;
    h->owner = tgid_of(fuse_get_context()->pid);
    cfs_pending_opened(p);
    fi->fh = (uintptr_t)h;
    fi->direct_io = 0;
    fi->keep_cache = 0;
    return 0;
}

/* May files be created in node? One log line the first time not. */
static int may_create(const char *path, const struct cfs_node *node, const char *name)
{
    struct cfs_snapshot *snap;
    bool first = false;
    int err;

    if (node->kind != NODE_DIR)
        return -EACCES; /* the root, a cloud, by-id/: no objects are made there */
    if (node->top && strcmp(name, CFS_BY_ID) == 0)
        return -EEXIST;
    err = cfs_dircache_can_put(node->dc, &first);
    if (err) {
        if (first)
            cfs_log_info("%s: files cannot be created in %s/%s: %s", path, node->mc->cloud->name,
                         cfs_node_dir(node), strerror(-err));
        return err;
    }
    /* An unreadable listing is not a refusal: put() will tell. */
    if (cfs_dircache_get(node->dc, &snap) == 0) {
        if (cfs_snapshot_find(snap, name))
            err = -EEXIST;
        cfs_snapshot_put(snap);
    }
    return err;
}

int cfs_write_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_pending *p;
    struct cfs_node node;
    char name[256];
    int fd, err;

    (void)mode; /* files of clouds are 0666 while written, 0444 after (less umask=) */
    err = resolve_parent(m, path, &node, name);
    if (err)
        return err;
    err = may_create(path, &node, name);
    if (err)
        goto out;
    err = cfs_spool_create(m->cache_dir, &fd);
    if (err) {
        cfs_log_error("%s: cannot create a spool file in %s: %s", path, m->cache_dir,
                      strerror(-err));
        goto out;
    }
    err = cfs_pending_add(m->pending, path, node.dc, fd, &p);
    if (err)
        goto out;
    p->replace = m->opts.allow_delete; /* nobody else sees p yet */
    err = new_handle(p, fi);
    if (err) {
        cfs_pending_drop(p);
        cfs_pending_put(p);
    }
out:
    cfs_node_release(&node);
    return err;
}

int cfs_write_open(struct cfs_mount *m, struct cfs_node *node, struct fuse_file_info *fi)
{
    struct cfs_pending *p = node->pending;
    int err = 0;

    (void)m;
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        err = writable(p);
    if (!err && (fi->flags & O_TRUNC))
        err = cfs_spool_truncate(p->fd, 0);
    if (err)
        return err;
    cfs_pending_hold(p);
    err = new_handle(p, fi);
    if (err) {
        cfs_pending_put(p);
        return err;
    }
    cfs_handle_of(fi)->dirty = fi->flags & O_TRUNC;
    return 0;
}

int cfs_write_read(struct cfs_handle *h, char *buf, size_t size, off_t off)
{
    if (h->pending->direct)
        return -EBUSY; /* the bytes go from cloud to cloud, not through here */
    return (int)cfs_spool_read(h->pending->fd, buf, size, (uint64_t)off);
}

/* A write that would eat into the reserve drops the file at once
 * (DESIGN.md §5): its space is given back, and every later write and
 * the close answer ENOSPC. */
static void out_of_space(struct cfs_mount *m, struct cfs_pending *p, int err)
{
    cfs_log_error("%s: %s: the cache directory %s keeps %llu MiB free; the file is dropped",
                  p->path, strerror(-err), m->cache_dir,
                  (unsigned long long)(m->cache_reserve_bytes >> 20));
    cfs_spool_truncate(p->fd, 0);
    cfs_pending_fail(p, -ENOSPC);
}

int cfs_write_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_handle *h = cfs_handle_of(fi);
    struct cfs_pending *p = h->pending;
    ssize_t n;
    int err;

    (void)path;
    if (!p)
        return -EBADF;
    if (h->copy)
        return cfs_copy_write(h, buf, size, off);
    if (off < 0)
        return -EINVAL;
    err = writable(p);
    if (err)
        return err;
    n = cfs_spool_write(p->fd, buf, size, (uint64_t)off, m->cache_reserve_bytes);
    if (n == -ENOSPC || n == -EDQUOT) {
        out_of_space(m, p, (int)n);
        return -ENOSPC;
    }
    if (n >= 0)
        h->dirty = true;
    return (int)n;
}

int cfs_write_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct cfs_mount *m = mount_of();
    struct cfs_handle *h = cfs_handle_of(fi);
    struct cfs_node node;
    int err;

    if (size < 0)
        return -EINVAL;
    if (h) {
        if (!h->pending)
            return -EACCES;
        if (h->copy)
            return cfs_copy_truncate(h, size);
        err = writable(h->pending);
        if (!err)
            err = cfs_spool_truncate(h->pending->fd, (uint64_t)size);
        if (!err)
            h->dirty = true;
        return err;
    }
    /* truncate(2) by path: no handle to upload it on close; a staged file
     * is uploaded when renamed, and that is what truncates by path. */
    err = cfs_tree_resolve(m, path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        err = writable(node.pending);
        if (!err)
            err = cfs_spool_truncate(node.pending->fd, (uint64_t)size);
    } else {
        err = node.kind == NODE_FILE ? -EACCES : -EISDIR;
    }
    cfs_node_release(&node);
    return err;
}

int cfs_write_flush(const char *path, struct fuse_file_info *fi)
{
    struct cfs_handle *h = cfs_handle_of(fi);
    struct cfs_pending *p = h ? h->pending : NULL;
    int err;

    (void)path; /* NULL once unlinked: p->path names it */
    if (h && h->copy)
        return tgid_of(fuse_get_context()->pid) == h->owner ? cfs_copy_flush(h) : 0;
    if (!p || !h->dirty || tgid_of(fuse_get_context()->pid) != h->owner)
        return 0;
    h->dirty = false;
    err = cfs_pending_state(p);
    if (err == -EROFS || err == -ENOENT)
        return 0; /* uploaded through another handle; unlinked */
    if (err)
        return err;
    if (cfs_write_staged(p->fname))
        return 0;
    return cfs_upload(p, p->fname, &mount_of()->ovf, p->path);
}

int cfs_write_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    /* Nothing reaches the cloud before close; the spool needs no sync. */
    (void)path, (void)datasync, (void)fi;
    return 0;
}

void cfs_write_release(struct cfs_handle *h, const char *path)
{
    struct cfs_pending *p = h->pending;
    if (h->copy)
        cfs_copy_release(h);
    if (h->dirty && !cfs_write_staged(p->fname) && cfs_pending_state(p) == 0) {
        cfs_log_info("%s: closed last by a process that did not open it: uploading now", p->path);
        cfs_upload(p, p->fname, &mount_of()->ovf, p->path);
    }
    /* The kernel holds the spool's size and mode for this path: the
     * cloud's object answers from now on. */
    if (cfs_pending_state(p) == -EROFS && path)
        fuse_invalidate_path(fuse_get_context()->fuse, path);
    cfs_pending_closed(p);
    cfs_pending_put(p);
    free(h);
}

/* One log line per rm: this one, or the provider's naming the cloud's
 * answer (a refusal made without asking the cloud is logged here). */
static int remove_object(struct cfs_node *node, const char *path)
{
    struct cfs_cloud *cloud = node->mc->cloud;
    /* A directory nothing can be written into (a read-only catalog) keeps
     * its objects: say so instead of the cloud's answer (vCD: 403, which
     * reads as "no such object"). */
    int err = cloud->provider->remove ? cfs_dircache_can_put(node->dc, NULL) : -EPERM;
    if (err)
        cfs_log_info("%s: not removed: %s", path, strerror(-err));
    else
        err = cloud->provider->remove(cloud, cfs_node_dir(node), node->entry->obj);
    if (err > 0)
        err = -EIO;
    if (!err)
        cfs_log_info("%s: removed %s (%s) from %s", path, node->entry->obj->name,
                     node->entry->obj->id, cloud->name);
    if (!err)
        cfs_forget_node(node, path);
    cfs_dircache_invalidate(node->dc);
    return err;
}

int cfs_write_unlink(const char *path)
{
    struct cfs_mount *m = mount_of();
    struct cfs_node node;
    int err = cfs_tree_resolve(m, path, false, &node);

    if (err)
        return err;
    if (node.kind == NODE_PENDING) {
        cfs_log_debug("%s: unlinked before its upload", path);
        cfs_pending_drop(node.pending);
    } else if (node.kind == NODE_FILE) {
        err = m->opts.allow_delete ? remove_object(&node, path) : -EACCES;
        if (err == -EACCES && !m->opts.allow_delete)
            cfs_log_info("%s: not removed: the mount has no allow_delete option", path);
    } else {
        err = -EISDIR;
    }
    cfs_node_release(&node);
    return err;
}

int cfs_write_mkdir(const char *path, mode_t mode)
{
    (void)path, (void)mode;
    return -EPERM; /* catalogs are not made from the mount (yet) */
}

int cfs_write_rmdir(const char *path)
{
    (void)path;
    return -EPERM;
}

/* Succeeds on anything that exists, without effect. */
static int exists(const char *path, struct fuse_file_info *fi)
{
    struct cfs_node node;
    if (cfs_handle_of(fi))
        return 0;
    int err = cfs_tree_resolve(mount_of(), path, false, &node);
    cfs_node_release(&node);
    return err;
}

int cfs_write_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)mode;
    return exists(path, fi);
}

int cfs_write_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)uid, (void)gid;
    return exists(path, fi);
}

/* The modification time utimensat asks for, or false for UTIME_OMIT. */
static bool wanted_mtime(const struct timespec tv[2], struct timespec *out)
{
    if (!tv) {
        clock_gettime(CLOCK_REALTIME, out);
        return true;
    }
    if (tv[1].tv_nsec == UTIME_OMIT)
        return false;
    if (tv[1].tv_nsec == UTIME_NOW)
        clock_gettime(CLOCK_REALTIME, out);
    else
        *out = tv[1];
    return true;
}

int cfs_write_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    struct cfs_handle *h = cfs_handle_of(fi);
    struct cfs_node node;
    struct timespec t;
    int err;

    if (h && h->pending) {
        if (wanted_mtime(tv, &t))
            cfs_pending_set_mtime(h->pending, &t);
        return 0;
    }
    if (!path)
        return 0; /* an open cloud file whose path went away: nothing to store */
    err = cfs_tree_resolve(mount_of(), path, false, &node);
    if (err)
        return err;
    if (!wanted_mtime(tv, &t)) {
        /* atime only: clouds keep none */
    } else if (node.kind == NODE_PENDING) {
        cfs_pending_set_mtime(node.pending, &t);
    } else if (node.kind == NODE_FILE) {
        struct cfs_cloud *cloud = node.mc->cloud;
        if (cloud->provider->set_mtime) {
            err = cloud->provider->set_mtime(cloud, cfs_node_dir(&node), node.entry->obj, &t);
            if (err > 0)
                err = -EIO;
            if (err)
                cfs_log_error("%s: cannot store its modification time: %s", path, strerror(-err));
            else
                cfs_forget_node(&node, path);
            cfs_dircache_invalidate(node.dc);
        }
    }
    /* Directories: their times are the cloud's; succeed without effect. */
    cfs_node_release(&node);
    return err;
}

int cfs_write_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(mount_of(), path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_PENDING)
        err = cfs_pending_setxattr(node.pending, name, value, size, flags);
    else
        err = -ENOTSUP;
    cfs_node_release(&node);
    return err;
}

int cfs_write_removexattr(const char *path, const char *name)
{
    struct cfs_node node;
    int err = cfs_tree_resolve(mount_of(), path, false, &node);
    if (err)
        return err;
    if (node.kind == NODE_PENDING)
        err = cfs_pending_removexattr(node.pending, name);
    else
        err = -ENOTSUP;
    cfs_node_release(&node);
    return err;
}
