/* An open file: a cloud object or view being read, or a file being
 * written (fs/write.c). */
#ifndef CFS_HANDLE_H
#define CFS_HANDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ops.h"
#include "pending.h"
#include "source.h"

struct cfs_copy;

struct cfs_handle {
    struct cfs_source *src;      /* reading a cloud object or view, or NULL */
    char *obj_key;               /* native files: the object, for the verified set */
    bool failed;                 /* a read failed: the pages the kernel holds are suspect */
    struct cfs_pending *pending; /* writing (or reading what is being written) */
    bool dirty;                  /* written or truncated through this handle */
    pid_t owner;                 /* writing: the process that opened it (a tgid) */
    struct cfs_copy *copy;       /* writing by copy_file_range (fs/copy.h), or NULL */
};

static inline struct cfs_handle *cfs_handle_of(const struct fuse_file_info *fi)
{
    return fi ? (struct cfs_handle *)(uintptr_t)fi->fh : NULL;
}

#endif
