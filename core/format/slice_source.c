/* A window [off, off + len) onto another source, which it does not own:
 * an OVA member served in place, or content handed to a decoder (which
 * takes ownership of what it is given) while the caller keeps the
 * original. */
#include "package.h"

#include <errno.h>
#include <stdlib.h>

struct slice_source {
    struct cfs_source base;
    struct cfs_source *parent;
    uint64_t off;
    struct cfs_alloc *alloc;
};

static ssize_t slice_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct slice_source *s = (struct slice_source *)src;
    /* off + len is inside the slice (cfs_source_pread clamps), so inside
     * the parent too. */
    return cfs_source_pread(s->parent, buf, len, s->off + off);
}

static void slice_close(struct cfs_source *src)
{
    struct slice_source *s = (struct slice_source *)src;
    cfs_alloc_free(s->alloc);
    free(s);
}

static const struct cfs_source_ops slice_ops = {
    .name = "slice",
    .pread = slice_pread,
    .close = slice_close,
};

/* The parent's holes seen through the window: a grain of the slice may
 * hold data if any parent grain it overlaps may. Keeps a sparse spool file
 * sparse when it is converted as a raw disk. */
static struct cfs_alloc *slice_alloc(const struct cfs_alloc *parent, uint64_t off, uint64_t len)
{
    struct cfs_alloc *a = cfs_alloc_new(len);
    if (!a)
        return NULL;
    for (uint64_t g = 0; g < a->n_grains; g++) {
        uint64_t first = off + (g << CFS_GRAIN_SHIFT);
        uint64_t last = first + CFS_GRAIN_BYTES - 1;
        if (cfs_alloc_test(parent, first >> CFS_GRAIN_SHIFT) ||
            cfs_alloc_test(parent, last >> CFS_GRAIN_SHIFT))
            cfs_alloc_set(a, g);
    }
    return a;
}

int cfs_slice_source_open(struct cfs_source *parent, uint64_t off, uint64_t len,
                          struct cfs_source **out)
{
    if (off > parent->size || len > parent->size - off)
        return -EINVAL;
    struct slice_source *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (parent->alloc) {
        s->alloc = slice_alloc(parent->alloc, off, len);
        if (!s->alloc) {
            free(s);
            return -ENOMEM;
        }
    }
    s->base.ops = &slice_ops;
    s->base.size = len;
    s->base.alloc = s->alloc;
    s->parent = parent;
    s->off = off;
    *out = &s->base;
    return 0;
}
