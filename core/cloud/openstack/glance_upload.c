/* Uploads into Glance (DESIGN.md §5): a file written into images/
 * becomes an image. The flow, with ref/glance-keystone.md's answers:
 *   GET  /v2/images?name=N&status=active  an image of that name exists:
 *                                         EEXIST, or replaced (req->replace)
 *   POST /v2/images                       201, queued; properties and the
 *                                         upload marker go in here
 *   PUT  /v2/images/{id}/file             204; the body streamed from the
 *                                         content while md5 and sha512 are
 *                                         computed over every byte sent
 *   GET  /v2/images/{id}                  until active; checksum (md5) and
 *                                         os_hash_value compared
 *   PATCH remove /cloudfs_upload          the image is complete
 *   DELETE the replaced image(s)
 * Any failure after the POST deletes the image; each clean-up step is
 * logged. A container written under another disk format's name
 * (glance_target_for) is converted on the way: the view of that format is
 * opened over the content (include/convert.h) and is what is sent and
 * hashed, so Glance's checksum is that of the converted bytes. */
#define _GNU_SOURCE
#include "convert.h"
#include "digest.h"
#include "log.h"
#include "openstack.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HASH_ALGO      "sha512" /* Glance's default os_hash_algo */
#define MAX_REPLACED   16       /* images of one name an upload may replace */
#define JSON_PATCH_HDR "Content-Type: application/openstack-images-v2.1-json-patch"

/* ---- a source that hashes what curl reads from it ----
 * curl reads the body in order; a rewind (a resend on a fresh
 * connection, a retry after 401) starts again at 0, which restarts the
 * digests. Any other jump means the digests no longer describe what was
 * sent: the upload is refused rather than checked against a wrong value.
 * Without hash (a copy of an image whose sha512 is known and checked on
 * the way, cfs_put.src_digest_*), only md5 is computed: Glance's
 * os_hash_value is compared with the source's digest instead. */
struct hashing_source {
    struct cfs_source base;
    struct cfs_source *inner; /* not owned */
    pthread_mutex_t lock;
    struct cfs_digest *md5, *hash; /* hash NULL: not computed (above) */
    bool with_hash;
    uint64_t next; /* bytes hashed so far, in order */
    bool broken;   /* a read out of order */
    int err;       /* a digest could not be restarted */
};

static int digests_restart(struct hashing_source *h)
{
    cfs_digest_free(h->md5);
    cfs_digest_free(h->hash);
    h->md5 = h->hash = NULL;
    h->next = 0;
    h->broken = false;
    int err = cfs_digest_new("md5", &h->md5);
    if (!err && h->with_hash)
        err = cfs_digest_new(HASH_ALGO, &h->hash);
    return err;
}

static ssize_t hashing_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct hashing_source *h = (struct hashing_source *)src;
    ssize_t n = cfs_source_pread(h->inner, buf, len, off);
    if (n <= 0)
        return n;
    pthread_mutex_lock(&h->lock);
    if (off == 0 && h->next != 0)
        h->err = digests_restart(h);
    if (off != h->next)
        h->broken = true;
    if (!h->broken && !h->err) {
        cfs_digest_update(h->md5, buf, (size_t)n);
        if (h->hash)
            cfs_digest_update(h->hash, buf, (size_t)n);
        h->next += (uint64_t)n;
    }
    int err = h->err;
    pthread_mutex_unlock(&h->lock);
    return err ? err : n;
}

static void hashing_close(struct cfs_source *src)
{
    struct hashing_source *h = (struct hashing_source *)src;
    cfs_digest_free(h->md5);
    cfs_digest_free(h->hash);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static const struct cfs_source_ops hashing_ops = {
    .name = "hashing",
    .pread = hashing_pread,
    .close = hashing_close,
};

static int hashing_open(struct cfs_source *inner, bool with_hash, struct hashing_source **out)
{
    struct hashing_source *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->base.ops = &hashing_ops;
    h->base.size = inner->size;
    h->inner = inner;
    h->with_hash = with_hash;
    pthread_mutex_init(&h->lock, NULL);
    int err = digests_restart(h);
    if (err) {
        hashing_close(&h->base);
        return err;
    }
    *out = h;
    return 0;
}

/* ---- the upload ---- */

struct upload {
    struct openstack *os;
    const struct cfs_put *req;
    const char *label;
    char *base; /* Glance URL */
    struct glance_target t;
    char *id; /* the image made, once the POST succeeded */
    char *old[MAX_REPLACED];
    size_t n_old;
    char *own_label; /* label, when it is made here (a disk of an OVA) */
    double t0;       /* when the data began */
    uint64_t size;   /* the bytes sent */
};

static bool cancelled(const struct upload *u)
{
    return u->req->cancelled && u->req->cancelled(u->req->cancel_ctx);
}

/* A request about the upload, cancellable like the upload. */
static int request(struct upload *u, const char *what, struct cfs_http_req *r,
                   struct cfs_http_resp *resp)
{
    r->cancelled = u->req->cancelled;
    r->cancel_ctx = u->req->cancel_ctx;
    char *w = cfs_printf("upload of %s: %s", u->label, what);
    int err = openstack_request(u->os, w ? w : what, r, resp);
    free(w);
    return err;
}

static char *image_url(const struct upload *u, const char *id, const char *suffix)
{
    return cfs_printf("%s/v2/images/%s%s", u->base, id, suffix);
}

/* Active images named exactly like the new one. A protected one cannot
 * be replaced: EACCES before anything is uploaded. */
static int find_existing(struct upload *u)
{
    char *esc = curl_easy_escape(NULL, u->t.name, 0);
    char *url = esc ? cfs_printf("%s/v2/images?name=%s&status=active", u->base, esc) : NULL;
    struct cfs_http_req r = { .method = "GET", .url = url };
    struct cfs_http_resp resp = { 0 };
    json_t *doc = NULL, *img;
    size_t i;
    int err = url ? request(u, "looking for an image of the same name", &r, &resp) : -ENOMEM;

    curl_free(esc);
    free(url);
    if (!err) {
        doc = openstack_json_load(resp.body, resp.body_len);
        if (!json_is_array(json_object_get(doc, "images"))) {
            cfs_log_error("glance: cloud %s: upload of %s: the listing by name is not a list",
                          u->os->base.name, u->label);
            err = -EIO;
        }
    }
    json_array_foreach (err ? NULL : json_object_get(doc, "images"), i, img) {
        const char *name = json_string_value(json_object_get(img, "name"));
        const char *id = json_string_value(json_object_get(img, "id"));
        /* Glance's filter has operators ("in:"): compare ourselves. */
        if (!name || !id || strcmp(name, u->t.name) != 0)
            continue;
        if (!u->req->replace) {
            cfs_log_error("glance: cloud %s: upload of %s: an image named %s exists (%s)",
                          u->os->base.name, u->label, name, id);
            err = -EEXIST;
            break;
        }
        if (json_is_true(json_object_get(img, "protected"))) {
            cfs_log_error("glance: cloud %s: upload of %s: image %s (%s) is protected and "
                          "cannot be replaced",
                          u->os->base.name, u->label, name, id);
            err = -EACCES;
            break;
        }
        if (u->n_old == MAX_REPLACED) {
            cfs_log_error("glance: cloud %s: upload of %s: more than %d images are named %s",
                          u->os->base.name, u->label, MAX_REPLACED, name);
            err = -EEXIST;
            break;
        }
        if (!(u->old[u->n_old++] = strdup(id)))
            err = -ENOMEM;
    }
    json_decref(doc);
    cfs_http_resp_free(&resp);
    return err;
}

static int create_image(struct upload *u)
{
    static const char *const hdrs[] = { "Content-Type: application/json", NULL };
    char *body = NULL, *url = cfs_printf("%s/v2/images", u->base);
    struct cfs_http_resp resp = { 0 };
    int err = url ? glance_create_body(&u->t, u->req, &body) : -ENOMEM;

    if (!err) {
        struct cfs_http_req r = {
            .method = "POST", .url = url, .headers = hdrs, .body = body, .body_len = strlen(body)
        };
        /* Not cancellable: a POST cut short may still have made the image,
         * which only its id lets us delete. The request has its timeout;
         * a cancel is seen right after it, and the image deleted. */
        char *w = cfs_printf("upload of %s: creating the image", u->label);
        err = openstack_request(u->os, w ? w : "creating the image", &r, &resp);
        free(w);
    }
    if (!err) {
        json_t *doc = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "id"));
        /* The id goes into URLs: Glance's are UUIDs. */
        if (id && *id && strspn(id, "0123456789abcdefABCDEF-") == strlen(id))
            u->id = strdup(id);
        else
            cfs_log_error("glance: cloud %s: upload of %s: the created image has no usable id",
                          u->os->base.name, u->label);
        err = u->id ? 0 : (id ? -ENOMEM : -EIO);
        json_decref(doc);
    }
    cfs_http_resp_free(&resp);
    free(body);
    free(url);
    return err;
}

static int send_data(struct upload *u, struct hashing_source *h)
{
    static const char *const hdrs[] = { "Content-Type: application/octet-stream", NULL };
    char *url = image_url(u, u->id, "/file");
    struct cfs_http_resp resp = { 0 };
    if (!url)
        return -ENOMEM;
    struct cfs_http_req r = {
        .method = "PUT",
        .url = url,
        .headers = hdrs,
        .body_src = &h->base,
        .body_src_len = h->base.size,
    };
    int err = request(u, "sending the data", &r, &resp);
    /* Here 409 is a state conflict (a resend into a "saving" image), not
     * a duplicate name. */
    if (err == -EEXIST)
        err = -EIO;
    if (!err && (h->broken || h->next != h->base.size)) {
        cfs_log_error("glance: cloud %s: upload of %s: the data was not read in order (%llu of "
                      "%llu bytes hashed): cannot verify it",
                      u->os->base.name, u->label, (unsigned long long)h->next,
                      (unsigned long long)h->base.size);
        err = -EIO;
    }
    cfs_http_resp_free(&resp);
    free(url);
    return err;
}

/* The image once it is active, or -EIO (killed, deleted, no image
 * record), -ETIMEDOUT. The whole wait, polls and their retries, is bounded
 * as one request is (cloudfs(1), timeout=): Glance makes an image active as
 * its PUT ends, and a Glance that answers nothing usable must not hold
 * close() for minutes whatever the options say. */
static int wait_active(struct upload *u, json_t **out)
{
    char *url = image_url(u, u->id, "");
    double bound = cfs_http_bound(), deadline = cfs_now() + bound, delay = 0.1;
    unsigned bad = 0;
    int err = url ? 0 : -ENOMEM;

    *out = NULL;
    while (!err) {
        struct cfs_http_req r = { .method = "GET", .url = url, .deadline = deadline };
        struct cfs_http_resp resp = { 0 };
        double wait = 0;
        err = request(u, "checking the image", &r, &resp);
        json_t *doc = err ? NULL : json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
        const char *status = json_string_value(json_object_get(doc, "status"));
        cfs_http_resp_free(&resp);
        if (!err && status && strcmp(status, "active") == 0) {
            *out = doc;
            break;
        }
        if (!err && !status) {
            /* A broken body (a proxy, a cut connection): retried as a
             * failed request is, then given up. */
            if (bad++ == cfs_http_settings()->retries) {
                cfs_log_error("glance: cloud %s: upload of %s: image %s: the answer is not an "
                              "image record (%u times)",
                              u->os->base.name, u->label, u->id, bad);
                err = -EIO;
            }
            wait = cfs_http_backoff(bad);
        } else if (!err && (strcmp(status, "queued") == 0 || strcmp(status, "saving") == 0 ||
                            strcmp(status, "importing") == 0)) {
            wait = delay;
            delay = delay < 2 ? delay * 2 : 2;
        } else if (!err) {
            cfs_log_error("glance: cloud %s: upload of %s: image %s became %s", u->os->base.name,
                          u->label, u->id, status);
            err = -EIO;
        }
        if (!err && cfs_now() + wait >= deadline) {
            cfs_log_error("glance: cloud %s: upload of %s: image %s not active after %.0f s "
                          "(%s)",
                          u->os->base.name, u->label, u->id, bound, status ? status : "no status");
            err = -ETIMEDOUT;
        } else if (!err && cancelled(u)) {
            err = -ECANCELED;
        } else if (!err) {
            cfs_sleep(wait);
        }
        json_decref(doc);
    }
    free(url);
    return err;
}

/* What Glance stored against what was sent. */
static int verify(struct upload *u, struct hashing_source *h, json_t *img)
{
    const char *md5 = json_string_value(json_object_get(img, "checksum"));
    const char *algo = json_string_value(json_object_get(img, "os_hash_algo"));
    const char *hash = json_string_value(json_object_get(img, "os_hash_value"));
    json_t *size = json_object_get(img, "size");
    char ours[160];
    const char *bad = NULL;

    if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != h->base.size)
        bad = "size";
    else if (!md5 || !cfs_digest_matches(h->md5, md5, ours))
        bad = "checksum (md5)";
    else if (algo && hash && strcasecmp(algo, HASH_ALGO) == 0 &&
             (h->hash ? !cfs_digest_matches(h->hash, hash, ours)
                      : strcasecmp(hash, u->req->src_digest_hex) != 0))
        bad = "os_hash_value";
    if (bad) {
        cfs_log_error("glance: cloud %s: upload of %s: checksum mismatch: image %s's %s differs "
                      "from what was sent",
                      u->os->base.name, u->label, u->id, bad);
        return -EIO;
    }
    if (!algo || strcasecmp(algo, HASH_ALGO) != 0)
        cfs_log_debug("glance: cloud %s: upload of %s: os_hash_algo is %s: checked md5 only",
                      u->os->base.name, u->label, algo ? algo : "unset");
    return 0;
}

static int patch(struct upload *u, const char *id, const char *what, const char *ops)
{
    static const char *const hdrs[] = { JSON_PATCH_HDR, NULL };
    char *url = image_url(u, id, "");
    struct cfs_http_resp resp = { 0 };
    if (!url)
        return -ENOMEM;
    struct cfs_http_req r = {
        .method = "PATCH", .url = url, .headers = hdrs, .body = ops, .body_len = strlen(ops)
    };
    int err = request(u, what, &r, &resp);
    cfs_http_resp_free(&resp);
    free(url);
    return err;
}

/* DELETE /v2/images/{id}/tags/TAG: the image is no longer being made. */
static int untag(struct upload *u)
{
    char *url = image_url(u, u->id, "/tags/" GLANCE_MARKER_TAG);
    struct cfs_http_resp resp = { 0 };
    if (!url)
        return -ENOMEM;
    struct cfs_http_req r = { .method = "DELETE", .url = url };
    int err = request(u, "removing the upload tag", &r, &resp);
    cfs_http_resp_free(&resp);
    free(url);
    return err;
}

/* Deletes the image made (u->id, then NULL); nothing if there is none. */
static void clean_up(struct upload *u)
{
    if (!u->id)
        return;
    char *what = cfs_printf("upload of %s: clean-up: deleting image %s", u->label, u->id);
    /* Not cancellable: cancelling is what asked for this. */
    int err = glance_delete_image(u->os, u->id, what ? what : "clean-up");
    free(what);
    if (!err || err == -ENOENT)
        cfs_log_info("glance: cloud %s: upload of %s: clean-up: deleted image %s", u->os->base.name,
                     u->label, u->id);
    free(u->id);
    u->id = NULL;
}

static int replace_old(struct upload *u)
{
    int first_err = 0;
    for (size_t i = 0; i < u->n_old; i++) {
        char *what =
            cfs_printf("upload of %s: deleting the replaced image %s", u->label, u->old[i]);
        int err = glance_delete_image(u->os, u->old[i], what ? what : "replace");
        free(what);
        if (!err || err == -ENOENT)
            cfs_log_info("glance: cloud %s: upload of %s: replaced image %s", u->os->base.name,
                         u->label, u->old[i]);
        else if (!first_err)
            first_err = err;
    }
    /* The new image is complete and stays; the error tells the user that
     * the old one is still there too. */
    return first_err;
}

/* A property of the new image: the file's user.glance.* first, then the
 * source's (as glance_create_body orders them), or NULL. */
static const char *put_prop(const struct cfs_put *req, const char *key)
{
    for (size_t off = 0; req->xattrs && off < req->xattrs_len;) {
        const char *name = req->xattrs + off, *value = name + strlen(name) + 1;
        off = (size_t)(value - req->xattrs) + strlen(value) + 1;
        if (strncmp(name, "user.glance.", 12) == 0 && strcmp(name + 12, key) == 0)
            return value;
    }
    for (size_t off = 0; req->src_props && off < req->src_props_len;) {
        const char *name = req->src_props + off, *value = name + strlen(name) + 1;
        off = (size_t)(value - req->src_props) + strlen(value) + 1;
        if (strcmp(name, key) == 0)
            return value;
    }
    return NULL;
}

/* The view of u->t.convert over [off, off + len) of the content, which
 * sniffed as fmt. */
static int convert(struct upload *u, uint64_t off, uint64_t len, enum cfs_fmt fmt,
                   struct cfs_source **out)
{
    const char *bus = put_prop(u->req, "hw_disk_bus");
    struct cfs_convert how = {
        .name = u->t.name,
        .adapter = bus && strcmp(bus, "ide") == 0 ? "ide" : "lsilogic",
        .vmdk_zip = u->req->vmdk_zip,
        .vhd = u->req->vhd,
        .vhd_azure = u->req->vhd_azure,
        .label = u->label,
    };
    int err =
        cfs_convert_open(u->req->content, off, len, fmt, (enum cfs_view)u->t.convert, &how, out);
    /* A decoder's refusal is logged by it, naming label. */
    if (err == -ENOMEM)
        cfs_log_error("glance: cloud %s: upload of %s: cannot convert %s to %s: %s",
                      u->os->base.name, u->label, cfs_fmt_ext(fmt), u->t.disk_format,
                      strerror(-err));
    else if (!err)
        cfs_log_info("glance: cloud %s: upload of %s: %s converted to %s while it is sent "
                     "(%llu bytes become %llu)",
                     u->os->base.name, u->label, cfs_fmt_ext(fmt), u->t.disk_format,
                     (unsigned long long)len, (unsigned long long)(*out)->size);
    return err;
}

/* Makes u's image from [off, off + len) of the content (format fmt): the
 * POST, the data, active, the checksums. The marker stays until finish().
 * On failure the image made is deleted. */
static int make(struct upload *u, uint64_t off, uint64_t len, enum cfs_fmt fmt)
{
    struct cfs_source *body = NULL;
    struct hashing_source *h = NULL;
    json_t *img = NULL;
    int err;

    if (u->t.convert >= 0)
        err = convert(u, off, len, fmt, &body);
    else
        err = cfs_slice_source_open(u->req->content, off, len, &body);
    /* The content is the source image as it is: its checked sha512 stands
     * for what was sent (hashing_source). */
    const struct cfs_put *q = u->req;
    bool same = u->t.convert < 0 && off == 0 && len == q->content->size && q->src_digest_algo &&
                q->src_digest_hex && strcasecmp(q->src_digest_algo, HASH_ALGO) == 0;
    if (!err)
        err = hashing_open(body, !same, &h);
    if (!err)
        err = cancelled(u) ? -ECANCELED : create_image(u);
    if (err)
        goto out;
    cfs_log_info("glance: cloud %s: uploading %s as image %s (%s, %s/%s, %llu bytes%s)",
                 u->os->base.name, u->label, u->t.name, u->id, u->t.disk_format,
                 u->t.container_format, (unsigned long long)h->base.size,
                 same ? "; the source's checked sha512 stands for it, md5 only is computed" : "");
    u->t0 = cfs_now();
    u->size = h->base.size;
    err = send_data(u, h);
    if (!err)
        err = wait_active(u, &img);
    if (!err)
        err = verify(u, h, img);
    if (err && u->id)
        clean_up(u);
out:
    json_decref(img);
    if (h)
        hashing_close(&h->base);
    cfs_source_close(body);
    return err;
}

/* The image is complete: its marker goes. On failure it is deleted. */
static int finish(struct upload *u)
{
    int err = 0;
    if (u->req->marker)
        err = patch(u, u->id, "removing the upload marker",
                    "[{\"op\":\"remove\",\"path\":\"/" GLANCE_MARKER_KEY "\"}]");
    if (!err && u->req->marker)
        err = untag(u);
    if (!err && cancelled(u))
        err = -ECANCELED;
    if (err) {
        clean_up(u);
        return err;
    }
    double s = cfs_now() - u->t0;
    cfs_log_info("glance: cloud %s: %s is image %s after %.1f s (%.1f MiB/s)", u->os->base.name,
                 u->label, u->id, s, s > 0 ? (double)u->size / 1048576.0 / s : 0.0);
    return 0;
}

static void upload_free(struct upload *u)
{
    for (size_t i = 0; i < u->n_old; i++)
        free(u->old[i]);
    free(u->id);
    free(u->base);
    free(u->own_label);
    glance_target_free(&u->t);
}

/* The source's proof that it read what its digest covers
 * (cfs_put.confirm), once every byte was sent. */
static int confirm(const struct cfs_put *req)
{
    return req->confirm ? req->confirm(req->confirm_ctx) : 0;
}

static int put_ova(struct openstack *os, const struct cfs_put *req, const char *label);

int glance_put(struct openstack *os, const struct cfs_put *req)
{
    struct upload u = { .os = os, .req = req, .label = req->label ? req->label : req->fname };
    enum cfs_fmt fmt;
    char why[300];
    int err;

    err = cfs_sniff(req->content, &fmt);
    if (err) {
        cfs_log_error("glance: cloud %s: upload of %s: cannot read it: %s", os->base.name, u.label,
                      strerror(-err));
        return err;
    }
    /* An OVA becomes its disks' images unless ova: keep stores it as it
     * is; a disk format's name always asks for disks. */
    if (fmt == CFS_FMT_OVA && (!os->ova_keep || cfs_fmt_name_view(req->fname) >= 0))
        return put_ova(os, req, u.label);
    err = glance_target_for(req->fname, fmt, &u.t, why, sizeof why);
    if (err) {
        if (err == -EINVAL)
            cfs_log_error("glance: cloud %s: upload of %s refused: %s", os->base.name, u.label,
                          why);
        return err;
    }
    err = openstack_image_url(os, &u.base);
    if (!err)
        err = cancelled(&u) ? -ECANCELED : find_existing(&u);
    if (!err)
        err = make(&u, 0, req->content->size, fmt);
    if (!err && (err = confirm(req)))
        clean_up(&u);
    if (!err)
        err = finish(&u);
    if (!err)
        err = replace_old(&u);
    if (err == -ECANCELED)
        cfs_log_info("glance: cloud %s: upload of %s cancelled", os->base.name, u.label);
    upload_free(&u);
    return err;
}

/* ---- an OVA: each disk one bare image ----
 * The first disk is NAME, the others NAME-disk2, NAME-disk3 ... (NAME the
 * file name without its extension), in the format the name asks for, or
 * the cloud's upload_format (qcow2 unless configured; keep: the disk's
 * own). Every name is checked before any byte is sent; the images are
 * made one after the other and completed (markers removed, namesakes
 * replaced) only once all of them are active: a failure deletes every
 * image this upload made, and close() gets its errno. */
static int put_ova(struct openstack *os, const struct cfs_put *req, const char *label)
{
    struct cfs_ova_disk disks[OVF_MAX_ITEMS];
    struct upload *u = NULL;
    size_t n = 0, name_len;
    const char *dot = strrchr(req->fname, '.');
    int named = cfs_fmt_name_view(req->fname);
    char why[300];
    int err;

    /* .ova, .img, a disk format's extension or none: the rest refused. */
    err = cfs_fmt_fits_name(req->fname, CFS_FMT_OVA, false, &name_len, why, sizeof why);
    if (err && named >= 0) {
        err = 0;
        name_len = (size_t)(dot - req->fname);
    }
    if (!err && name_len == 0) {
        snprintf(why, sizeof why, "%s leaves no image name", req->fname);
        err = -EINVAL;
    }
    if (err) {
        cfs_log_error("glance: cloud %s: upload of %s refused: %s", os->base.name, label, why);
        return err;
    }
    err = cfs_ova_disks(req->content, label, disks, &n, NULL);
    if (err)
        return err;
    u = calloc(n, sizeof *u);
    if (!u) {
        cfs_ova_disks_free(disks, &n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n && !err; i++) {
        struct upload *d = &u[i];
        d->os = os;
        d->req = req;
        d->label = label;
        d->t.convert = -1;
        d->t.container_format = "bare";
        d->t.disk_format = cfs_fmt_ext(disks[i].fmt);
        int to = named >= 0 ? named : os->upload_format;
        if (to >= 0 && strcmp(cfs_view_ext((enum cfs_view)to), d->t.disk_format) != 0) {
            if (!cfs_convert_possible(disks[i].fmt, (enum cfs_view)to)) {
                cfs_log_error("glance: cloud %s: upload of %s: its disk %s (%s) cannot become %s",
                              os->base.name, label, disks[i].href, cfs_fmt_ext(disks[i].fmt),
                              cfs_view_ext((enum cfs_view)to));
                err = -EINVAL;
                break;
            }
            d->t.convert = to;
            d->t.disk_format = cfs_view_ext((enum cfs_view)to);
        }
        d->t.name = i == 0 ? strndup(req->fname, name_len)
                           : cfs_printf("%.*s-disk%zu", (int)name_len, req->fname, i + 1);
        if (n > 1)
            d->own_label = cfs_printf("%s (disk %zu of %zu, %s)", label, i + 1, n, disks[i].href);
        if (!d->t.name || (n > 1 && !d->own_label))
            err = -ENOMEM;
        else if (d->own_label)
            d->label = d->own_label;
        if (!err)
            err = openstack_image_url(os, &d->base);
        if (!err)
            err = cancelled(d) ? -ECANCELED : find_existing(d);
    }
    if (!err)
        cfs_log_info("glance: cloud %s: upload of %s: an OVA of %zu disk%s, each a bare image",
                     os->base.name, label, n, n > 1 ? "s" : "");
    /* One after the other: the content is read in order (a copy's source
     * streams). make() deletes its own image when it fails. */
    for (size_t i = 0; !err && i < n; i++)
        err = make(&u[i], disks[i].off, disks[i].len, disks[i].fmt);
    if (!err)
        err = confirm(req);
    for (size_t i = 0; !err && i < n; i++)
        err = finish(&u[i]);
    /* Nothing half-made stays: every image of this upload goes. */
    for (size_t i = 0; err && i < n; i++)
        clean_up(&u[i]);
    /* All complete: their namesakes go, each tried. */
    bool complete = !err;
    for (size_t i = 0; complete && i < n; i++) {
        int e = replace_old(&u[i]);
        if (e && !err)
            err = e;
    }
    if (err == -ECANCELED)
        cfs_log_info("glance: cloud %s: upload of %s cancelled", os->base.name, label);
    for (size_t i = 0; i < n; i++)
        upload_free(&u[i]);
    free(u);
    cfs_ova_disks_free(disks, &n);
    return err;
}
