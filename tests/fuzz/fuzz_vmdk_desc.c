/* libFuzzer target: a VMDK text descriptor from a hostile datastore
 * (core/format/vmdk_desc.c): any bytes, and every extent it accepts must
 * be a plain file name with bounded numbers. */
#include "format.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        cfs_log_open("/dev/null", CFS_LOG_ERROR);
    struct vmdk_desc d;
    if (vmdk_desc_parse((const char *)data, size, "fuzz", &d) == 0)
        for (size_t i = 0; i < d.n_extents; i++)
            if (strchr(d.extents[i].file, '/') || d.extents[i].sectors == 0)
                abort();
    return 0;
}
