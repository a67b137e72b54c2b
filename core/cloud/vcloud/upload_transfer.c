/* PUTs to the transfer service (ref/vcd-api.md §4.3, §4.5, §8.1): the
 * descriptor, then each file in strictly sequential ranges with its exact
 * total. After a broken connection, a 416 or a 5xx the template's
 * bytesTransferred says where to go on: bytes vCD stored are never sent
 * twice. Before each piece a GET of the template keeps the API session
 * alive, since transfer PUTs do not (§2.4). */
#define _GNU_SOURCE
#include "log.h"
#include "upload.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Failed PUTs in a row without vCD storing a byte more. */
#define MAX_FAILURES 5

/* The transfer service answers errors with an empty body and the message
 * in the reason phrase. */
static void status_text(const struct cfs_http_resp *r, char *out, size_t n)
{
    const char *h = r->headers ? strchr(r->headers, ' ') : NULL;
    out[0] = '\0';
    if (r->body_len)
        cfs_http_error_text(r, out, n);
    if (!out[0] && h && (h = strchr(h + 1, ' ')))
        snprintf(out, n, "%.*s", (int)strcspn(h + 1, "\r\n"), h + 1);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < ' ')
            *p = ' ';
}

/* One PUT to a transfer href with the session's auth header and hdr. */
static int transfer_put(struct vcd_upload *u, const char *href, const char *hdr,
                        struct cfs_http_req *req, struct cfs_http_resp *resp)
{
    char *auth[2], *url = vcd_url(u->c, href);
    int err;

    memset(resp, 0, sizeof *resp);
    if (!url) {
        cfs_log_error("vcloud: %s: upload of %s: unusable transfer href", u->c->base.name,
                      u->label);
        return -EPROTO;
    }
    err = vcd_transfer_headers(u->c, auth);
    if (!err) {
        const char *hdrs[] = { auth[0], hdr, NULL };
        req->method = "PUT";
        req->url = url;
        req->headers = hdrs;
        req->tls = &u->c->tls;
        req->cancelled = u->cancelled;
        req->cancel_ctx = u->cancel_ctx;
        err = cfs_http_do(req, resp);
        vcd_headers_free(auth);
    }
    free(url);
    return err;
}

/* Worth another try: the connection broke, the server stumbled, or the
 * session lapsed (the next GET logs in again). */
static bool retryable(int err, long status)
{
    return cfs_http_retryable(err, status) || (!err && (status == 401 || status == 416));
}

static void failure_text(int err, const struct cfs_http_resp *r, char *out, size_t n)
{
    char text[256];
    if (err) {
        snprintf(out, n, "%s", cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
        return;
    }
    status_text(r, text, sizeof text);
    snprintf(out, n, "HTTP %ld%s%s", r->status, text[0] ? ": " : "", text);
}

int vcd_upload_descriptor(struct vcd_upload *u, const char *href, const char *ovf, size_t len)
{
    const char *cloud = u->c->base.name;
    char why[320];

    for (unsigned attempt = 1;; attempt++) {
        struct cfs_http_req req = { .body = ovf, .body_len = len };
        struct cfs_http_resp resp;
        struct vcd_tmpl t;
        int err = transfer_put(u, href, "Content-Type: text/xml", &req, &resp);

        if (!err && resp.status >= 200 && resp.status < 300) {
            cfs_http_resp_free(&resp);
            return 0;
        }
        if (err == -ECANCELED) {
            cfs_http_resp_free(&resp);
            return vcd_upload_check_cancel(u) ? -ECANCELED : -EIO;
        }
        failure_text(err, &resp, why, sizeof why);
        bool again = err != -EPROTO && retryable(err, err ? 0 : resp.status);
        long status = err ? 0 : resp.status;
        cfs_http_resp_free(&resp);
        if (!again || attempt > MAX_FAILURES) {
            cfs_log_error("vcloud: %s: upload of %s: descriptor PUT: %s", cloud, u->label, why);
            if (err)
                return err == -ETIMEDOUT ? -ETIMEDOUT : -EIO;
            return status == 400 || status == 415 ? -EINVAL : vcd_errno(status, NULL, NULL);
        }
        cfs_log_warn("vcloud: %s: upload of %s: descriptor PUT: %s; retry %u", cloud, u->label, why,
                     attempt);
        cfs_sleep(cfs_http_backoff(attempt));
        /* The body may have arrived before the connection broke; a second
         * descriptor PUT would then be refused. */
        err = vcd_upload_get(u, &t);
        if (err)
            return err;
        struct vcd_tmpl_file *f = t.n_files ? &t.files[0] : NULL;
        bool stored = t.descriptor_uploaded || (f && f->transferred > 0);
        vcd_tmpl_free(&t);
        if (stored)
            return 0;
    }
}

/* Where to go on with file name: 0 with *off, 1 when vCD no longer lists
 * it (the import took the template's Files away), or -errno (logged). */
static int resume_point(struct vcd_upload *u, const char *name, uint64_t total, uint64_t *off,
                        char **href)
{
    const char *cloud = u->c->base.name;
    struct vcd_tmpl t;
    int err = vcd_upload_get(u, &t);

    if (err)
        return err;
    struct vcd_tmpl_file *f = vcd_tmpl_file(&t, name);
    if (vcd_tmpl_failed(&t)) {
        cfs_log_error("vcloud: %s: upload of %s: vCD failed it while %s was sent: %s", cloud,
                      u->label, name, t.task_error ? t.task_error : "template status -1");
        err = -EIO;
    } else if (!f) {
        err = 1;
    } else if (!f->upload) {
        cfs_log_error("vcloud: %s: upload of %s: %s has no upload link", cloud, u->label, name);
        err = -EPROTO;
    } else if (vcd_resume_point(f, total, off)) {
        cfs_log_error("vcloud: %s: upload of %s: vCD expects %" PRId64 " bytes of %s (%" PRId64
                      " stored), the package has %" PRIu64,
                      cloud, u->label, f->size, name, f->transferred, total);
        err = -EIO;
    } else {
        free(*href);
        *href = strdup(f->upload);
        err = *href ? 0 : -ENOMEM;
    }
    vcd_tmpl_free(&t);
    return err;
}

int vcd_upload_file(struct vcd_upload *u, const char *name, struct cfs_source *src)
{
    const char *cloud = u->c->base.name;
    uint64_t total = src->size, off = 0, best = 0;
    unsigned failures = 0;
    bool sent_all = false;
    char *href = NULL, why[320];
    int err;

    for (;;) {
        /* The keep-alive GET before every piece is also the resume point. */
        err = resume_point(u, name, total, &off, &href);
        if (err == 1 && sent_all)
            err = 0;
        else if (err == 1) {
            cfs_log_error("vcloud: %s: upload of %s: vCD no longer lists %s", cloud, u->label,
                          name);
            err = -EPROTO;
        }
        if (err || off == total)
            break;
        if ((err = vcd_upload_check_cancel(u)))
            break;
        if (off > best)
            best = off, failures = 0;

        uint64_t len = total - off < VCD_PIECE_BYTES ? total - off : VCD_PIECE_BYTES;
        char range[96];
        struct cfs_http_req req = { .body_src = src, .body_off = off, .body_src_len = len };
        struct cfs_http_resp resp;
        vcd_content_range(range, sizeof range, off, len, total);
        err = transfer_put(u, href, range, &req, &resp);
        if (!err && resp.status >= 200 && resp.status < 300) {
            cfs_http_resp_free(&resp);
            sent_all = off + len == total;
            continue;
        }
        if (err == -ECANCELED) {
            cfs_http_resp_free(&resp);
            err = vcd_upload_check_cancel(u) ? -ECANCELED : -EIO;
            break;
        }
        failure_text(err, &resp, why, sizeof why);
        long status = err ? 0 : resp.status;
        cfs_http_resp_free(&resp);
        if (!err && status == 400 && strcasestr(why, "more data than expected")) {
            /* The descriptor's ovf:size and the file disagree: a bug. */
            cfs_log_error("vcloud: %s: upload of %s: %s is longer than vCD expects: %s", cloud,
                          u->label, name, why);
            err = -EIO;
            break;
        }
        if (err == -EPROTO || !retryable(err, status)) {
            cfs_log_error("vcloud: %s: upload of %s: PUT %s at byte %" PRIu64 ": %s", cloud,
                          u->label, name, off, why);
            err = err && err != -EPROTO ? err : -EIO;
            break;
        }
        if (++failures >= MAX_FAILURES) {
            cfs_log_error("vcloud: %s: upload of %s: PUT %s at byte %" PRIu64
                          ": %s; %u attempts without progress",
                          cloud, u->label, name, off, why, failures);
            /* A transfer service that keeps refusing a fresh session's
             * token is an auth problem, not a broken network. */
            err = err == -ETIMEDOUT ? -ETIMEDOUT : status == 401 ? -EACCES : -EIO;
            break;
        }
        cfs_log_warn("vcloud: %s: upload of %s: PUT %s at byte %" PRIu64 ": %s; resuming", cloud,
                     u->label, name, off, why);
        cfs_sleep(cfs_http_backoff(failures));
    }
    free(href);
    return err;
}
