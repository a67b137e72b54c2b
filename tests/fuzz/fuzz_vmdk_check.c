/* libFuzzer target: arbitrary bytes as a vCD export's disk, fed to the
 * streamOptimized check (core/format/vmdk_check.c) in pieces whose sizes
 * the input's first byte chooses, then its grain tables read back. */
#include "format.h"
#include "log.h"
#include "source.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    cfs_log_open("/dev/null", CFS_LOG_ERROR); /* one line per refused input */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vmdk_check *k;
    if (size < 1 || vmdk_check_new("fuzz", data[0] & 1 ? size - 1 : 0, &k) != 0)
        return 0;
    size_t step = 1 + (size_t)data[0] * 37;
    int err = 0;
    for (size_t at = 1; at < size && !err; at += step)
        err = vmdk_check_feed(k, data + at, at + step < size ? step : size - at);
    if (!err)
        err = vmdk_check_end(k);
    if (!err) {
        char *copy = malloc(size - 1 ? size - 1 : 1);
        struct cfs_source *file;
        if (copy) {
            memcpy(copy, data + 1, size - 1);
            if (cfs_mem_source_new(copy, size - 1, &file) == 0) {
                vmdk_check_tables(k, file);
                cfs_source_close(file);
            } else {
                free(copy);
            }
        }
    }
    vmdk_check_free(k);
    return 0;
}
