/* libFuzzer target: clouds.yaml / cloudfs.yaml parsing. */
#include "config.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct json_t *j = NULL;
    char err[128];
    if (cfs_yaml_parse((const char *)data, size, &j, err, sizeof err) == 0)
        json_decref(j);
    return 0;
}
