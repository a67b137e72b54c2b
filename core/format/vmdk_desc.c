/* VMDK text descriptors (ref/formats.md §3.4): the "disk.vmdk" that a
 * datastore keeps beside its extents ("disk-flat.vmdk"), and the one
 * embedded in a sparse extent. Parsed as untrusted text: every field
 * bounded, extent files only as plain names in the descriptor's own
 * directory. */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "vmdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SECTORS (1ull << 40) /* 512 TiB: beyond any datastore's disks */

bool vmdk_desc_value(const char *line, const char *key, char *val, size_t cap)
{
    size_t kl = strlen(key);
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp(line, key, kl) != 0)
        return false;
    line += kl;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '=')
        return false;
    while (*line == ' ' || *line == '\t' || *line == '"')
        line++;
    size_t n = 0;
    while (line[n] && line[n] != '"' && line[n] != '\r' && line[n] != ' ' && n + 1 < cap)
        n++;
    memcpy(val, line, n);
    val[n] = '\0';
    return true;
}

static int bad(const char *label, const char *why, const char *line)
{
    cfs_log_error("vmdk: %s: descriptor: %s: \"%.80s\"", label, why, line);
    return -EINVAL;
}

/* "RW 4192256 VMFS "disk-flat.vmdk" [offset]" */
static int extent_line(const char *line, const char *label, struct vmdk_extent *e)
{
    char access[16], type[16];
    unsigned long long sectors, offset = 0;
    int used = 0;

    if (sscanf(line, "%15s %llu %15s %n", access, &sectors, type, &used) != 3 || !used)
        return bad(label, "an extent line that cannot be read", line);
    const char *q = line + used;
    if (strcmp(type, "ZERO") == 0) {
        e->file[0] = '\0';
    } else {
        const char *end = *q == '"' ? strchr(q + 1, '"') : NULL;
        size_t n = end ? (size_t)(end - q - 1) : 0;
        if (!end || n == 0 || n >= sizeof e->file)
            return bad(label, "an extent without a quoted file name", line);
        memcpy(e->file, q + 1, n);
        e->file[n] = '\0';
        /* Extents of a datastore disk lie in its own directory: a name
         * with a directory could reach any file of the datastore. */
        if (strchr(e->file, '/') || strchr(e->file, '\\') || strcmp(e->file, "..") == 0 ||
            strcmp(e->file, ".") == 0)
            return bad(label, "an extent file outside the descriptor's directory", line);
        for (const char *p = e->file; *p; p++)
            if ((unsigned char)*p < ' ')
                return bad(label, "a control character in an extent's file name", line);
        q = end + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q && *q != '\r' && sscanf(q, "%llu", &offset) != 1)
            return bad(label, "an extent offset that is no number", line);
    }
    if (sectors == 0 || sectors > MAX_SECTORS || offset > MAX_SECTORS)
        return bad(label, "an extent size out of range", line);
    snprintf(e->type, sizeof e->type, "%s", type);
    e->sectors = sectors;
    e->offset = offset;
    e->writable = strcmp(access, "RW") == 0;
    return 0;
}

int vmdk_desc_parse(const char *text, size_t len, const char *label, struct vmdk_desc *out)
{
    char parent[64] = "ffffffff";

    memset(out, 0, sizeof *out);
    /* qemu-img pads the descriptor it writes to a whole sector with NULs. */
    const char *nul = memchr(text, '\0', len);
    size_t pad = nul ? len - (size_t)(nul - text) : 0;
    while (nul && pad && !nul[pad - 1])
        pad--;
    if (nul && pad == 0)
        len = (size_t)(nul - text);
    if (len > VMDK_DESC_MAX_BYTES || memchr(text, '\0', len)) {
        cfs_log_error("vmdk: %s: not a text descriptor (%zu bytes)", label, len);
        return -EINVAL;
    }
    char *copy = strndup(text, len);
    if (!copy)
        return -ENOMEM;
    int err = 0;
    for (char *line = copy, *next; !err && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        vmdk_desc_value(line, "createType", out->create_type, sizeof out->create_type);
        vmdk_desc_value(line, "parentCID", parent, sizeof parent);
        vmdk_desc_value(line, "parentFileNameHint", out->parent_hint, sizeof out->parent_hint);
        if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
            !strncmp(line, "NOACCESS ", 9)) {
            if (out->n_extents == VMDK_DESC_MAX_EXTENTS)
                err = bad(label, "too many extents", line);
            else
                err = extent_line(line, label, &out->extents[out->n_extents++]);
        }
    }
    free(copy);
    if (err)
        return err;
    out->has_parent = strcasecmp(parent, "ffffffff") != 0;
    if (!*out->create_type || out->n_extents == 0) {
        cfs_log_error("vmdk: %s: not a VMDK descriptor (no createType or no extent)", label);
        return -EINVAL;
    }
    return 0;
}
