/* The allocation of a disk that has no map of it (format.h,
 * cfs_zero_scan_open). A vSphere flat extent read over /folder is all
 * data as far as HTTP can tell; converted as it is, a 100 GiB disk with
 * 10 GiB written becomes a 100 GiB qcow2 of zeros, and its upload sends
 * them all. qemu-img finds the zeros by reading the disk; so does this,
 * once, before the conversion lays out its tables. The second pass (the
 * conversion) reads only the grains found here. */
#include "format.h"
#include "log.h"
#include "package.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STEP (4u << 20) /* bytes per read: a streaming download's pace, bounded memory */

static void alloc_free(void *alloc)
{
    cfs_alloc_free(alloc);
}

/* Marks the grains of buf (n bytes of the disk at off, off grain-aligned)
 * that hold data. */
static void mark(struct cfs_alloc *a, const unsigned char *buf, size_t n, uint64_t off)
{
    for (size_t at = 0; at < n; at += CFS_GRAIN_BYTES) {
        size_t len = n - at < CFS_GRAIN_BYTES ? n - at : CFS_GRAIN_BYTES;
        if (!cfs_all_zero(buf + at, len))
            cfs_alloc_set(a, (off + at) >> CFS_GRAIN_SHIFT);
    }
}

int cfs_zero_scan_open(struct cfs_source *disk, const char *label, bool (*cancelled)(void *ctx),
                       void *ctx, struct cfs_source **out)
{
    struct cfs_alloc *alloc = cfs_alloc_new(disk->size);
    unsigned char *buf = malloc(STEP);
    double t0 = cfs_now();
    int err = -ENOMEM;

    if (!alloc || !buf)
        goto fail;
    for (uint64_t off = 0; off < disk->size; off += STEP) {
        size_t n = disk->size - off < STEP ? (size_t)(disk->size - off) : STEP;
        if (cancelled && cancelled(ctx)) {
            err = -ECANCELED;
            goto fail;
        }
        if ((err = cfs_source_read_full(disk, buf, n, off)) != 0) {
            cfs_log_error("%s: reading the disk to find its data: %s", label, strerror(-err));
            goto fail;
        }
        mark(alloc, buf, n, off);
    }
    /* The disk's bytes as they are, with the map, freed by the last close. */
    if ((err = cfs_hook_source_open(disk, alloc_free, alloc, out)) != 0)
        goto fail;
    (*out)->alloc = alloc;
    free(buf);
    cfs_log_info("%s: %llu of %llu MiB hold data (read whole in %.1f s: the cloud gives no "
                 "allocation map)",
                 label, (unsigned long long)(alloc->n_alloc * CFS_GRAIN_BYTES >> 20),
                 (unsigned long long)(disk->size >> 20), cfs_now() - t0);
    return 0;

fail:
    free(buf);
    cfs_alloc_free(alloc);
    cfs_source_close(disk);
    return err;
}
