/* The /.cloudfs/status file. Each open gets its own snapshot, so a reader
 * sees consistent lines however slowly it reads; direct_io keeps the
 * kernel from caching one snapshot for the next reader or trusting the
 * size 0 that stat says. */
#include "status_file.h"
#include "handle.h"
#include "mount.h"
#include "transfers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cfs_status_attr(const struct cfs_mount *m, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG | cfs_mount_mode(m, 0444);
    st->st_nlink = 1;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    clock_gettime(CLOCK_REALTIME, &st->st_mtim); /* it changes all the time */
    st->st_atim = st->st_ctim = st->st_mtim;
}

int cfs_status_open(struct fuse_file_info *fi)
{
    struct cfs_handle *h;
    char *text;
    size_t len;
    int err;

    /* root passes the mode check */
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        return -EACCES;
    h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    err = cfs_transfers_json(&text, &len);
    if (!err && (err = cfs_mem_source_new(text, len, &h->src)) != 0)
        free(text);
    if (err) {
        free(h);
        return err;
    }
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fi->fh = (uintptr_t)h;
    return 0;
}
