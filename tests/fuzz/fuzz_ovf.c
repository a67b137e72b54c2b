/* libFuzzer target: an OVF descriptor a user brings. */
#include "format.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct ovf_info info;
    if (ovf_parse((const char *)data, size, "fuzz", &info) == 0)
        ovf_info_free(&info);
    return 0;
}
