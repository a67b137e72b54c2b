/* A source that runs a callback after its inner source closes: what a
 * provider holds for the bytes' sake while they are read (a snapshot of a
 * running VM, a download session, a map made for the bytes) is released
 * by the last close. Reads, read-ahead hints, the end-of-read check and
 * discards go to the inner source. */
#include "package.h"

#include <errno.h>
#include <stdlib.h>

struct hook {
    struct cfs_source base;
    struct cfs_source *inner;
    void (*on_close)(void *ctx);
    void *ctx;
};

static ssize_t hook_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct hook *h = (struct hook *)src;
    return h->inner->ops->pread(h->inner, buf, len, off);
}

static void hook_prefetch(struct cfs_source *src, uint64_t off, uint64_t len)
{
    cfs_source_prefetch(((struct hook *)src)->inner, off, len);
}

static int hook_finish(struct cfs_source *src)
{
    struct hook *h = (struct hook *)src;
    if (h->inner->ops->finish)
        return h->inner->ops->finish(h->inner);
    return h->inner->verified ? 0 : -ENODATA;
}

static void hook_discard(struct cfs_source *src)
{
    cfs_source_discard(((struct hook *)src)->inner);
}

static void hook_close(struct cfs_source *src)
{
    struct hook *h = (struct hook *)src;
    h->inner->ops->close(h->inner);
    h->on_close(h->ctx);
    free(h);
}

static const struct cfs_source_ops hook_ops = {
    .name = "hook",
    .pread = hook_pread,
    .close = hook_close,
    .prefetch = hook_prefetch,
    .finish = hook_finish,
    .discard = hook_discard,
};

int cfs_hook_source_open(struct cfs_source *inner, void (*on_close)(void *ctx), void *ctx,
                         struct cfs_source **out)
{
    struct hook *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->base.ops = &hook_ops;
    h->base.size = inner->size;
    h->base.alloc = inner->alloc;
    h->base.costly = inner->costly;
    h->base.verified = inner->verified;
    h->inner = inner;
    h->on_close = on_close;
    h->ctx = ctx;
    *out = &h->base;
    return 0;
}
