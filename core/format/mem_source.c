/* A byte source over bytes in memory (generated descriptors). */
#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mem_source {
    struct cfs_source base;
    char *data;
};

static ssize_t mem_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct mem_source *m = (struct mem_source *)src;
    memcpy(buf, m->data + off, len); /* cfs_source_pread clamps to size */
    return (ssize_t)len;
}

static void mem_close(struct cfs_source *src)
{
    struct mem_source *m = (struct mem_source *)src;
    free(m->data);
    free(m);
}

static const struct cfs_source_ops mem_ops = {
    .name = "memory",
    .pread = mem_pread,
    .close = mem_close,
};

int cfs_mem_source_new(char *data, size_t len, struct cfs_source **out)
{
    struct mem_source *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->base.ops = &mem_ops;
    m->base.size = len;
    m->data = data;
    *out = &m->base;
    return 0;
}
