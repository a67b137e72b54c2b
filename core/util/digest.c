/* Streaming digests over libcrypto's EVP interface. */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct cfs_digest {
    EVP_MD_CTX *ctx;
};

/* Glance's os_hash_algo is a name of Python's hashlib, which spells some
 * digests otherwise than OpenSSL. */
static const char *openssl_name(const char *algo)
{
    static const char *const names[][2] = {
        { "sha3_224", "SHA3-224" },     { "sha3_256", "SHA3-256" },
        { "sha3_384", "SHA3-384" },     { "sha3_512", "SHA3-512" },
        { "sha512_224", "SHA512-224" }, { "sha512_256", "SHA512-256" },
        { "blake2b", "BLAKE2B-512" },   { "blake2s", "BLAKE2S-256" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(algo, names[i][0]) == 0)
            return names[i][1];
    return algo;
}

int cfs_digest_new(const char *algo, struct cfs_digest **out)
{
    const EVP_MD *md = EVP_get_digestbyname(openssl_name(algo));
    struct cfs_digest *d;

    if (!md)
        return -ENOTSUP;
    d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
        cfs_digest_free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void cfs_digest_update(struct cfs_digest *d, const void *data, size_t len)
{
    EVP_DigestUpdate(d->ctx, data, len);
}

bool cfs_digest_matches(struct cfs_digest *d, const char *expected_hex, char *hex_out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    hex_out[0] = '\0';
    if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
        return false;
    for (unsigned int i = 0; i < n; i++)
        sprintf(hex_out + 2 * i, "%02x", md[i]);
    return strcasecmp(hex_out, expected_hex) == 0;
}

void cfs_digest_free(struct cfs_digest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}
