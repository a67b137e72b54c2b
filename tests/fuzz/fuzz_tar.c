/* libFuzzer target: a tar archive (an OVA) a user copies in. */
#include "format.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct tar_member m[8];
    struct cfs_source *src = NULL;
    size_t n;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (cfs_mem_source_new(copy, size, &src) != 0) {
        free(copy);
        return 0;
    }
    tar_list(src, "fuzz", m, 8, &n);
    cfs_source_close(src);
    return 0;
}
