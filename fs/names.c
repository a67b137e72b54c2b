/* Naming rules of DESIGN.md §1, as rclone shows '/' (U+FF0F, full-width
 * solidus) and with marks that stay stable whatever order a cloud lists
 * its objects in: a name that collides is marked on every member of the
 * collision, never "first come keeps it". */
#define _GNU_SOURCE
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 255
#define SOLIDUS        "\xef\xbc\x8f"
#define REPLACEMENT    "\xef\xbf\xbd"
#define QUOTE          "\xef\xbc\x82"
#define FULLSTOP       "\xef\xbc\x8e"

struct slot {
    size_t idx;
    char *plain; /* base.ext, or NULL when the base cannot stand alone */
    char *base;  /* the cloud name made a file-name part */
    bool marked;
};

/* Length of the valid UTF-8 sequence at p (of n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, surrogate, past U+10FFFF */
    return len;
}

/* The code point of the valid UTF-8 sequence at p of len bytes. */
static uint32_t code_point(const unsigned char *p, size_t len)
{
    uint32_t c = len == 1 ? p[0] : p[0] & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++)
        c = c << 6 | (p[i] & 0x3f);
    return c;
}

/* Shown as U+FFFD like control characters: C1 controls (U+0080-U+009F)
 * and Unicode's Bidi_Control characters (U+061C, U+200E/F, U+202A-E,
 * U+2066-9), which are invisible and reorder what follows them, so that
 * "gpj.exe" with an U+202E in front would read "exe.jpg" in ls. */
static bool hidden_control(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* '/' becomes U+FF0F and '"' U+FF02 (a .vmdk's descriptor quotes its own
 * name); a leading '.' becomes U+FF0E, so that ls and every glob see the
 * object (a batch cp with a glob would skip a dot-file) and a cloud name
 * is never taken for one of rsync's staged dot-files; control characters
 * (hidden_control too) and bytes that are not UTF-8 become U+FFFD, so that
 * a name breaks no line of ls or a log, shows what it holds, and an OVF
 * can name it. "" cannot be a name on its own. */
static char *clean_base(const char *name, bool *unusable)
{
    const unsigned char *u = (const unsigned char *)name;
    size_t n = strlen(name);
    char *b = malloc(3 * n + 1), *p = b;
    if (!b)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t len = c >= 0x80 ? utf8_len(u + i, n - i) : 1;
        if (c == '/' || c == '"' || (c == '.' && i == 0)) {
            memcpy(p, c == '/' ? SOLIDUS : c == '"' ? QUOTE : FULLSTOP, 3);
            p += 3;
        } else if (c < 0x20 || c == 0x7f || len == 0) {
            memcpy(p, REPLACEMENT, 3);
            p += 3;
            len = 1;
        } else if (hidden_control(code_point(u + i, len))) {
            memcpy(p, REPLACEMENT, 3);
            p += 3;
        } else {
            memcpy(p, u + i, len);
            p += len;
        }
        i += len;
    }
    *p = '\0';
    *unusable = !*b;
    return b;
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

/* An empty ext is no extension at all (a directory). */
static const char *dot(const char *ext)
{
    return *ext ? "." : "";
}

static char *marked_name(const char *base, const char *mark, const char *ext)
{
    size_t tail = 1 + strlen(mark) + strlen(dot(ext)) + strlen(ext);
    char *b = strdup(base), *r;
    if (!b || tail > NAME_MAX_BYTES) {
        free(b);
        return NULL;
    }
    cut_utf8(b, NAME_MAX_BYTES - tail);
    if (asprintf(&r, "%s~%s%s%s", b, mark, dot(ext), ext) < 0)
        r = NULL;
    free(b);
    return r;
}

static int cmp_slot_plain(const void *a, const void *b, void *ctx)
{
    const struct slot *x = a, *y = b;
    const struct cfs_name_in *g_in = ctx;
    if (!x->plain || !y->plain)
        return x->plain ? -1 : y->plain ? 1 : 0;
    int c = strcmp(x->plain, y->plain);
    if (c)
        return c;
    return strcmp(g_in[x->idx].id, g_in[y->idx].id);
}

static int cmp_out(const void *a, const void *b, void *ctx)
{
    char **out = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (!out[x] || !out[y])
        return out[x] ? 1 : out[y] ? -1 : (x > y) - (x < y);
    int c = strcmp(out[x], out[y]);
    return c ? c : (x > y) - (x < y);
}

/* Marks a name with the object's whole id; a name that already is that
 * (it met a plain name alike) keeps it, the plain one is marked instead. */
static int remark_full(const struct cfs_name_in *e, char **name, const char *other)
{
    bool unusable;
    char *b = clean_base(e->name, &unusable);
    char *r = b ? marked_name(b, e->id, e->ext) : NULL;
    free(b);
    if (!r)
        return -ENOMEM;
    if (strcmp(r, *name) == 0 && strcmp(*name, other) == 0) {
        free(r);
        return 0;
    }
    free(*name);
    *name = r;
    return 0;
}

/* Rare leftovers after marking (ids alike in 8 characters, or a cloud
 * name that looks like a marked one): mark with the whole id. The same
 * object listed twice is shown once. */
static int fix_leftovers(const struct cfs_name_in *in, size_t n, char **out)
{
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    int err = 0;
    bool again = true;
    if (!ord)
        return -ENOMEM;
    /* A re-marked name may meet another plain one ("x~aaaaaaaa-1111"):
     * look again until no two are alike. Marks grow each round, so this
     * ends. */
    for (int round = 0; again && !err && round < 8; round++) {
        again = false;
        for (size_t i = 0; i < n; i++)
            ord[i] = i;
        qsort_r(ord, n, sizeof *ord, cmp_out, out);
        for (size_t i = 1; i < n && !err; i++) {
            size_t a = ord[i - 1], b = ord[i];
            if (!out[a] || !out[b] || strcmp(out[a], out[b]) != 0)
                continue;
            if (strcmp(in[a].id, in[b].id) == 0 && strcmp(in[a].ext, in[b].ext) == 0) {
                free(out[b]);
                out[b] = NULL;
                ord[i] = a; /* compare the next one with the survivor */
                continue;
            }
            err = remark_full(&in[a], &out[a], out[b]);
            if (!err)
                err = remark_full(&in[b], &out[b], out[a]);
            again = true;
        }
    }
    free(ord);
    return err;
}

int cfs_names_assign(const struct cfs_name_in *in, size_t n, char **out)
{
    struct slot *s = calloc(n ? n : 1, sizeof *s);
    int err = 0;

    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        bool unusable;
        s[i].idx = i;
        out[i] = NULL;
        s[i].base = clean_base(in[i].name, &unusable);
        if (!s[i].base) {
            err = -ENOMEM;
            goto out;
        }
        if (!unusable &&
            asprintf(&s[i].plain, "%s%s%s", s[i].base, dot(in[i].ext), in[i].ext) < 0) {
            err = -ENOMEM;
            goto out;
        }
        if (s[i].plain && strlen(s[i].plain) > NAME_MAX_BYTES) {
            free(s[i].plain);
            s[i].plain = NULL;
        }
        s[i].marked = !s[i].plain;
    }

    /* Collisions of plain names: a lone native keeps its name against
     * views; otherwise every member is marked. */
    qsort_r(s, n, sizeof *s, cmp_slot_plain, (void *)in);
    for (size_t i = 0; i < n && s[i].plain;) {
        size_t j = i + 1, natives = in[s[i].idx].native;
        while (j < n && s[j].plain && strcmp(s[j].plain, s[i].plain) == 0)
            natives += in[s[j++].idx].native;
        if (j - i > 1)
            for (size_t k = i; k < j; k++)
                s[k].marked = !(natives == 1 && in[s[k].idx].native);
        i = j;
    }

    for (size_t i = 0; i < n; i++) {
        const struct cfs_name_in *e = &in[s[i].idx];
        char mark[9];
        snprintf(mark, sizeof mark, "%.8s", e->id);
        out[s[i].idx] = s[i].marked ? marked_name(s[i].base, mark, e->ext) : strdup(s[i].plain);
        if (!out[s[i].idx]) {
            err = -ENOMEM;
            goto out;
        }
    }

    err = fix_leftovers(in, n, out);
out:
    for (size_t i = 0; i < n; i++) {
        free(s[i].plain);
        free(s[i].base);
    }
    free(s);
    if (err)
        for (size_t i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return err;
}

char *cfs_name_by_id(const char *id, const char *ext)
{
    char *r;
    return asprintf(&r, "%s.%s", id, ext) < 0 ? NULL : r;
}

/* The inverse of clean_base's escapes, for a name written into the mount:
 * U+FF0F is '/', U+FF02 '"', a leading U+FF0E '.'; so Glance -> vCD ->
 * Glance gives the name back. U+FFFD stays: what it replaced is gone. */
char *cfs_name_to_cloud(const char *fname)
{
    char *r = malloc(strlen(fname) + 1), *p = r;
    if (!r)
        return NULL;
    for (const char *s = fname; *s;) {
        if (strncmp(s, SOLIDUS, 3) == 0 || strncmp(s, QUOTE, 3) == 0 ||
            (s == fname && strncmp(s, FULLSTOP, 3) == 0)) {
            *p++ = s[2] == SOLIDUS[2] ? '/' : s[2] == QUOTE[2] ? '"' : '.';
            s += 3;
        } else {
            *p++ = *s++;
        }
    }
    *p = '\0';
    return r;
}
