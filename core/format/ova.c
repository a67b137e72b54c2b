/* The .ova view: a ustar archive of byte sources, in the order given
 * (ref/formats.md §6: descriptor first, then the disks).
 *
 * Every member is a 512-byte header, its data, zeros to the next 512
 * bytes; two zero blocks end the archive, so
 * size = sum(512 + round512(member size)) + 1024, known at open. A read is
 * a binary search for the member, then header bytes (built at open), the
 * member's own pread, or padding. */
#include "format.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512u

struct member {
    uint64_t start; /* offset of the header in the archive */
    struct cfs_source *src;
    unsigned char header[BLOCK];
};

struct ova {
    struct cfs_source base;
    size_t n;
    uint64_t data_end; /* start of the two zero blocks */
    struct member *m;
};

static uint64_t round_block(uint64_t n)
{
    return (n + BLOCK - 1) / BLOCK * BLOCK;
}

/* An octal field of width w: w - 1 digits and a NUL (ustar). */
static void octal(unsigned char *field, size_t w, uint64_t v)
{
    field[w - 1] = '\0';
    for (size_t i = w - 1; i-- > 0;) {
        field[i] = (unsigned char)('0' + (v & 7));
        v >>= 3;
    }
}

/* Members live in a flat archive: a name that is a path (or could climb
 * out of the directory it is extracted into) is refused. */
static int check_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        return -EINVAL;
    return n > 100 ? -ENAMETOOLONG : 0;
}

static void build_header(unsigned char *h, const char *name, uint64_t size, uint64_t mtime)
{
    memset(h, 0, BLOCK);
    memcpy(h, name, strlen(name)); /* <= 100 bytes; NUL-terminated when shorter */
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    if (size < (1ull << 33)) {
        octal(h + 124, 12, size);
    } else {
        /* GNU base-256: 0x80, then the size big-endian in 11 bytes. */
        h[124] = 0x80;
        for (int i = 0; i < 11; i++)
            h[135 - i] = (unsigned char)(i < 8 ? size >> (8 * i) : 0);
    }
    octal(h + 136, 12, mtime < (1ull << 33) ? mtime : (1ull << 33) - 1);
    memset(h + 148, ' ', 8); /* the checksum counts its own field as spaces */
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "root", 4);
    memcpy(h + 297, "root", 4);
    octal(h + 329, 8, 0);
    octal(h + 337, 8, 0);

    unsigned sum = 0;
    for (unsigned i = 0; i < BLOCK; i++)
        sum += h[i];
    octal(h + 148, 7, sum); /* six digits and a NUL ... */
    h[155] = ' ';           /* ... and a space, as tar writes it */
}

static ssize_t ova_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct ova *a = (struct ova *)src;
    unsigned char *dst = buf;
    size_t done = 0;

    while (done < len && off < a->base.size) {
        size_t n = len - done;
        if (off >= a->data_end) {
            n = n < a->base.size - off ? n : (size_t)(a->base.size - off);
            memset(dst, 0, n);
        } else {
            size_t lo = 0, hi = a->n; /* last member starting at or before off */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (a->m[mid].start <= off)
                    lo = mid;
                else
                    hi = mid;
            }
            const struct member *m = &a->m[lo];
            uint64_t rel = off - m->start, size = m->src->size;
            uint64_t end = lo + 1 < a->n ? a->m[lo + 1].start : a->data_end;
            if (rel < BLOCK) {
                n = n < BLOCK - rel ? n : (size_t)(BLOCK - rel);
                memcpy(dst, m->header + rel, n);
            } else if (rel - BLOCK < size) {
                n = n < size - (rel - BLOCK) ? n : (size_t)(size - (rel - BLOCK));
                ssize_t got = cfs_source_pread(m->src, dst, n, rel - BLOCK);
                if (got < 0)
                    return got;
                if ((size_t)got != n) {
                    cfs_log_error("ova: member %.100s gave %zd bytes at %llu, not %zu",
                                  (const char *)m->header, got, (unsigned long long)(rel - BLOCK),
                                  n);
                    return -EIO;
                }
            } else {
                n = n < end - off ? n : (size_t)(end - off);
                memset(dst, 0, n);
            }
        }
        dst += n;
        off += n;
        done += n;
    }
    return (ssize_t)done;
}

static void ova_close(struct cfs_source *src)
{
    struct ova *a = (struct ova *)src;
    for (size_t i = 0; i < a->n; i++)
        cfs_source_close(a->m[i].src);
    free(a->m);
    free(a);
}

static const struct cfs_source_ops ova_ops = {
    .name = "ova",
    .pread = ova_pread,
    .close = ova_close,
};

int ova_open(const struct ova_member *members, size_t n, uint64_t mtime, struct cfs_source **out)
{
    struct ova *a = calloc(1, sizeof *a);
    struct member *m = calloc(n ? n : 1, sizeof *m);
    uint64_t pos = 0;
    int err = 0;

    for (size_t i = 0; i < n && !err; i++) {
        err = check_name(members[i].name);
        for (size_t j = 0; j < i && !err; j++)
            if (strcmp(members[i].name, members[j].name) == 0)
                err = -EINVAL; /* extracting would overwrite the first */
        if (err)
            cfs_log_error("ova: member %zu: a name must be 1 to 100 bytes, not a path, "
                          "and unique",
                          i);
    }
    if (!err && (!a || !m))
        err = -ENOMEM;
    for (size_t i = 0; i < n && !err; i++) {
        uint64_t size = members[i].source->size, step = BLOCK + round_block(size);
        if (size > UINT64_MAX / 2 || __builtin_add_overflow(pos, step, &pos))
            err = -EFBIG;
    }
    if (err) {
        for (size_t i = 0; i < n; i++)
            cfs_source_close(members[i].source);
        free(m);
        free(a);
        return err;
    }

    pos = 0;
    for (size_t i = 0; i < n; i++) {
        m[i].start = pos;
        m[i].src = members[i].source;
        build_header(m[i].header, members[i].name, m[i].src->size, mtime);
        pos += BLOCK + round_block(m[i].src->size);
    }
    a->base.ops = &ova_ops;
    a->base.size = pos + 2 * BLOCK;
    a->data_end = pos;
    a->n = n;
    a->m = m;
    *out = &a->base;
    return 0;
}
