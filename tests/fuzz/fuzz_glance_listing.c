/* libFuzzer target: a Glance listing page from a hostile server. */
#include "openstack.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct cfs_object_list l = { 0 };
    size_t cap = 0;
    char *next = NULL;
    glance_parse_page((const char *)data, size, &l, &cap, &next);
    free(next);
    cfs_object_list_free(&l);
    return 0;
}
