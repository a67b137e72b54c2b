/* libFuzzer target: arbitrary bytes as a VHD file (core/format/vhd.c), and
 * what opens shown again as a VHD (core/format/vhd_view.c). The disk is
 * read at the start, the end, the middle, its first allocated grains and
 * two offsets the input chooses; the view at its metadata and end. */
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

static void read_at(struct cfs_source *src, uint64_t off, size_t len)
{
    static unsigned char buf[READ_BYTES];
    if (len > sizeof buf)
        len = sizeof buf;
    ssize_t n = cfs_source_pread(src, buf, len, off);
    if (n > (ssize_t)len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfs_source *file, *disk, *view;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (cfs_mem_source_new(copy, size, &file) != 0) {
        free(copy);
        return 0;
    }
    if (vhd_open(file, "fuzz", &disk) != 0)
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
    const struct cfs_alloc *a = disk->alloc;
    int left = 6;
    for (uint64_t w = 0; a && left && w < (a->n_grains + 63) / 64; w++) {
        for (uint64_t bits = a->bits[w]; bits && left; bits &= bits - 1, left--) {
            uint64_t g = w * 64 + (uint64_t)__builtin_ctzll(bits);
            read_at(disk, g << CFS_GRAIN_SHIFT, CFS_GRAIN_BYTES);
        }
    }
    /* The view takes the disk; dynamic unless the input says otherwise. */
    enum vhd_kind kind = pick & 1 ? VHD_FIXED : VHD_DYNAMIC;
    if (vhd_view_open(disk, kind, false, (uint32_t)pick, &view) != 0)
        return 0;
    uint64_t vs = view->size;
    read_at(view, 0, 4096);
    read_at(view, vs > 4096 ? vs - 4096 : 0, 4096);
    read_at(view, (pick >> 8) % vs, 70000);
    cfs_source_close(view);
    return 0;
}
