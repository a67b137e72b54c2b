/* Spool files over plain POSIX calls; the reserve is checked against
 * the file system's free space before each write, which costs one
 * fstatvfs (no I/O) per write of up to 1 MiB. */
#define _GNU_SOURCE
#include "spool.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

int cfs_spool_create(const char *dir, int *fd)
{
    char *path = cfs_printf("%s/spool-XXXXXX", dir);
    int err = 0;

    if (!path)
        return -ENOMEM;
    *fd = mkostemp(path, O_CLOEXEC);
    if (*fd < 0)
        err = -errno;
    else
        unlink(path);
    free(path);
    return err;
}

ssize_t cfs_spool_write(int fd, const void *buf, size_t len, uint64_t off, uint64_t reserve)
{
    struct statvfs sv;
    size_t done = 0;

    if (off > (uint64_t)INT64_MAX - len)
        return -EFBIG;
    if (fstatvfs(fd, &sv) != 0)
        return -errno;
    uint64_t avail = (uint64_t)sv.f_bavail * (sv.f_frsize ? sv.f_frsize : sv.f_bsize);
    if (avail < reserve || avail - reserve < len)
        return -ENOSPC;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    return (ssize_t)len;
}

ssize_t cfs_spool_read(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    if (off > (uint64_t)INT64_MAX)
        return 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int cfs_spool_truncate(int fd, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return -EFBIG;
    return ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

/* The file source opens a path: /proc/self/fd reopens the nameless spool
 * (read-only, its own offset), and the source's close closes only that. */
int cfs_spool_source(int fd, struct cfs_source **out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return cfs_file_source_open(path, out);
}
