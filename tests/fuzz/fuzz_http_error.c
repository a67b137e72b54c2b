/* libFuzzer target: error bodies and headers from a hostile server. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *copy = malloc(size + 1), msg[256];
    struct cfs_http_resp r = { 0 };
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    r.body = copy;
    r.body_len = size;
    r.headers = copy;
    cfs_http_error_text(&r, msg, sizeof msg);
    free(cfs_http_header(&r, "Content-Range"));
    free(copy);
    return 0;
}
