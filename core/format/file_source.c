/* A byte source over a local file: for tests and for local images. Its
 * holes (SEEK_DATA/SEEK_HOLE) become the allocation map. */
#define _GNU_SOURCE
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_source {
    struct cfs_source base;
    int fd;
    struct cfs_alloc *map;
};

static ssize_t file_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct file_source *f = (struct file_source *)src;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
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

static void file_close(struct cfs_source *src)
{
    struct file_source *f = (struct file_source *)src;
    close(f->fd);
    cfs_alloc_free(f->map);
    free(f);
}

static const struct cfs_source_ops file_ops = {
    .name = "file",
    .pread = file_pread,
    .close = file_close,
};

static int map_holes(struct file_source *f)
{
    off_t pos = 0, end = (off_t)f->base.size;
    f->map = cfs_alloc_new(f->base.size);
    if (!f->map)
        return -ENOMEM;
    while (pos < end) {
        off_t data = lseek(f->fd, pos, SEEK_DATA);
        if (data < 0)
            return errno == ENXIO ? 0 : -errno;
        off_t hole = lseek(f->fd, data, SEEK_HOLE);
        if (hole < 0)
            return -errno;
        cfs_alloc_set_range(f->map, (uint64_t)data, (uint64_t)(hole - data));
        pos = hole;
    }
    return 0;
}

int cfs_file_source_open(const char *path, struct cfs_source **out)
{
    struct file_source *f = calloc(1, sizeof *f);
    struct stat st;
    int err;

    if (!f)
        return -ENOMEM;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0 || fstat(f->fd, &st) != 0) {
        err = -errno;
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return err;
    }
    f->base.ops = &file_ops;
    f->base.size = (uint64_t)st.st_size;
    err = map_holes(f);
    if (err) {
        file_close(&f->base);
        return err;
    }
    f->base.alloc = f->map;
    *out = &f->base;
    return 0;
}
