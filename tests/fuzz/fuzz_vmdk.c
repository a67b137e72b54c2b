/* libFuzzer target: arbitrary bytes as a VMDK sparse extent (core/format/
 * vmdk*.c). What opens is read at a few places: the start, the end, the
 * middle, the first allocated grains, and two offsets the input chooses. */
#include "format.h"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define READ_BYTES (256u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    cfs_log_open("/dev/null", CFS_LOG_ERROR); /* one line per refused input */
    return 0;
}

static void read_at(struct cfs_source *disk, uint64_t off, size_t len)
{
    static unsigned char buf[READ_BYTES];
    if (len > sizeof buf)
        len = sizeof buf;
    ssize_t n = cfs_source_pread(disk, buf, len, off);
    if (n > (ssize_t)len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfs_source *file, *disk;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (cfs_mem_source_new(copy, size, &file) != 0) {
        free(copy);
        return 0;
    }
    if (vmdk_open(file, "fuzz", &disk) != 0)
        return 0;

    uint64_t s = disk->size, pick = 0;
    if (size >= 8)
        memcpy(&pick, data + size - 8, 8);
    if (s) {
        read_at(disk, 0, READ_BYTES);
        read_at(disk, s - 1, 1);
        read_at(disk, s > 70000 ? s - 70000 : 0, 70000);
        read_at(disk, s / 2, 4096);
        read_at(disk, pick % s, (size_t)(pick >> 48) + 1);
        read_at(disk, (pick >> 16) % s, 513);
    }
    /* The first allocated grains: uncompressed and compressed grains. */
    const struct cfs_alloc *a = disk->alloc;
    int left = 6;
    for (uint64_t w = 0; a && left && w < (a->n_grains + 63) / 64; w++) {
        for (uint64_t bits = a->bits[w]; bits && left; bits &= bits - 1, left--) {
            uint64_t g = w * 64 + (uint64_t)__builtin_ctzll(bits);
            read_at(disk, g << CFS_GRAIN_SHIFT, CFS_GRAIN_BYTES);
        }
    }
    cfs_source_close(disk);
    return 0;
}
