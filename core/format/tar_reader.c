/* Reading a tar archive a user brings (an OVA copied into a catalog):
 * ustar headers (ref/formats.md §6.2), GNU base-256 sizes, pax extended
 * headers skipped. Everything is checked before it is used: this is
 * untrusted input. */
#include "format.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BLOCK 512u

static int octal(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    if (f[0] & 0x80) { /* GNU base-256: big-endian binary after the flag bit */
        if (f[0] != 0x80)
            return -EINVAL; /* negative or over 2^88 */
        for (i = 1; i < n; i++) {
            if (v >> 56)
                return -EINVAL;
            v = v << 8 | f[i];
        }
        *out = v;
        return 0;
    }
    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -EINVAL;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -EINVAL;
    *out = v;
    return 0;
}

static bool checksum_ok(const unsigned char *h)
{
    uint64_t want;
    unsigned sum = 0;
    if (octal(h + 148, 8, &want) != 0)
        return false;
    for (unsigned i = 0; i < BLOCK; i++)
        sum += i >= 148 && i < 156 ? ' ' : h[i];
    return sum == want;
}

/* prefix/name, NUL-terminated fields; flat names only. */
static int member_name(const unsigned char *h, char *out, size_t n)
{
    char name[101], prefix[156];
    memcpy(name, h, 100);
    name[100] = '\0';
    memcpy(prefix, h + 345, 155);
    prefix[155] = '\0';
    if (memcmp(h + 257, "ustar", 5) != 0)
        prefix[0] = '\0'; /* old v7 header: no prefix field */
    if (snprintf(out, n, "%s%s%s", prefix, *prefix ? "/" : "", name) >= (int)n)
        return -EINVAL;
    if (!*out || strchr(out, '/') || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        return -EINVAL;
    return 0;
}

int tar_list(struct cfs_source *src, const char *label, struct tar_member *out, size_t max,
             size_t *n)
{
    unsigned char h[BLOCK];
    uint64_t pos = 0;
    const char *why = NULL;

    *n = 0;
    while (pos + BLOCK <= src->size) {
        ssize_t got = cfs_source_pread(src, h, BLOCK, pos);
        uint64_t size, data;
        if (got != BLOCK)
            return got < 0 ? (int)got : -EIO;
        if (cfs_all_zero(h, BLOCK))
            return *n ? 0 : (cfs_log_error("%s: an empty tar archive", label), -EINVAL);
        if (!checksum_ok(h)) {
            why = "a header checksum is wrong";
            break;
        }
        if (octal(h + 124, 12, &size) != 0) {
            why = "a size field is not a number";
            break;
        }
        data = pos + BLOCK;
        if (size > src->size - data) {
            why = "a member reaches past the end of the archive";
            break;
        }
        char type = (char)h[156];
        if (type == '0' || type == '\0') {
            if (*n == max)
                return -E2BIG;
            if (member_name(h, out[*n].name, sizeof out[*n].name) != 0) {
                why = "a member name is a path, empty, \".\" or \"..\"";
                break;
            }
            out[*n].offset = data;
            out[*n].size = size;
            (*n)++;
        } else if (type != 'x' && type != 'g') {
            why = "a member is not a regular file";
            break;
        }
        /* The next header: data rounded up to a block (no overflow: size
         * is at most the archive's size). */
        pos = data + (size + BLOCK - 1) / BLOCK * BLOCK;
    }
    if (!why && *n)
        return 0; /* ends without the two zero blocks: accepted, as tar does */
    cfs_log_error("%s: not a tar archive cloudfs can read: %s", label, why ? why : "no member");
    return -EINVAL;
}
