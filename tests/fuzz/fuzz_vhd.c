/* libFuzzer target: arbitrary bytes as a VHD file (core/format/vhd.c), read
 * as fuzz_disk.h says, then shown again as a VHD (core/format/vhd_view.c)
 * and read at its metadata and end. */
#include "fuzz_disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfs_source *disk, *view;
    uint64_t pick;
    if (fuzz_disk(data, size, vhd_open, &disk, &pick) != 0)
        return 0;
    /* The view takes the disk; dynamic unless the input says otherwise. */
    enum vhd_kind kind = pick & 1 ? VHD_FIXED : VHD_DYNAMIC;
    if (vhd_view_open(disk, kind, false, (uint32_t)pick, &view) != 0)
        return 0;
    uint64_t vs = view->size;
    fuzz_read_at(view, 0, 4096);
    fuzz_read_at(view, vs > 4096 ? vs - 4096 : 0, 4096);
    fuzz_read_at(view, (pick >> 8) % vs, 70000);
    cfs_source_close(view);
    return 0;
}
