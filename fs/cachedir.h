/* The mount's cache directory: spool files of writes, and the providers'
 * downloads. */
#ifndef CFS_CACHEDIR_H
#define CFS_CACHEDIR_H

/* The directory to use: opt (cache_dir=), else $CLOUDFS_CACHE_DIR, else
 * $XDG_CACHE_HOME/cloudfs, else ~/.cache/cloudfs, else
 * /var/tmp/cloudfs-<uid>. malloc'd, or NULL (no memory). */
char *cfs_cache_dir_choose(const char *opt);

/* Creates dir (and missing parents) with mode 0700 and checks that it is
 * a directory of ours that we can write. 0 or -errno (one line on
 * stderr says why). */
int cfs_cache_dir_make(const char *dir);

#endif
