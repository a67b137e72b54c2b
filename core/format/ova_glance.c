/* The Glance properties of the VM an OVA holds (a file written into
 * images/ from local disk): its descriptor member, read from the archive
 * and mapped as a vCD template's is (ovf_glance.c). The OVA's upload
 * itself checks and refuses what is unfit; here a descriptor that cannot
 * be read only means no properties. */
#include "ovf_glance.h"
#include "package.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MEMBERS 256
#define MAX_OVF     (12u << 20) /* vCD's bound, as ovf_parse's */

int ovf_glance_of_ova(struct cfs_source *ova, const char *label, struct ovf_glance *out)
{
    struct tar_member *m = NULL, *d = NULL;
    struct ovf_info info;
    enum cfs_fmt fmt;
    char *xml = NULL;
    size_t n = 0, got = 0;
    int err;

    memset(out, 0, sizeof *out);
    if (cfs_sniff(ova, &fmt) != 0 || fmt != CFS_FMT_OVA)
        return 0;
    if (!(m = calloc(MAX_MEMBERS, sizeof *m)))
        return -ENOMEM;
    if (tar_list(ova, label, m, MAX_MEMBERS, &n) != 0)
        goto out;
    for (size_t i = 0; i < n && !d; i++) {
        size_t len = strlen(m[i].name);
        if (len > 4 && strcasecmp(m[i].name + len - 4, ".ovf") == 0)
            d = &m[i];
    }
    if (!d || d->size > MAX_OVF || !(xml = malloc((size_t)d->size + 1)))
        goto out;
    while (got < d->size) {
        ssize_t r = cfs_source_pread(ova, xml + got, (size_t)d->size - got, d->offset + got);
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    xml[got] = '\0';
    if (ovf_parse(xml, got, label, &info) == 0) {
        err = ovf_glance_map(&info, 0, out);
        ovf_info_free(&info);
        if (err) {
            free(xml);
            free(m);
            return err;
        }
    }
out:
    free(xml);
    free(m);
    return 0;
}
