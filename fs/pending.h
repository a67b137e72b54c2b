/* Files being written into the mount (DESIGN.md §5): each a spool file
 * in the cache directory until its upload, found by its path so that
 * lookups, stat and readdir show it while cp or rsync write it.
 *
 * Lifetime: an entry leaves the table when its upload succeeds, when it
 * is unlinked, when its last handle closes after a failed upload or a
 * write that hit the space reserve, and when it was never uploaded and
 * no handle has had it open for the table's linger time. The last keeps
 * rsync's staged ".name.XXXXXX" (closed, then renamed) and a file that
 * is created, closed and opened again (qemu-img) alive between the two. */
#ifndef CFS_PENDING_H
#define CFS_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dircache.h"

struct cfs_pending_table;

struct cfs_pending {
    char *path;              /* the key: "/cloud/catalogs/cat/x.vmdk" */
    const char *fname;       /* its last component */
    struct cfs_dircache *dc; /* the directory (a reference) */
    int fd;                  /* the spool, unlinked; closed with the entry */
    struct timespec ctime;   /* creation */
    /* Guarded by the table's lock: */
    char *xattrs; /* user.* set on it: "name\0value\0"... */
    size_t xattrs_len;
    int refs;  /* the table's and each holder's */
    int opens; /* handles open */
    bool in_table;
    bool uploading;
    bool uploaded;
    int err;        /* sticky: a write hit the reserve, the upload failed */
    bool mtime_set; /* utimensat gave it a time (rsync -a, cp -p, touch) */
    struct timespec mtime;
    bool replace;      /* set at creation (allow_delete): put() replaces a namesake */
    double idle_since; /* opens dropped to 0 */
    struct cfs_pending_table *table;
};

struct cfs_pending_table *cfs_pending_table_new(double linger_s);
void cfs_pending_table_free(struct cfs_pending_table *t);

/* A new entry for path over spool fd (taken over, closed on failure too)
 * in directory dc (a reference is taken), in the table and returned with
 * a reference for the caller. -EBUSY when path is already pending,
 * -ENOMEM. */
int cfs_pending_add(struct cfs_pending_table *t, const char *path, struct cfs_dircache *dc, int fd,
                    struct cfs_pending **out);

/* The entry of path with a reference, or NULL. */
struct cfs_pending *cfs_pending_find(struct cfs_pending_table *t, const char *path);
void cfs_pending_hold(struct cfs_pending *p);
void cfs_pending_put(struct cfs_pending *p);

/* Counts a handle open / closed (for the linger time). */
void cfs_pending_opened(struct cfs_pending *p);
void cfs_pending_closed(struct cfs_pending *p);

/* Takes p out of the table (it stays usable by its holders). */
void cfs_pending_drop(struct cfs_pending *p);

/* Marks p uploading; false if it already is, or left the table. */
bool cfs_pending_begin_upload(struct cfs_pending *p);
/* Ends it: p leaves the table either way (on success the cloud lists the
 * object; on failure the error sticks: writes and flushes answer it). */
void cfs_pending_end_upload(struct cfs_pending *p, int err);

/* p failed for good (err sticks) and leaves the table. */
void cfs_pending_fail(struct cfs_pending *p, int err);

/* Whether p can still be written: 0, its sticky error, -EBUSY while it
 * uploads, -EROFS once uploaded (the object is the cloud's now), -ENOENT
 * once unlinked (still writable, never uploaded). */
int cfs_pending_state(struct cfs_pending *p);

/* Calls fn with the file name of each entry directly in dir_path
 * ("/cloud/images"); under the table's lock: fn must not call back. */
void cfs_pending_each(struct cfs_pending_table *t, const char *dir_path,
                      void (*fn)(void *ctx, struct cfs_pending *p), void *ctx);

/* user.* attributes of p. set: flags as setxattr (XATTR_CREATE/REPLACE);
 * values are text (no NUL inside). get: like getxattr (size 0: the
 * length). list: like listxattr. */
int cfs_pending_setxattr(struct cfs_pending *p, const char *name, const char *value, size_t len,
                         int flags);
int cfs_pending_getxattr(struct cfs_pending *p, const char *name, char *value, size_t size);
int cfs_pending_listxattr(struct cfs_pending *p, char *list, size_t size);
int cfs_pending_removexattr(struct cfs_pending *p, const char *name);

/* The modification time set on p (utimensat), stored on the object once
 * it is uploaded. get: false when none was set. */
void cfs_pending_set_mtime(struct cfs_pending *p, const struct timespec *t);
bool cfs_pending_mtime(const struct cfs_pending *p, struct timespec *t);

/* A copy of p's attributes for an upload (malloc'd, may be NULL). */
int cfs_pending_xattrs_copy(struct cfs_pending *p, char **out, size_t *len);

#endif
