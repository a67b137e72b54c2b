/* Byte sources: the central abstraction (DESIGN.md §2). A cloud object
 * read over HTTP is a source; decoders and views stack on sources.
 * Like nbdkit's plugins and filters, a source is a table of callbacks. */
#ifndef CFS_SOURCE_H
#define CFS_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfs_source;

struct cfs_source_ops {
    const char *name;
    /* Reads up to len bytes at off. Returns the count (short only at the
     * end of the source) or a negative errno. Safe to call from several
     * threads at once. */
    ssize_t (*pread)(struct cfs_source *src, void *buf, size_t len, uint64_t off);
    void (*close)(struct cfs_source *src);
};

struct cfs_source {
    const struct cfs_source_ops *ops;
    uint64_t size;
};

static inline ssize_t cfs_source_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    if (off >= src->size)
        return 0;
    if (len > src->size - off)
        len = (size_t)(src->size - off);
    return src->ops->pread(src, buf, len, off);
}

static inline void cfs_source_close(struct cfs_source *src)
{
    if (src)
        src->ops->close(src);
}

#endif
