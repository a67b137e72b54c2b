/* Choosing and creating the cache directory, as XDG's base directory
 * rules have it (relative XDG paths are ignored). A shared parent such
 * as /var/tmp is why the directory must be ours and not a symlink. */
#define _GNU_SOURCE
#include "cachedir.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *absolute(const char *s)
{
    return s && s[0] == '/' ? s : NULL;
}

char *cfs_cache_dir_choose(const char *opt)
{
    const char *v;
    if (opt && *opt)
        return strdup(opt);
    if ((v = getenv("CLOUDFS_CACHE_DIR")) && *v)
        return strdup(v);
    if ((v = absolute(getenv("XDG_CACHE_HOME"))))
        return cfs_printf("%s/cloudfs", v);
    if ((v = absolute(getenv("HOME"))))
        return cfs_printf("%s/.cache/cloudfs", v);
    return cfs_printf("/var/tmp/cloudfs-%u", (unsigned)getuid());
}

int cfs_cache_dir_make(const char *dir)
{
    char *p = strdup(dir);
    struct stat st;
    if (!p)
        return -ENOMEM;
    /* Parents as mkdir -p makes them; each of ours 0700 (XDG's mode). */
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int err = -errno;
            fprintf(stderr, "cloudfs: cannot create the cache directory %s: %s\n", p,
                    strerror(errno));
            free(p);
            return err;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 022) || access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr,
                "cloudfs: the cache directory %s must be a directory of ours (not a symlink), "
                "writable by us and by no one else\n",
                dir);
        return -EACCES;
    }
    return 0;
}
