/* libraries/: the vCenter's content libraries (vAPI REST, rest.c), one
 * directory each; in one, every item of type ovf as files, sizes exact
 * from the item's file list: <item>.ovf (the stored descriptor), <item>.vmdk
 * (its first disk), <item>-diskN.vmdk (the others) and <item>.ova (the
 * descriptor and the files it references, as a tar). The descriptor is
 * read at listing (a download session) for the disk order and the VM's
 * hardware, which rides along as user.cloudfs.props.* as the vCD
 * templates' does.
 *
 * Reading goes through a download session: each file is prepared, then
 * fetched from its download_endpoint. Where that endpoint honours Range
 * (a vCenter) the file is read as an HTTP source and the session deleted
 * when the last source over it closes; where it does not (vcsim answers
 * 200 and the whole file), the file is fetched into the cache directory
 * at open and the session deleted at once. */
#define _GNU_SOURCE
#include "log.h"
#include "package.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_OVF       (12u << 20) /* ovf_parse's bound */
#define PREPARE_S     600         /* a file's preparation must end by then */
#define TRANSFER_BUFS (1u << 20)

/* ---- small helpers ---- */

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/* A vAPI id: what may stand in a path and an object id. */
static void set_times(struct cfs_object *o, json_t *info)
{
    const char *m = jstr(info, "last_modified_time"), *cr = jstr(info, "creation_time");
    if (!m || cfs_parse_iso8601(m, &o->mtime) != 0)
        o->mtime.tv_sec = o->mtime.tv_nsec = 0;
    if (!cr || cfs_parse_iso8601(cr, &o->ctime) != 0)
        o->ctime = o->mtime;
}

/* ---- libraries ---- */

static int get_library(struct vs_cloud *c, const char *id, json_t **info)
{
    char *rp = cfs_printf("/com/vmware/content/library/id:%s", id);
    char *ap = cfs_printf("/content/library/%s", id), what[200];
    snprintf(what, sizeof what, "content library %s", id);
    int err = rp && ap ? vs_rest(c, "GET", rp, ap, NULL, NULL, what, info) : -ENOMEM;
    free(rp);
    free(ap);
    return err;
}

int vs_list_libraries(struct vs_cloud *c, struct cfs_object_list *out)
{
    json_t *ids = NULL;
    size_t cap = 0, i;
    json_t *v;
    int err = vs_rest(c, "GET", "/com/vmware/content/library", "/content/library", NULL, NULL,
                      "list of content libraries", &ids);

    memset(out, 0, sizeof *out);
    json_array_foreach (ids, i, v) {
        const char *id = json_string_value(v);
        json_t *info = NULL;
        struct cfs_object o = { 0 };
        if (err)
            break;
        if (!vs_id_ok(id)) {
            cfs_log_warn("vsphere: %s: a content library with an unusable id is skipped",
                         c->base.name);
            continue;
        }
        if ((err = get_library(c, id, &info))) {
            if (err == -ENOENT)
                err = 0; /* deleted meanwhile */
            continue;
        }
        const char *name = jstr(info, "name");
        if (name) {
            o.id = strdup(id);
            o.name = strdup(name);
            o.ext = strdup("");
            o.is_dir = true;
            set_times(&o, info);
            err = o.id && o.name && o.ext ? 0 : -ENOMEM;
            if (!err)
                err = cfs_object_add_xattr(&o, "user.cloudfs.id", id);
            if (!err && jstr(info, "type"))
                err = cfs_object_add_xattr(&o, "user.vsphere.library_type", jstr(info, "type"));
            if (!err)
                err = cfs_object_list_add(out, &cap, &o);
            if (err)
                cfs_object_clear(&o);
        }
        json_decref(info);
    }
    json_decref(ids);
    if (err)
        cfs_object_list_free(out);
    return err;
}

int vs_library_find(struct vs_cloud *c, const char *lib, char **id, bool *subscribed)
{
    struct cfs_object_list all;
    const struct cfs_object *hit = NULL;
    const char *tilde = strrchr(lib, '~');

    *id = NULL;
    int err = vs_list_libraries(c, &all);
    if (err)
        return err;
    for (size_t i = 0; i < all.n && !hit; i++)
        if (strcmp(all.v[i].name, lib) == 0)
            hit = &all.v[i];
    /* fs/ shows duplicate names as name~<id prefix>. */
    for (size_t i = 0; i < all.n && !hit && tilde && tilde[1]; i++) {
        size_t base = (size_t)(tilde - lib);
        const struct cfs_object *o = &all.v[i];
        if (strlen(o->name) == base && !strncmp(o->name, lib, base) &&
            !strncmp(o->id, tilde + 1, strlen(tilde + 1)))
            hit = o;
    }
    if (hit && !(*id = strdup(hit->id)))
        err = -ENOMEM;
    if (hit && subscribed) {
        const char *type = cfs_object_xattr(hit, "user.vsphere.library_type");
        *subscribed = type && !strcasecmp(type, "SUBSCRIBED");
    }
    cfs_object_list_free(&all);
    return err ? err : hit ? 0 : -ENOENT;
}

/* ---- download sessions ---- */

struct dl {
    struct vs_cloud *c;
    char *id;
    pthread_mutex_t lock;
    unsigned refs;
};

static void dl_delete(struct vs_cloud *c, const char *id)
{
    char *rp = cfs_printf("/com/vmware/content/library/item/download-session/id:%s", id);
    char *ap = cfs_printf("/content/library/item/download-session/%s", id);
    if (rp && ap)
        vs_rest(c, "DELETE", rp, ap, NULL, NULL, "deletion of a download session", NULL);
    free(rp);
    free(ap);
}

static void dl_unref(struct dl *d)
{
    pthread_mutex_lock(&d->lock);
    bool last = --d->refs == 0;
    pthread_mutex_unlock(&d->lock);
    if (!last)
        return;
    dl_delete(d->c, d->id);
    pthread_mutex_destroy(&d->lock);
    free(d->id);
    free(d);
}

static int dl_create(struct vs_cloud *c, const char *item, const char *what, struct dl **out)
{
    json_t *ans = NULL;
    int err = vs_rest(c, "POST", "/com/vmware/content/library/item/download-session",
                      "/content/library/item/download-session",
                      json_pack("{ss}", "library_item_id", item), "create_spec", what, &ans);
    *out = NULL;
    if (!err && !vs_id_ok(json_string_value(ans))) {
        cfs_log_error("vsphere: %s: %s: the new download session has no usable id", c->base.name,
                      what);
        err = -EPROTO;
    }
    struct dl *d = err ? NULL : calloc(1, sizeof *d);
    if (!err && (!d || !(d->id = strdup(json_string_value(ans))))) {
        if (!d || !d->id)
            dl_delete(c, json_string_value(ans));
        free(d);
        err = -ENOMEM;
    }
    json_decref(ans);
    if (err)
        return err;
    d->c = c;
    d->refs = 1;
    pthread_mutex_init(&d->lock, NULL);
    *out = d;
    return 0;
}

/* Prepares file of the session and waits until it is PREPARED; *uri its
 * download endpoint. */
static int dl_prepare(struct dl *d, const char *file, const char *what, char **uri)
{
    struct vs_cloud *c = d->c;
    char *ef = cfs_url_escape(file);
    char *rp = cfs_printf(
        "/com/vmware/content/library/item/downloadsession/file/id:%s?~action=prepare", d->id);
    char *ap = cfs_printf("/content/library/item/download-session/%s/file?action=prepare", d->id);
    char *rg = cfs_printf("/com/vmware/content/library/item/downloadsession/file/id:%s?~action=get",
                          d->id);
    char *ag =
        ef ? cfs_printf("/content/library/item/download-session/%s/file?file_name=%s", d->id, ef)
           : NULL;
    double deadline = cfs_now() + PREPARE_S;
    json_t *info = NULL;
    int err = rp && ap && rg && ag ? 0 : -ENOMEM, spelling = 0;

    *uri = NULL;
    if (!err)
        err = vs_rest(c, "POST", rp, ap, json_pack("{ss}", "file_name", file), NULL, what, &info);
    for (unsigned polls = 0; !err; polls++) {
        const char *status = jstr(info, "status");
        if (status && !strcmp(status, "PREPARED")) {
            const char *u = jstr(json_object_get(info, "download_endpoint"), "uri");
            if (!(*uri = vs_endpoint_url(c, u))) {
                cfs_log_error("vsphere: %s: %s: the prepared file has no usable download "
                              "endpoint",
                              c->base.name, what);
                err = -EPROTO;
            }
            break;
        }
        if (!status || (strcmp(status, "PREPARING") && strcmp(status, "UNPREPARED"))) {
            const char *m = jstr(json_object_get(info, "error_message"), "default_message");
            cfs_log_error("vsphere: %s: %s: the preparation of %s ended %s%s%s", c->base.name, what,
                          file, status ? status : "(no status)", m ? ": " : "", m ? m : "");
            err = -EIO;
            break;
        }
        if (cfs_now() > deadline) {
            cfs_log_error("vsphere: %s: %s: %s is not prepared after %d s", c->base.name, what,
                          file, PREPARE_S);
            err = -ETIMEDOUT;
            break;
        }
        cfs_sleep(polls < 10 ? 0.2 : 1.0);
        json_decref(info);
        info = NULL;
        if ((spelling = vs_rest_spelling(c)) < 0)
            err = spelling;
        else if (spelling == VS_REST_API)
            err = vs_rest(c, "GET", rg, ag, NULL, NULL, what, &info);
        else
            err =
                vs_rest(c, "POST", rg, ag, json_pack("{ss}", "file_name", file), NULL, what, &info);
    }
    json_decref(info);
    free(ef);
    free(rp);
    free(ap);
    free(rg);
    free(ag);
    return err;
}

/* The last close of a source over the session's file ends the session. */
static void dl_release(void *ctx)
{
    dl_unref(ctx);
}

struct probe_sink {
    int fd;
    uint64_t limit, got;
};

static int to_fd(void *ctx, const char *data, size_t len)
{
    struct probe_sink *s = ctx;
    bool over = len > s->limit - s->got;
    s->got += len; /* past limit: the log line says so */
    if (over)
        return -EIO;
    return cfs_write_all(s->fd, data, len);
}

/* The source of one prepared file of size bytes at uri. The first request
 * asks for byte 0 only: 206 means ranges work (an HTTP source over the
 * endpoint, holding the session); a 200 brings the whole file, which goes
 * to the cache directory (a file source; the session is not needed). */
static int dl_source(struct dl *d, const char *uri, uint64_t size, const char *label,
                     struct cfs_source **out)
{
    struct vs_cloud *c = d->c;
    const char *cache = c->base.cache_dir ? c->base.cache_dir : "/var/tmp";
    char *path = cfs_printf("%s/vsphere-XXXXXX", cache), *h = NULL;
    struct probe_sink s = { .fd = -1, .limit = size };
    struct cfs_http_resp resp = { 0 };
    struct statvfs v;
    int spelling, err;
    unsigned gen;

    *out = NULL;
    if (!path)
        return -ENOMEM;
    if (statvfs(cache, &v) == 0) {
        uint64_t avail = (uint64_t)v.f_bavail * (v.f_frsize ? v.f_frsize : v.f_bsize);
        if (avail < c->base.cache_reserve_bytes || avail - c->base.cache_reserve_bytes < size) {
            cfs_log_error("vsphere: %s: %s: %.1f MiB would leave less than cache_reserve free in "
                          "%s",
                          c->base.name, label, size / 1048576.0, cache);
            free(path);
            return -ENOSPC;
        }
    }
    if ((s.fd = mkstemp(path)) < 0) {
        err = -errno;
        cfs_log_error("vsphere: %s: %s: cannot create a file in %s: %s", c->base.name, label, cache,
                      strerror(errno));
        free(path);
        return err;
    }
    if ((err = vs_rest_session(c, &h, &spelling, &gen)))
        goto out;
    const char *hdrs[] = { h, "Range: bytes=0-0", NULL };
    struct cfs_http_req req = { .method = "GET",
                                .url = uri,
                                .headers = hdrs,
                                .tls = &c->tls,
                                .sink = to_fd,
                                .sink_ctx = &s,
                                .only_2xx_to_sink = true };
    err = cfs_http_do(&req, &resp);
    if (err) {
        cfs_log_error("vsphere: %s: %s: GET of the download endpoint: %s", c->base.name, label,
                      s.got > size               ? "more bytes than the item's file list says"
                      : cfs_http_last_error()[0] ? cfs_http_last_error()
                                                 : strerror(-err));
    } else if (resp.status == 206 && size > 0) {
        struct cfs_source *inner;
        /* The auth lives in the cloud: the header is renewed on 401. */
        struct cfs_http_source_params p = {
            .url = uri, .size = size, .tls = &c->tls, .auth = &c->rest_auth.base, .label = label
        };
        if ((err = cfs_http_source_open(&p, &inner)))
            goto out;
        if ((err = cfs_hook_source_open(inner, dl_release, d, out))) {
            inner->ops->close(inner);
            goto out;
        }
        pthread_mutex_lock(&d->lock);
        d->refs++;
        pthread_mutex_unlock(&d->lock);
    } else if (resp.status == 200 || (resp.status == 206 && size == 0)) {
        if (s.got != size) {
            cfs_log_error("vsphere: %s: %s: download incomplete: %" PRIu64 " of %" PRIu64 " bytes",
                          c->base.name, label, s.got, size);
            err = -EIO;
        } else {
            err = cfs_file_source_open(path, out);
        }
    } else {
        char text[300];
        cfs_http_error_text(&resp, text, sizeof text);
        cfs_log_error("vsphere: %s: %s: GET of the download endpoint: HTTP %ld%s%s", c->base.name,
                      label, resp.status, *text ? ": " : "", text);
        err = resp.status == 401 || resp.status == 403 ? -EACCES
              : resp.status == 404                     ? -ENOENT
                                                       : -EIO;
    }
out:
    cfs_free_secret(h);
    cfs_http_resp_free(&resp);
    close(s.fd);
    unlink(path); /* the file source keeps it open */
    free(path);
    return err;
}

/* The bytes of item file name (size bytes) through a fresh or given
 * session. */
static int open_file(struct dl *d, const char *name, uint64_t size, const char *label,
                     struct cfs_source **out)
{
    char what[600], *uri = NULL;
    snprintf(what, sizeof what, "%s: preparing %s for download", label, name);
    int err = dl_prepare(d, name, what, &uri);
    if (!err)
        err = dl_source(d, uri, size, label, out);
    free(uri);
    return err;
}

/* ---- items ---- */

/* The item's descriptor, whole, into memory (at most MAX_OVF). */
static int read_ovf(struct vs_cloud *c, const char *item, const char *name, uint64_t size,
                    const char *label, char **xml)
{
    struct cfs_source *src = NULL;
    struct dl *d;
    *xml = NULL;
    if (size == 0 || size > MAX_OVF) {
        cfs_log_warn("vsphere: %s: %s: its descriptor %s is %" PRIu64 " bytes: not read",
                     c->base.name, label, name, size);
        return -EINVAL;
    }
    char what[600];
    snprintf(what, sizeof what, "%s: download session", label);
    int err = dl_create(c, item, what, &d);
    if (err)
        return err;
    err = open_file(d, name, size, label, &src);
    if (!err && !(*xml = malloc(size + 1)))
        err = -ENOMEM;
    if (!err) {
        ssize_t n = cfs_source_pread(src, *xml, size, 0);
        if (n != (ssize_t)size) {
            err = n < 0 ? (int)n : -EIO;
            free(*xml);
            *xml = NULL;
        } else {
            (*xml)[size] = '\0';
        }
    }
    if (src)
        cfs_source_close(src);
    dl_unref(d);
    return err;
}

static int file_size(json_t *files, const char *name, uint64_t *size)
{
    size_t i;
    json_t *f;
    json_array_foreach (files, i, f) {
        const char *n = jstr(f, "name");
        json_t *sz = json_object_get(f, "size");
        if (n && !strcmp(n, name) && json_is_integer(sz) && json_integer_value(sz) >= 0) {
            *size = (uint64_t)json_integer_value(sz);
            return 0;
        }
    }
    return -ENOENT;
}

static int item_files(struct vs_cloud *c, const char *item, const char *what, json_t **files)
{
    char *rp = cfs_printf("/com/vmware/content/library/item/file?library_item_id=%s", item);
    char *ap = cfs_printf("/content/library/item/%s/file", item);
    int err = rp && ap ? vs_rest(c, "GET", rp, ap, NULL, NULL, what, files) : -ENOMEM;
    free(rp);
    free(ap);
    if (!err && !json_is_array(*files)) {
        json_decref(*files);
        *files = json_array();
    }
    return err;
}

static bool is_disk_file(const struct ovf_info *info, const char *file_id, size_t *disk)
{
    for (size_t d = 0; d < info->n_disks; d++)
        if (info->disks[d].file_ref && !strcmp(info->disks[d].file_ref, file_id)) {
            *disk = d;
            return true;
        }
    return false;
}

void vs_item_layout(json_t *files, const struct ovf_info *info, bool parsed,
                    struct vs_item_layout *l)
{
    size_t i, d;
    json_t *f;
    memset(l, 0, sizeof *l);
    json_array_foreach (files, i, f) {
        const char *n = jstr(f, "name");
        if (n && !l->ovf && cfs_ends_with(n, ".ovf") && !file_size(files, n, &l->ovf_size))
            l->ovf = n;
    }
    if (parsed) {
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; k < info->n_files && l->n < OVF_MAX_ITEMS; k++) {
                bool disk = is_disk_file(info, info->files[k].id, &d);
                uint64_t sz;
                if (disk != (pass == 0) || file_size(files, info->files[k].href, &sz))
                    continue;
                l->names[l->n] = info->files[k].href;
                l->sizes[l->n] = sz;
                if (disk)
                    l->disk_of[l->n_disks++] = d;
                l->n++;
            }
        return;
    }
    /* No descriptor to go by: the .vmdk files, in the server's order. */
    json_array_foreach (files, i, f) {
        const char *n = jstr(f, "name");
        uint64_t sz;
        if (n && cfs_ends_with(n, ".vmdk") && l->n < OVF_MAX_ITEMS && !file_size(files, n, &sz)) {
            l->names[l->n] = n;
            l->sizes[l->n] = sz;
            l->disk_of[l->n_disks++] = 0;
            l->n++;
        }
    }
}

static uint64_t round512(uint64_t n)
{
    return (n + 511) & ~(uint64_t)511;
}

uint64_t vs_item_ova_size(const struct vs_item_layout *l)
{
    uint64_t s = 512 + round512(l->ovf_size) + 1024;
    for (size_t i = 0; i < l->n; i++)
        s += 512 + round512(l->sizes[i]);
    return s;
}

struct items {
    struct vs_cloud *c;
    struct cfs_object_list *out;
    size_t cap;
};

/* One file of the listing: name.ext with the files it is made of
 * ("user.vsphere.files": '/'-separated item file names, the descriptor
 * first for an .ova). */
static int add_file(struct items *is, const struct cfs_object *proto, const char *name,
                    const char *id, const char *ext, uint64_t size, const char *files,
                    const struct ovf_info *info, bool parsed, size_t disk)
{
    struct cfs_object o = *proto;
    o.name = strdup(name);
    o.id = strdup(id);
    o.ext = strdup(ext);
    o.size = size;
    o.xattrs = malloc(proto->xattrs_len ? proto->xattrs_len : 1);
    int err = o.name && o.id && o.ext && o.xattrs ? 0 : -ENOMEM;
    if (!err) {
        memcpy(o.xattrs, proto->xattrs, proto->xattrs_len);
        err = cfs_object_add_xattr(&o, "user.vsphere.files", files);
    }
    if (!err && parsed)
        err = cfs_object_add_hw(&o, info, disk);
    if (!err)
        err = cfs_object_list_add(is->out, &is->cap, &o);
    if (err)
        cfs_object_clear(&o);
    return err;
}

static int add_item(struct items *is, const char *id)
{
    struct vs_cloud *c = is->c;
    char *rp = cfs_printf("/com/vmware/content/library/item/id:%s", id);
    char *ap = cfs_printf("/content/library/item/%s", id), label[400], what[400], *xml = NULL;
    json_t *info = NULL, *files = NULL;
    struct cfs_object proto = { 0 };
    struct ovf_info ovf = { 0 };
    struct vs_item_layout l;
    bool parsed = false;
    int err;

    snprintf(what, sizeof what, "library item %s", id);
    err = rp && ap ? vs_rest(c, "GET", rp, ap, NULL, NULL, what, &info) : -ENOMEM;
    free(rp);
    free(ap);
    if (err)
        return err == -ENOENT ? 0 : err; /* deleted meanwhile */
    const char *name = jstr(info, "name"), *type = jstr(info, "type");
    if (!name || !type || strcasecmp(type, "ovf") != 0)
        goto out; /* ISO images, VM templates (vmtx) and other files are not OVF packages */
    snprintf(label, sizeof label, "library item %s", name);
    if ((err = item_files(c, id, label, &files)))
        goto out;
    vs_item_layout(files, &ovf, false, &l);
    if (l.ovf && read_ovf(c, id, l.ovf, l.ovf_size, label, &xml) == 0 &&
        ovf_parse(xml, strlen(xml), label, &ovf) == 0)
        parsed = true;
    vs_item_layout(files, &ovf, parsed, &l);
    if (!l.ovf && !l.n_disks)
        goto out; /* an item still being uploaded, or an empty one */
    set_times(&proto, info);
    proto.no_views = true;
    proto.hw.cpus = ovf.vm.cpus;
    proto.hw.memory_mb = ovf.vm.memory_mb < 1u << 30 ? (unsigned)ovf.vm.memory_mb : 0;
    if ((err = cfs_object_add_xattr(&proto, "user.cloudfs.id", id)) ||
        (err = cfs_object_add_xattr(&proto, "user.vsphere.item", id)) ||
        (err = cfs_object_add_xattr(&proto, "user.vsphere.name", name)))
        goto out;
    if (l.ovf) {
        /* The .ova: the descriptor, then every file it references. */
        size_t len = strlen(l.ovf) + 1;
        for (size_t i = 0; i < l.n; i++)
            len += strlen(l.names[i]) + 1;
        char *all = malloc(len), *p = all;
        if (!all) {
            err = -ENOMEM;
            goto out;
        }
        p += sprintf(p, "%s", l.ovf);
        for (size_t i = 0; i < l.n; i++)
            p += sprintf(p, "/%s", l.names[i]);
        err = add_file(is, &proto, name, id, "ova", vs_item_ova_size(&l), all, &ovf, parsed, 0);
        free(all);
        if (!err)
            err = add_file(is, &proto, name, id, "ovf", l.ovf_size, l.ovf, &ovf, parsed, 0);
    }
    for (size_t d = 0; !err && d < l.n_disks; d++) {
        char fname[600], did[96];
        if (d == 0) {
            snprintf(fname, sizeof fname, "%s", name);
            snprintf(did, sizeof did, "%s", id);
        } else {
            snprintf(fname, sizeof fname, "%s-disk%zu", name, d + 1);
            snprintf(did, sizeof did, "%s-disk%zu", id, d + 1);
        }
        err = add_file(is, &proto, fname, did, "vmdk", l.sizes[d], l.names[d], &ovf, parsed,
                       l.disk_of[d]);
    }
out:
    ovf_info_free(&ovf);
    free(xml);
    free(proto.xattrs);
    json_decref(files);
    json_decref(info);
    return err;
}

int vs_list_library(struct vs_cloud *c, const char *lib, struct cfs_object_list *out)
{
    struct items is = { .c = c, .out = out };
    json_t *ids = NULL, *v;
    char *lid = NULL, *rp = NULL, *ap = NULL, what[300];
    size_t i;

    memset(out, 0, sizeof *out);
    int err = vs_library_find(c, lib, &lid, NULL);
    if (!err) {
        rp = cfs_printf("/com/vmware/content/library/item?library_id=%s", lid);
        ap = cfs_printf("/content/library/item?library_id=%s", lid);
        snprintf(what, sizeof what, "items of content library %s", lib);
        err = rp && ap ? vs_rest(c, "GET", rp, ap, NULL, NULL, what, &ids) : -ENOMEM;
    }
    json_array_foreach (ids, i, v) {
        if (err)
            break;
        if (vs_id_ok(json_string_value(v)))
            err = add_item(&is, json_string_value(v));
    }
    json_decref(ids);
    free(lid);
    free(rp);
    free(ap);
    if (err)
        cfs_object_list_free(out);
    return err;
}

/* ---- open ---- */

int vs_library_open(struct vs_cloud *c, const struct cfs_object *obj, struct cfs_source **out)
{
    const char *item = cfs_object_xattr(obj, "user.vsphere.item");
    const char *files = cfs_object_xattr(obj, "user.vsphere.files");
    char label[600], *names = NULL, *save = NULL;
    struct ova_member m[OVF_MAX_ITEMS + 1];
    size_t n = 0;
    struct dl *d = NULL;
    json_t *list = NULL;
    int err;

    *out = NULL;
    if (!item || !files || !vs_id_ok(item))
        return -ENOENT;
    snprintf(label, sizeof label, "libraries: %s.%s", obj->name, obj->ext);
    if ((err = item_files(c, item, label, &list)))
        return err;
    if ((err = dl_create(c, item, label, &d)))
        goto out;
    if (!(names = strdup(files))) {
        err = -ENOMEM;
        goto out;
    }
    for (char *f = strtok_r(names, "/", &save); f && !err; f = strtok_r(NULL, "/", &save)) {
        uint64_t size;
        if (n > OVF_MAX_ITEMS) {
            err = -EIO;
            break;
        }
        if (file_size(list, f, &size)) {
            cfs_log_error("vsphere: %s: %s: the item has no file %s any more", c->base.name, label,
                          f);
            err = -ENOENT;
            break;
        }
        m[n].name = f;
        if (!(err = open_file(d, f, size, label, &m[n].source)))
            n++;
    }
    if (!err && strcmp(obj->ext, "ova") != 0) {
        if (n != 1 || m[0].source->size != obj->size) {
            cfs_log_error("vsphere: %s: %s: the file changed since it was listed", c->base.name,
                          label);
            err = -EIO;
        } else {
            *out = m[0].source;
            n = 0;
        }
    } else if (!err) {
        err = ova_open(m, n, (uint64_t)(obj->mtime.tv_sec > 0 ? obj->mtime.tv_sec : 0), out);
        n = 0; /* the archive owns them, also after a failure */
        if (!err && (*out)->size != obj->size) {
            cfs_log_error("vsphere: %s: %s: the item changed since it was listed", c->base.name,
                          label);
            cfs_source_close(*out);
            *out = NULL;
            err = -EIO;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        cfs_source_close(m[i].source);
    if (d)
        dl_unref(d); /* the sources that need it hold it */
    free(names);
    json_decref(list);
    return err;
}
