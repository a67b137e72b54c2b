/* The write path of DESIGN.md §5, FUSE side: files created in a cloud's
 * directory are spooled (fs/spool.c), listed while written
 * (fs/pending.c), and handed to the provider's put() when closed, or
 * when a staged dot-file is renamed to its visible name. */
#ifndef CFS_WRITE_H
#define CFS_WRITE_H

#include "handle.h"
#include "mount.h"
#include "tree.h"

#include <sys/stat.h>

/* Dot-files (rsync's ".name.XXXXXX") are staged: uploaded only when
 * renamed to a visible name. Cloud objects never show as dot-files
 * (fs/names.c escapes a leading dot). */
static inline bool cfs_write_staged(const char *fname)
{
    return fname[0] == '.';
}

/* Attributes of a file being written: its spool's size, 0666 less umask=. */
void cfs_pending_attr(const struct cfs_mount *m, const struct cfs_pending *p, struct stat *st);

/* open() of a node that is being written (any access mode). */
int cfs_write_open(struct cfs_mount *m, struct cfs_node *node, struct fuse_file_info *fi);
/* read() of such a handle: the spool. */
int cfs_write_read(struct cfs_handle *h, char *buf, size_t size, off_t off);
/* release() of such a handle. */
void cfs_write_release(struct cfs_handle *h, const char *path);

/* The operations themselves. */
int cfs_write_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int cfs_write_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi);
int cfs_write_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int cfs_write_flush(const char *path, struct fuse_file_info *fi);
int cfs_write_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int cfs_write_unlink(const char *path);
int cfs_write_mkdir(const char *path, mode_t mode);
int cfs_write_rmdir(const char *path);
int cfs_write_rename(const char *from, const char *to, unsigned int flags);
int cfs_write_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int cfs_write_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi);
int cfs_write_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi);
int cfs_write_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags);
int cfs_write_removexattr(const char *path, const char *name);

#endif
