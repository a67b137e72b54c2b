/* The vSphere Automation (vAPI) REST session, for content libraries:
 * POST /api/session with basic auth (vSphere 7.0U2+; the answer is the
 * token as a JSON string), or where that path is 404, the 6.5 spelling
 * POST /rest/com/vmware/cis/session (answer {"value": token}). The
 * spelling found is kept: every later call uses it, its token in the
 * vmware-api-session-id header, and a /rest answer is unwrapped from its
 * "value". A 401 renews the token once (one thread logs in at a time, as
 * session.c's vs_login). The token is a secret: never logged. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REST_HEADER    "vmware-api-session-id"
#define FAILURE_HOLD_S 3.0

static bool token_ok(const char *t)
{
    if (!*t || strlen(t) > 512)
        return false;
    for (; *t; t++)
        if (*t <= ' ' || *t >= 0x7f)
            return false;
    return true;
}

/* One login at path; 0 with *token, -ENOENT for a 404 (the other
 * spelling), -EACCES, or -errno (logged). */
static int login_at(struct vs_cloud *c, const char *path, bool wrapped, char **token)
{
    char *url = cfs_printf("%s%s", c->url, path), *auth = cfs_http_basic_auth(c->user, c->password);
    const char *hdrs[] = { auth, "Content-Type: application/json", NULL };
    struct cfs_http_req req = { .method = "POST", .url = url, .headers = hdrs, .tls = &c->tls };
    struct cfs_http_resp resp = { 0 };
    json_t *doc = NULL;
    int err = url && auth ? cfs_http_do(&req, &resp) : -ENOMEM;

    free(url);
    cfs_free_secret(auth);
    *token = NULL;
    if (err && err != -ENOMEM) {
        cfs_log_error("vsphere: %s: REST login at %s%s: %s", c->base.name, c->url, path,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
    } else if (!err && resp.status == 404) {
        err = -ENOENT;
    } else if (!err && (resp.status == 401 || resp.status == 403)) {
        cfs_log_error("vsphere: %s: the vCenter's REST API refused user %s (HTTP %ld): check user "
                      "and password",
                      c->base.name, c->user, resp.status);
        err = -EACCES;
    } else if (!err && (resp.status < 200 || resp.status >= 300)) {
        char text[300];
        cfs_http_error_text(&resp, text, sizeof text);
        cfs_log_error("vsphere: %s: REST login at %s: HTTP %ld: %s", c->base.name, path,
                      resp.status, text);
        err = -EIO;
    } else if (!err) {
        /* /api answers the token as a bare JSON string. */
        doc = resp.body ? json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, NULL) : NULL;
        json_t *v = wrapped && json_is_object(doc) ? json_object_get(doc, "value") : doc;
        if (json_is_string(v) && token_ok(json_string_value(v)))
            *token = strdup(json_string_value(v));
        if (!*token) {
            cfs_log_error("vsphere: %s: REST login at %s: the answer holds no session token",
                          c->base.name, path);
            err = -EPROTO;
        }
    }
    json_decref(doc);
    if (resp.body)
        explicit_bzero(resp.body, resp.body_len);
    cfs_http_resp_free(&resp);
    return err;
}

/* Logs in with the spelling known, or finds it: /api first. */
static int rest_login(struct vs_cloud *c, int spelling, int *found, char **token)
{
    int err = -ENOENT;
    if (spelling != VS_REST_OLD) {
        err = login_at(c, "/api/session", false, token);
        *found = VS_REST_API;
    }
    if (err == -ENOENT && spelling != VS_REST_API) {
        err = login_at(c, "/rest/com/vmware/cis/session", true, token);
        *found = VS_REST_OLD;
        if (err == -ENOENT)
            cfs_log_error("vsphere: %s: %s has no REST API (/api/session and "
                          "/rest/com/vmware/cis/session are 404): no content libraries",
                          c->base.name, c->url);
    }
    return err == -ENOENT ? -ENOTSUP : err;
}

int vs_rest_login(struct vs_cloud *c, unsigned failed_gen)
{
    pthread_mutex_lock(&c->lock);
    while (c->rest_busy)
        pthread_cond_wait(&c->cond, &c->lock);
    if (c->rest_token && c->rest_gen != failed_gen) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    if (cfs_now() < c->rest_fail_until) {
        int err = c->rest_fail_err;
        pthread_mutex_unlock(&c->lock);
        return err;
    }
    bool again = c->rest_token != NULL;
    int spelling = c->rest_spelling, found = 0;
    c->rest_busy = true;
    pthread_mutex_unlock(&c->lock);

    char *token = NULL;
    int err = rest_login(c, spelling, &found, &token);

    pthread_mutex_lock(&c->lock);
    c->rest_busy = false;
    pthread_cond_broadcast(&c->cond);
    if (err) {
        c->rest_fail_err = err;
        c->rest_fail_until = cfs_now() + FAILURE_HOLD_S;
    } else {
        cfs_free_secret(c->rest_token);
        c->rest_token = token;
        c->rest_spelling = found;
        /* Set once, before the first source that uses it exists. */
        if (!c->rest_auth.cloud) {
            c->rest_auth.base.header = vs_rest_auth_header;
            c->rest_auth.cloud = c;
        }
        c->rest_gen++;
        c->rest_fail_until = 0;
    }
    pthread_mutex_unlock(&c->lock);
    if (!err)
        cfs_log_info("vsphere: %s: REST session %s as %s (%s)", c->base.name,
                     again ? "renewed (token refused)" : "opened", c->user,
                     found == VS_REST_API ? "/api" : "/rest");
    return err;
}

int vs_rest_session(struct vs_cloud *c, char **header, int *spelling, unsigned *gen)
{
    *header = NULL;
    for (int tries = 0; tries < 2; tries++) {
        pthread_mutex_lock(&c->lock);
        if (c->rest_token) {
            *header = cfs_printf(REST_HEADER ": %s", c->rest_token);
            *spelling = c->rest_spelling;
            *gen = c->rest_gen;
            pthread_mutex_unlock(&c->lock);
            return *header ? 0 : -ENOMEM;
        }
        pthread_mutex_unlock(&c->lock);
        int err = vs_rest_login(c, 0);
        if (err)
            return err;
    }
    return -EACCES;
}

void vs_rest_clear(struct vs_cloud *c)
{
    pthread_mutex_lock(&c->lock);
    char *token = c->rest_token ? strdup(c->rest_token) : NULL;
    int spelling = c->rest_spelling;
    pthread_mutex_unlock(&c->lock);
    /* Sessions are kept by the vCenter until they idle out: end ours. */
    if (token) {
        char *h = cfs_printf(REST_HEADER ": %s", token);
        char *url =
            cfs_printf("%s%s", c->url,
                       spelling == VS_REST_API ? "/api/session" : "/rest/com/vmware/cis/session");
        const char *hdrs[] = { h, NULL };
        struct cfs_http_req req = {
            .method = "DELETE", .url = url, .headers = hdrs, .tls = &c->tls
        };
        struct cfs_http_resp resp = { 0 };
        if (h && url && cfs_http_do(&req, &resp) == 0 && resp.status / 100 != 2)
            cfs_log_debug("vsphere: %s: REST logout: HTTP %ld", c->base.name, resp.status);
        cfs_http_resp_free(&resp);
        cfs_free_secret(h);
        free(url);
        cfs_free_secret(token);
    }
    pthread_mutex_lock(&c->lock);
    cfs_free_secret(c->rest_token);
    c->rest_token = NULL;
    pthread_mutex_unlock(&c->lock);
}

int vs_rest_spelling(struct vs_cloud *c)
{
    char *h;
    int spelling = 0;
    unsigned gen;
    int err = vs_rest_session(c, &h, &spelling, &gen);
    cfs_free_secret(h);
    return err ? err : spelling;
}

int vs_rest_auth_header(struct cfs_http_auth *a, const char *stale, char *out, size_t n)
{
    struct vs_rest_auth *ra = (struct vs_rest_auth *)a;
    struct vs_cloud *c = ra->cloud;
    char *h;
    int spelling, err;
    unsigned gen;

    for (int tries = 0;; tries++) {
        if ((err = vs_rest_session(c, &h, &spelling, &gen)))
            return err;
        if (stale && !strcmp(stale, h) && tries == 0) {
            cfs_free_secret(h);
            if ((err = vs_rest_login(c, gen)))
                return err;
            continue;
        }
        break;
    }
    int w = snprintf(out, n, "%s", h);
    cfs_free_secret(h);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* A vAPI error: {"error_type": "NOT_FOUND", "messages": [...]} (/api) or
 * {"type": "com.vmware.vapi.std.errors.not_found", "value": {...}}. */
char *vs_endpoint_url(const struct vs_cloud *c, const char *uri)
{
    const char *p = uri ? strstr(uri, "://") : NULL;
    if (!p || (strncasecmp(uri, "https://", 8) && strncasecmp(uri, "http://", 7)))
        return NULL;
    p += 3 + strcspn(p + 3, "/?#");
    /* Nothing that could leave the path: no control bytes, no spaces. */
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return NULL;
    return cfs_printf("%s%s%s", c->url, *p == '/' ? "" : "/", p);
}

int vs_rest_errno(long status, const char *body)
{
    if (status == 401 || status == 403)
        return -EACCES;
    if (status == 404)
        return -ENOENT;
    if (body && (strstr(body, "already_exists") || strstr(body, "ALREADY_EXISTS")))
        return -EEXIST;
    if (body && (strstr(body, "not_found") || strstr(body, "NOT_FOUND")))
        return -ENOENT;
    if (body && (strstr(body, "unauthorized") || strstr(body, "UNAUTHORIZED")))
        return -EACCES;
    if (status == 400)
        return -EINVAL;
    return -EIO;
}

int vs_rest(struct vs_cloud *c, const char *method, const char *rest_path, const char *api_path,
            json_t *body, const char *wrap, const char *what, json_t **out)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    struct cfs_http_resp resp = { 0 };
    char *h = NULL, *payload = NULL, *url = NULL;
    int spelling = 0, err;
    unsigned gen, attempt = 0;
    bool idempotent = !strcmp(method, "GET") || !strcmp(method, "DELETE");

    if (out)
        *out = NULL;
    for (int tries = 0; tries < 2; tries++) {
        if ((err = vs_rest_session(c, &h, &spelling, &gen)))
            break;
        if (!payload && body) {
            json_t *send = body;
            if (spelling == VS_REST_OLD && wrap)
                send = json_pack("{sO}", wrap, body);
            payload = send ? json_dumps(send, JSON_COMPACT) : NULL;
            if (send != body)
                json_decref(send);
            if (!payload) {
                err = -ENOMEM;
                break;
            }
        }
        free(url);
        url = spelling == VS_REST_API ? cfs_printf("%s/api%s", c->url, api_path)
                                      : cfs_printf("%s/rest%s", c->url, rest_path);
        const char *hdrs[] = { h, "Content-Type: application/json", "Accept: application/json",
                               NULL };
        struct cfs_http_req req = { .method = method,
                                    .url = url,
                                    .headers = hdrs,
                                    .tls = &c->tls,
                                    .body = payload,
                                    .body_len = payload ? strlen(payload) : 0 };
        err = url ? cfs_http_do(&req, &resp) : -ENOMEM;
        cfs_free_secret(h);
        h = NULL;
        if (!err && resp.status == 401 && tries == 0) {
            cfs_http_resp_free(&resp);
            memset(&resp, 0, sizeof resp);
            if ((err = vs_rest_login(c, gen)))
                break;
            continue;
        }
        /* A reset or a 5xx: again after a backoff, for calls safe to repeat. */
        if (idempotent && cfs_http_retryable(err, err ? 0 : resp.status) && attempt < hs->retries) {
            attempt++;
            cfs_log_info("vsphere: %s: %s failed (%s), retry %u of %u", c->base.name, what,
                         err ? cfs_http_last_error() : "server error", attempt, hs->retries);
            cfs_http_resp_free(&resp);
            memset(&resp, 0, sizeof resp);
            cfs_sleep(cfs_http_backoff(attempt));
            tries--;
            continue;
        }
        break;
    }
    if (err && err != -ENOMEM && err != -EACCES && err != -ENOTSUP && err != -EPROTO) {
        cfs_log_error("vsphere: %s: %s: %s", c->base.name, what,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
    } else if (!err && (resp.status < 200 || resp.status >= 300)) {
        char text[300];
        cfs_http_error_text(&resp, text, sizeof text);
        err = vs_rest_errno(resp.status, resp.body);
        cfs_log_error("vsphere: %s: %s: HTTP %ld%s%s", c->base.name, what, resp.status,
                      *text ? ": " : "", text);
    } else if (!err && out && resp.body_len) {
        json_t *doc = json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, NULL);
        json_t *v = spelling == VS_REST_OLD && json_is_object(doc)
                        ? json_incref(json_object_get(doc, "value"))
                        : json_incref(doc);
        json_decref(doc);
        if (!doc) {
            cfs_log_error("vsphere: %s: %s: the answer is not JSON", c->base.name, what);
            err = -EPROTO;
        }
        *out = v;
    }
    cfs_http_resp_free(&resp);
    free(payload);
    free(url);
    json_decref(body);
    return err;
}
