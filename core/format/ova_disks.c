/* The disks of an OVA copied into Glance (include/package.h): where each
 * lies in the archive and what format it is, in the order the descriptor's
 * DiskSection lists them, so that each can become an image of its own
 * (the first the boot disk, as ovftool and vCD order them). The archive is
 * read in place: nothing is unpacked to disk. */
#include "package_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MEMBERS 256
#define MAX_OVF     (12u << 20) /* vCD's bound on a descriptor, also ours */

static int read_member(struct cfs_source *src, const struct tar_member *m, char **out)
{
    char *buf = malloc((size_t)m->size + 1);
    size_t got = 0;
    if (!buf)
        return -ENOMEM;
    while (got < m->size) {
        ssize_t n = cfs_source_pread(src, buf + got, (size_t)m->size - got, m->offset + got);
        if (n <= 0) {
            free(buf);
            return n < 0 ? (int)n : -EIO;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    return 0;
}

/* The member of that name (a later one replaces an earlier, as tar
 * extracts), or NULL. */
static const struct tar_member *member(const struct tar_member *m, size_t n, const char *name)
{
    const struct tar_member *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].name, name) == 0)
            found = &m[i];
    return found;
}

static int find_disks(struct cfs_source *content, const char *label, const struct tar_member *m,
                      size_t n_members, const struct ovf_info *info, struct cfs_ova_disk *out,
                      size_t *n)
{
    for (size_t d = 0; d < info->n_disks; d++) {
        const struct ovf_disk *disk = &info->disks[d];
        const struct ovf_file *f = NULL;
        for (size_t i = 0; disk->file_ref && i < info->n_files && !f; i++)
            if (strcmp(info->files[i].id, disk->file_ref) == 0)
                f = &info->files[i];
        if (!f)
            continue; /* a blank disk (no file): nothing to upload */
        const struct tar_member *tm = member(m, n_members, f->href);
        if (!tm) {
            cfs_log_error("%s: OVA references %s, which it does not contain", label, f->href);
            return -EINVAL;
        }
        struct cfs_source *slice;
        enum cfs_fmt fmt;
        int err = cfs_slice_source_open(content, tm->offset, tm->size, &slice);
        if (!err) {
            err = cfs_sniff(slice, &fmt);
            cfs_source_close(slice);
        }
        if (err) {
            cfs_log_error("%s: reading its disk %s: %s", label, f->href, strerror(-err));
            return err;
        }
        if (tm->size == 0 || fmt == CFS_FMT_VMDK_DESC || fmt == CFS_FMT_OVA || fmt == CFS_FMT_OVF) {
            cfs_log_error("%s: its disk %s is %s, not a disk image", label, f->href,
                          tm->size == 0 ? "empty" : cfs_fmt_ext(fmt));
            return -EINVAL;
        }
        struct cfs_ova_disk *o = &out[(*n)++];
        o->off = tm->offset;
        o->len = tm->size;
        o->fmt = fmt == CFS_FMT_ISO ? CFS_FMT_RAW : fmt;
        if (!(o->href = strdup(f->href)))
            return -ENOMEM;
    }
    if (*n == 0) {
        cfs_log_error("%s: an OVA whose descriptor names no disk file", label);
        return -EINVAL;
    }
    return 0;
}

int cfs_ova_disks(struct cfs_source *content, const char *label, struct cfs_ova_disk *out,
                  size_t *n, char **ovf)
{
    struct tar_member *m = calloc(MAX_MEMBERS, sizeof *m);
    struct ovf_info info = { 0 };
    const struct tar_member *d = NULL;
    size_t n_members = 0;
    char *xml = NULL;
    int err;

    *n = 0;
    if (ovf)
        *ovf = NULL;
    if (!m)
        return -ENOMEM;
    err = tar_list(content, label, m, MAX_MEMBERS, &n_members);
    if (err == -E2BIG) {
        cfs_log_error("%s: an OVA of more than %d members", label, MAX_MEMBERS);
        err = -EINVAL;
    }
    if (err)
        goto out; /* tar_list logged the rest */
    for (size_t i = 0; i < n_members && !d; i++) {
        size_t len = strlen(m[i].name);
        if (len > 4 && strcasecmp(m[i].name + len - 4, ".ovf") == 0)
            d = &m[i];
    }
    err = -EINVAL;
    if (!d)
        cfs_log_error("%s: an OVA without an .ovf descriptor", label);
    else if (d->size > MAX_OVF)
        cfs_log_error("%s: its OVF descriptor is over 12 MiB", label);
    else if ((err = read_member(content, d, &xml)))
        cfs_log_error("%s: reading its OVF descriptor: %s", label, strerror(-err));
    if (!err)
        err = ovf_parse(xml, (size_t)d->size, label, &info);
    if (!err)
        err = find_disks(content, label, m, n_members, &info, out, n);
    if (!err && ovf) {
        *ovf = xml;
        xml = NULL;
    }
out:
    if (err)
        cfs_ova_disks_free(out, n);
    ovf_info_free(&info);
    free(xml);
    free(m);
    return err;
}

void cfs_ova_disks_free(struct cfs_ova_disk *disks, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free(disks[i].href);
        disks[i].href = NULL;
    }
    *n = 0;
}
