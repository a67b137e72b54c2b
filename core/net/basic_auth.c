/* HTTP basic authentication (RFC 7617), for the logins that take it
 * (vCD's /api/sessions, vSphere's REST session): the header line is a
 * secret, and so is every copy made on the way to it. */
#define _GNU_SOURCE
#include "http.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *cfs_http_basic_auth(const char *user, const char *password)
{
    char *plain = cfs_printf("%s:%s", user, password);
    if (!plain)
        return NULL;
    size_t n = strlen(plain);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1), *line = NULL;
    if (b64) {
        EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, (int)n);
        line = cfs_printf("Authorization: Basic %s", b64);
        explicit_bzero(b64, strlen(b64));
    }
    explicit_bzero(plain, n);
    free(plain);
    free(b64);
    return line;
}
