/* Authenticated /api requests: the versioned Accept, the session's auth
 * header, one re-login on 401, retries of idempotent requests, Error
 * documents mapped to errno (DESIGN.md §6, ref/vcd-api.md §7-8). */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Short tasks (the import of a small disk) end in well under a second;
 * long ones (exports) need not be polled often. */
#define TASK_POLL_FIRST_S 0.1
#define TASK_POLL_MAX_S   5.0

static bool clean_url(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

char *vcd_url(struct vcd_cloud *c, const char *href)
{
    const char *path = NULL;
    if (!href || !clean_url(href))
        return NULL;
    if (href[0] == '/') {
        path = href;
    } else if (strncasecmp(href, "https://", 8) == 0 || strncasecmp(href, "http://", 7) == 0) {
        const char *host = strstr(href, "://") + 3;
        path = host + strcspn(host, "/?#");
        if (*path != '/')
            return cfs_printf("%s/%s", c->url, path);
    } else {
        return NULL;
    }
    return cfs_printf("%s%s", c->url, path);
}

int vcd_http(struct vcd_cloud *c, const char *what, struct cfs_http_req *req,
             struct cfs_http_resp *resp, bool retry)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    unsigned attempt = 0;
    int err;

    req->tls = &c->tls;
    for (;;) {
        err = cfs_http_do(req, resp);
        if (retry && cfs_http_retryable(err, err ? 0 : resp->status) && attempt < hs->retries) {
            attempt++;
            cfs_log_info("vcloud: %s: %s failed (%s), retry %u of %u", c->base.name, what,
                         err ? cfs_http_last_error() : "server error", attempt, hs->retries);
            cfs_http_resp_free(resp);
            cfs_sleep(cfs_http_backoff(attempt));
            continue;
        }
        break;
    }
    if (err)
        cfs_log_error("vcloud: %s: %s failed: %s", c->base.name, what,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
    return err;
}

/* The path of a URL, for log lines: no host, no query secrets. */
static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    return p ? p + 3 + strcspn(p + 3, "/") : url;
}

int vcd_api(struct vcd_cloud *c, const char *method, const char *url, const char *ctype,
            const char *body, size_t len, struct cfs_http_resp *resp)
{
    bool idempotent =
        strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0 || strcmp(method, "HEAD") == 0;
    bool relogged = false;
    char *full = vcd_url(c, url);
    int err;

    memset(resp, 0, sizeof *resp);
    if (!full) {
        cfs_log_error("vcloud: %s: unusable href from the server", c->base.name);
        return -EPROTO;
    }
    /* A POST without a body still says Content-Length: 0. */
    if (!body && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0))
        body = "", len = 0;
    for (;;) {
        char *auth = NULL, *version = NULL, *accept = NULL, *ct = NULL, *what = NULL;
        unsigned gen = 0;
        err = vcd_session_get(c, &auth, &version, &gen);
        if (err)
            break;
        accept = cfs_printf("Accept: application/*+xml;version=%s", version);
        ct = ctype ? cfs_printf("Content-Type: %s", ctype) : NULL;
        what = cfs_printf("%s %s", method, path_of(full));
        if (!accept || (ctype && !ct) || !what) {
            err = -ENOMEM;
        } else {
            const char *hdrs[] = { accept, auth, ct, NULL };
            struct cfs_http_req req = {
                .method = method,
                .url = full,
                .headers = hdrs,
                .body = body,
                .body_len = len,
            };
            err = vcd_http(c, what, &req, resp, idempotent);
        }
        cfs_free_secret(auth);
        free(version);
        free(accept);
        free(ct);
        free(what);
        if (!err && resp->status == 401 && !relogged) {
            /* Expired or revoked session (30 min idle): log in again once. */
            relogged = true;
            cfs_http_resp_free(resp);
            err = vcd_login(c, gen);
            if (err)
                break;
            continue;
        }
        break;
    }
    free(full);
    return err;
}

int vcd_errno(long status, const char *minor, const char *message)
{
    const char *m = message ? message : "";
    if (minor && strcasecmp(minor, "DUPLICATE_NAME") == 0)
        return -EEXIST;
    if (minor && strcasecmp(minor, "BUSY_ENTITY") == 0)
        return -EBUSY;
    switch (status) {
    case 400:
    case 415:
        return -EINVAL;
    case 401:
        return -EACCES;
    case 403:
        /* vCD answers 403 for ids that do not exist (or are another
         * org's); only a message about rights means access. */
        if (strcasestr(m, "does not exist") || strcasestr(m, "entity is invalid"))
            return -ENOENT;
        if (strcasestr(m, "right") || strcasestr(m, "privilege") || strcasestr(m, "denied") ||
            strcasestr(m, "permission") || strcasestr(m, "not allowed"))
            return -EACCES;
        return -ENOENT;
    case 404:
        return -ENOENT;
    case 405:
        return -EPERM;
    case 406:
        return -EPROTO;
    case 409:
        return -EBUSY;
    case 413:
        return -EFBIG;
    case 500:
        /* Some releases answer a duplicate item name with 500 (§4.1). */
        if (strcasestr(m, "already exists"))
            return -EEXIST;
        return -EIO;
    default:
        return -EIO;
    }
}

int vcd_api_error(struct vcd_cloud *c, const char *what, const struct cfs_http_resp *resp)
{
    char *minor = NULL, *message = NULL, text[256];
    xmlDocPtr doc = NULL;

    if (resp->body_len && vcd_xml_parse(resp->body, resp->body_len, &doc) == 0) {
        xmlNodePtr e = xmlDocGetRootElement(doc);
        if (strcmp((const char *)e->name, "Error") == 0) {
            minor = cfs_xml_attr(e, "minorErrorCode");
            message = cfs_xml_attr(e, "message");
        }
        xmlFreeDoc(doc);
    }
    if (message)
        snprintf(text, sizeof text, "%s", message);
    else
        cfs_http_error_text(resp, text, sizeof text);
    /* Control characters from the server never reach the log as such. */
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < ' ')
            *p = ' ';
    int err = vcd_errno(resp->status, minor, message);
    cfs_log_error("vcloud: %s: %s: HTTP %ld%s%s: %s", c->base.name, what, resp->status,
                  minor ? " " : "", minor ? minor : "", text[0] ? text : "(no message)");
    free(minor);
    free(message);
    return err;
}

int vcd_get_xml(struct vcd_cloud *c, const char *url, const char *what, xmlDocPtr *out)
{
    struct cfs_http_resp resp;
    int err = vcd_api(c, "GET", url, NULL, NULL, 0, &resp);

    *out = NULL;
    if (!err && (resp.status < 200 || resp.status >= 300))
        err = vcd_api_error(c, what, &resp);
    else if (!err && vcd_xml_parse(resp.body, resp.body_len, out) != 0) {
        cfs_log_error("vcloud: %s: %s: the answer is not XML", c->base.name, what);
        err = -EPROTO;
    }
    cfs_http_resp_free(&resp);
    return err;
}

int vcd_transfer_headers(struct vcd_cloud *c, char *hdr[2])
{
    char *version = NULL;
    unsigned gen;
    hdr[0] = hdr[1] = NULL;
    int err = vcd_session_get(c, &hdr[0], &version, &gen);
    free(version);
    return err;
}

void vcd_headers_free(char *hdr[2])
{
    cfs_free_secret(hdr[0]); /* the session's token */
    free(hdr[1]);
    hdr[0] = hdr[1] = NULL;
}

char *vcd_task_of(const struct cfs_http_resp *resp)
{
    xmlDocPtr doc;
    char *href = NULL;
    if (resp->body_len && vcd_xml_parse(resp->body, resp->body_len, &doc) == 0) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (root && xmlStrcmp(root->name, BAD_CAST "Task") == 0)
            href = cfs_xml_attr(root, "href");
        xmlFreeDoc(doc);
    }
    return href;
}

int vcd_wait_task(struct vcd_cloud *c, const char *task_href, unsigned timeout_s, const char *what)
{
    return vcd_wait_task_cancel(c, task_href, timeout_s, what, NULL, NULL);
}

/* Sleeps secs, or less once cancelled says so. True when cancelled. */
static bool sleep_unless(double secs, bool (*cancelled)(void *ctx), void *ctx)
{
    for (double left = secs; left > 0; left -= 1.0) {
        if (cancelled && cancelled(ctx))
            return true;
        cfs_sleep(left < 1.0 ? left : 1.0);
    }
    return cancelled && cancelled(ctx);
}

int vcd_wait_task_cancel(struct vcd_cloud *c, const char *task_href, unsigned timeout_s,
                         const char *what, bool (*cancelled)(void *ctx), void *ctx)
{
    double start = cfs_now(), pause = TASK_POLL_FIRST_S;
    if (!timeout_s)
        timeout_s = c->task_timeout_s;
    for (;;) {
        xmlDocPtr doc;
        int err = vcd_get_xml(c, task_href, what, &doc);
        if (err)
            return err;
        xmlNodePtr t = xmlDocGetRootElement(doc);
        char *status = cfs_xml_attr(t, "status");
        if (status && strcmp(status, "success") == 0) {
            free(status);
            xmlFreeDoc(doc);
            return 0;
        }
        /* Only success is success: error, canceled and aborted are failures. */
        if (status && (strcmp(status, "error") == 0 || strcmp(status, "canceled") == 0 ||
                       strcmp(status, "aborted") == 0)) {
            xmlNodePtr e = cfs_xml_child(t, VCD_NS, "Error");
            char *minor = cfs_xml_attr(e, "minorErrorCode");
            char *message = cfs_xml_attr(e, "message");
            bool failed = strcmp(status, "error") == 0;
            cfs_log_error("vcloud: %s: %s: task %s%s%s: %s", c->base.name, what, status,
                          minor ? " " : "", minor ? minor : "", message ? message : "(no message)");
            free(minor);
            free(message);
            free(status);
            xmlFreeDoc(doc);
            return failed ? -EIO : -ECANCELED;
        }
        free(status);
        xmlFreeDoc(doc);
        if (cfs_now() - start + pause > timeout_s) {
            cfs_log_error("vcloud: %s: %s: task still running after %u s", c->base.name, what,
                          timeout_s);
            return -ETIMEDOUT;
        }
        if (sleep_unless(pause, cancelled, ctx))
            return 1;
        /* Short tasks end fast; long exports need not be polled every second. */
        pause = pause * 1.5 < TASK_POLL_MAX_S ? pause * 1.5 : TASK_POLL_MAX_S;
    }
}
