/* What the decoder fuzz targets share: the input as an image file, and what
 * opens read at a few places: the start, the end, the middle, its first
 * allocated grains, and two offsets the input chooses. */
#ifndef CFS_FUZZ_DISK_H
#define CFS_FUZZ_DISK_H

#include "format.h"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_READ_BYTES (256u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    cfs_log_open("/dev/null", CFS_LOG_ERROR); /* one line per refused input */
    return 0;
}

static void fuzz_read_at(struct cfs_source *src, uint64_t off, size_t len)
{
    static unsigned char buf[FUZZ_READ_BYTES];
    if (len > sizeof buf)
        len = sizeof buf;
    ssize_t n = cfs_source_pread(src, buf, len, off);
    if (n > (ssize_t)len)
        abort();
}

/* Opens data with open_fn; 0 and *disk read at those places, or -1. *pick
 * receives 8 bytes of the input for choices of the caller's own. */
static int fuzz_disk(const uint8_t *data, size_t size,
                     int (*open_fn)(struct cfs_source *, const char *, struct cfs_source **),
                     struct cfs_source **disk, uint64_t *pick)
{
    struct cfs_source *file;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    if (cfs_mem_source_new(copy, size, &file) != 0) {
        free(copy);
        return -1;
    }
    if (open_fn(file, "fuzz", disk) != 0)
        return -1;

    uint64_t s = (*disk)->size;
    *pick = 0;
    if (size >= 8)
        memcpy(pick, data + size - 8, 8);
    if (s) {
        fuzz_read_at(*disk, 0, FUZZ_READ_BYTES);
        fuzz_read_at(*disk, s - 1, 1);
        fuzz_read_at(*disk, s > 70000 ? s - 70000 : 0, 70000);
        fuzz_read_at(*disk, s / 2, 4096);
        fuzz_read_at(*disk, *pick % s, (size_t)(*pick >> 48) + 1);
        fuzz_read_at(*disk, (*pick >> 16) % s, 513);
    }
    /* The first allocated grains: data and compressed blocks. */
    const struct cfs_alloc *a = (*disk)->alloc;
    int left = 6;
    for (uint64_t w = 0; a && left && w < (a->n_grains + 63) / 64; w++) {
        for (uint64_t bits = a->bits[w]; bits && left; bits &= bits - 1, left--) {
            uint64_t g = w * 64 + (uint64_t)__builtin_ctzll(bits);
            fuzz_read_at(*disk, g << CFS_GRAIN_SHIFT, CFS_GRAIN_BYTES);
        }
    }
    return 0;
}

#endif
