/* VM disks on the datastore, read over the vCenter's /folder endpoint
 * (GET /folder/<path>?dcPath=<datacenter>&dsName=<datastore>, with the
 * session cookie, ranged). A disk's file is either a text descriptor
 * (disk.vmdk) naming a flat extent beside it (disk-flat.vmdk), which is
 * the disk's raw bytes, or a hosted sparse VMDK that the format layer
 * decodes. Names from the vCenter never leave the datastore directory:
 * paths with "." or ".." segments are refused, the rest is escaped. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Enough for any descriptor (VMDK_DESC_MAX_BYTES) and a sparse header. */
#define HEAD_BYTES VMDK_DESC_MAX_BYTES

static char *esc(const char *s, size_t n)
{
    char *part = strndup(s, n), *out = part ? cfs_url_escape(part) : NULL;
    free(part);
    return out;
}

/* "[ds] dir/file" -> ds and "dir/file". */
static int split(const char *ds_path, char **ds, const char **path)
{
    const char *close = ds_path[0] == '[' ? strchr(ds_path, ']') : NULL;
    if (!close || close == ds_path + 1)
        return -EINVAL;
    *path = close + 1 + strspn(close + 1, " ");
    *ds = strndup(ds_path + 1, (size_t)(close - ds_path - 1));
    return *ds ? 0 : -ENOMEM;
}

char *vs_folder_url(struct vs_cloud *c, const char *ds_path)
{
    char *ds = NULL, *out = NULL, *url = NULL;
    const char *path;
    size_t len = 0;

    if (split(ds_path, &ds, &path) || !*path) {
        cfs_log_error("vsphere: %s: unusable datastore path %s", c->base.name, ds_path);
        free(ds);
        return NULL;
    }
    url = cfs_printf("%s/folder", c->url);
    len = url ? strlen(url) : 0;
    for (const char *p = path; url && *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2))) {
            cfs_log_error("vsphere: %s: datastore path %s has an empty, . or .. part: refused",
                          c->base.name, ds_path);
            free(url);
            url = NULL;
            break;
        }
        char *seg = esc(p, n), *longer = seg ? realloc(url, len + strlen(seg) + 2) : NULL;
        if (!longer) {
            free(seg);
            free(url);
            url = NULL;
            break;
        }
        url = longer;
        len += (size_t)sprintf(url + len, "/%s", seg);
        free(seg);
        p += n + (p[n] == '/');
    }
    char *dsn = url ? esc(ds, strlen(ds)) : NULL;
    if (dsn)
        out = cfs_printf("%s?dcPath=%s&dsName=%s", url, c->dc_path, dsn);
    free(dsn);
    free(url);
    free(ds);
    return out;
}

struct head {
    char buf[HEAD_BYTES];
    size_t len;
};

static int to_head(void *ctx, const char *data, size_t len)
{
    struct head *h = ctx;
    size_t n = len < sizeof h->buf - h->len ? len : sizeof h->buf - h->len;
    memcpy(h->buf + h->len, data, n);
    h->len += n;
    /* A server that ignores Range sends it all: stop once we have ours. */
    return h->len == sizeof h->buf ? -EOVERFLOW : 0;
}

/* The first bytes of a datastore file and its whole size. */
static int read_head(struct vs_cloud *c, const char *url, const char *label, struct head *h,
                     uint64_t *total)
{
    char cookie[1024], range[64];
    int err = vs_auth_header(&c->auth, NULL, cookie, sizeof cookie);
    if (err)
        return err;
    snprintf(range, sizeof range, "Range: bytes=0-%u", HEAD_BYTES - 1);
    const char *hdrs[] = { cookie, range, NULL };
    struct cfs_http_req req = {
        .method = "GET",
        .url = url,
        .headers = hdrs,
        .tls = &c->tls,
        .sink = to_head,
        .sink_ctx = h,
        .only_2xx_to_sink = true,
    };
    struct cfs_http_resp resp = { 0 };
    h->len = 0;
    err = cfs_http_do(&req, &resp);
    explicit_bzero(cookie, sizeof cookie);
    if (err == -EOVERFLOW)
        err = 0;
    if (err) {
        cfs_log_error("vsphere: %s: %s: reading its disk file failed: %s", c->base.name, label,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
        cfs_http_resp_free(&resp);
        return err;
    }
    char *cr = cfs_http_header(&resp, "Content-Range"),
         *cl = cfs_http_header(&resp, "Content-Length");
    const char *slash = cr ? strrchr(cr, '/') : NULL;
    if (resp.status == 206 && slash && slash[1] != '*')
        *total = strtoull(slash + 1, NULL, 10);
    else if (resp.status == 200 && cl)
        *total = strtoull(cl, NULL, 10);
    else if (resp.status == 404)
        err = -ENOENT;
    else if (resp.status == 416 && cr && !strcmp(cr, "bytes */0"))
        err = -ENODATA; /* an empty file: vcsim's VMs have them */
    else
        err = resp.status == 401 || resp.status == 403 ? -EACCES : -EIO;
    if (err == -ENODATA)
        cfs_log_info("vsphere: %s: %s: its disk file is empty, not listed", c->base.name, label);
    else if (err)
        cfs_log_error("vsphere: %s: %s: its disk file answered HTTP %ld", c->base.name, label,
                      resp.status);
    free(cr);
    free(cl);
    cfs_http_resp_free(&resp);
    return err;
}

/* "[ds] dir/disk.vmdk" and "disk-flat.vmdk" -> "[ds] dir/disk-flat.vmdk". */
static char *sibling(const char *ds_path, const char *file)
{
    const char *slash = strrchr(ds_path, '/'), *close = strchr(ds_path, ']');
    const char *end = slash ? slash + 1 : close ? close + 1 : ds_path;
    return cfs_printf("%.*s%s%s", (int)(end - ds_path), ds_path, slash ? "" : " ", file);
}

static int probe(struct vs_cloud *c, const char *ds_path, const char *label, unsigned depth,
                 struct vs_extent *out);

/* A delta disk (a VM with snapshots: disk-000001.vmdk): its base, found
 * through parentFileNameHint, gives the disk's size and kind; the delta's
 * own bytes cannot be read yet (vs_open refuses it where it matters). */
static int base_of(struct vs_cloud *c, const char *ds_path, const struct vmdk_desc *d,
                   const char *label, unsigned depth, struct vs_extent *out)
{
    if (!d->parent_hint[0] || strchr(d->parent_hint, '/') || depth >= 8) {
        cfs_log_error("vsphere: %s: %s: a delta disk whose parent (%s) is not beside it",
                      c->base.name, label, d->parent_hint[0] ? d->parent_hint : "unnamed");
        return -ENOTSUP;
    }
    char *parent = sibling(ds_path, d->parent_hint);
    int err = parent ? probe(c, parent, label, depth + 1, out) : -ENOMEM;
    free(parent);
    out->delta = true;
    return err;
}

int vs_extent_probe(struct vs_cloud *c, const char *ds_path, const char *label,
                    struct vs_extent *out)
{
    return probe(c, ds_path, label, 0, out);
}

static int probe(struct vs_cloud *c, const char *ds_path, const char *label, unsigned depth,
                 struct vs_extent *out)
{
    struct head *h = malloc(sizeof *h);
    struct vmdk_desc *d = NULL;
    uint64_t total = 0;
    char *url = NULL;
    int err;

    memset(out, 0, sizeof *out);
    if (!h)
        return -ENOMEM;
    if ((err = vs_datacenter(c)))
        goto out;
    if (!(url = vs_folder_url(c, ds_path))) {
        err = -EINVAL;
        goto out;
    }
    if ((err = read_head(c, url, label, h, &total)))
        goto out;
    if (h->len >= 4 && !memcmp(h->buf, "KDMV", 4)) {
        /* A hosted sparse disk (monolithicSparse, streamOptimized). */
        out->url = url, url = NULL;
        out->size = total;
        out->ext = "vmdk";
        goto out;
    }
    if (h->len >= 4 && !memcmp(h->buf, "COWD", 4)) {
        cfs_log_error("vsphere: %s: %s: an ESX sparse (delta) disk: not readable yet", c->base.name,
                      label);
        err = -ENOTSUP;
        goto out;
    }
    if (total > HEAD_BYTES) {
        cfs_log_error("vsphere: %s: %s: its disk file is neither a descriptor nor a sparse VMDK",
                      c->base.name, label);
        err = -EINVAL;
        goto out;
    }
    if (!(d = malloc(sizeof *d))) {
        err = -ENOMEM;
        goto out;
    }
    if ((err = vmdk_desc_parse(h->buf, h->len, label, d)))
        goto out;
    const struct vmdk_extent *x = d->n_extents == 1 ? &d->extents[0] : NULL;
    if (d->has_parent) {
        err = base_of(c, ds_path, d, label, depth, out);
    } else if (!x || (strcmp(x->type, "FLAT") && strcmp(x->type, "VMFS")) || x->offset) {
        cfs_log_error("vsphere: %s: %s: disk type %s with %zu extent(s) of type %s: only one "
                      "flat extent (vmfs, monolithicFlat) is readable yet",
                      c->base.name, label, d->create_type, d->n_extents,
                      d->n_extents ? d->extents[0].type : "none");
        err = -ENOTSUP;
    } else {
        char *flat = sibling(ds_path, x->file);
        err = !flat ? -ENOMEM : (out->url = vs_folder_url(c, flat)) ? 0 : -EINVAL; /* logged */
        free(flat);
        out->size = x->sectors * 512;
        out->ext = "raw";
    }
out:
    free(d);
    free(h);
    free(url);
    return err;
}

void vs_extent_free(struct vs_extent *e)
{
    free(e->url);
    memset(e, 0, sizeof *e);
}

int vs_extent_open(struct vs_cloud *c, const struct vs_extent *e, const char *label,
                   struct cfs_source **out)
{
    struct cfs_http_source_params p = {
        .url = e->url,
        .size = e->size,
        .tls = &c->tls,
        .auth = &c->auth,
        .label = label,
        .lazy_stream = strcmp(e->ext, "vmdk") == 0,
    };
    return cfs_http_source_open(&p, out);
}
