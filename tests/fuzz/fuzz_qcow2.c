/* libFuzzer target: arbitrary bytes as a qcow2 image file (core/format/qcow2*.c),
 * read as fuzz_disk.h says. */
#include "fuzz_disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfs_source *disk;
    uint64_t pick;
    if (fuzz_disk(data, size, qcow2_open, &disk, &pick) == 0)
        cfs_source_close(disk);
    return 0;
}
