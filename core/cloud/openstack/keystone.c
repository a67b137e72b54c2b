/* Keystone v3 (POST /v3/auth/tokens; ref/glance-keystone.md).
 *
 * The token and catalog are shared by every thread of a cloud. One thread
 * authenticates at a time, with no lock held across the request; others
 * that need a token wait for its result. A token is renewed when a quarter
 * of its lifetime (at most 5 minutes) is left, measured on the monotonic
 * clock from the lifetime Keystone states, so clock skew does not matter.
 * Failures are remembered for a few seconds so that a wrong password does
 * not turn every FUSE call into a login attempt. */
#define _GNU_SOURCE
#include "keystone.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILURE_HOLD_S 3.0

enum ks_method { KS_PASSWORD, KS_APPCRED, KS_TOKEN };

struct keystone {
    char *cloud;
    char *auth_url;    /* ends in /v3 */
    json_t *auth_body; /* the request body; holds secrets, never logged */
    char *identity;    /* "user demo, project demo" for log lines */
    char *interface;
    char *region;
    char *image_interface;
    char *compute_interface;
    struct cfs_tls tls;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool busy; /* a thread is authenticating */
    char *token;
    double renew_at; /* monotonic */
    json_t *catalog;
    int fail_err;
    double fail_until; /* monotonic */
    unsigned renewals;
};

static const char *str(const struct cfs_cloud_config *c, const char *k)
{
    const char *v = cfs_cloud_str(c, k);
    return v && *v ? v : NULL;
}

static json_t *domain_ref(const struct cfs_cloud_config *c, const char *which)
{
    char k[64];
    const char *v;
    snprintf(k, sizeof k, "auth.%s_domain_id", which);
    if ((v = str(c, k)))
        return json_pack("{s:s}", "id", v);
    snprintf(k, sizeof k, "auth.%s_domain_name", which);
    if ((v = str(c, k)))
        return json_pack("{s:s}", "name", v);
    if ((v = str(c, "auth.default_domain")) || (v = str(c, "default_domain")))
        return json_pack("{s:s}", "id", v);
    return json_pack("{s:s}", "id", "default");
}

static json_t *user_ref(const struct cfs_cloud_config *c)
{
    const char *id = str(c, "auth.user_id");
    const char *name = str(c, "auth.username");
    if (id)
        return json_pack("{s:s}", "id", id);
    if (name)
        return json_pack("{s:s, s:o}", "name", name, "domain", domain_ref(c, "user"));
    return NULL;
}

static json_t *scope(const struct cfs_cloud_config *c)
{
    const char *pid = str(c, "auth.project_id");
    const char *pname = str(c, "auth.project_name");
    const char *did = str(c, "auth.domain_id");
    const char *dname = str(c, "auth.domain_name");
    if (pid)
        return json_pack("{s:{s:s}}", "project", "id", pid);
    if (pname)
        return json_pack("{s:{s:s, s:o}}", "project", "name", pname, "domain",
                         domain_ref(c, "project"));
    if (did)
        return json_pack("{s:{s:s}}", "domain", "id", did);
    if (dname)
        return json_pack("{s:{s:s}}", "domain", "name", dname);
    if (cfs_cloud_bool(c, "auth.system_scope", false))
        return json_pack("{s:{s:b}}", "system", "all", 1);
    return NULL;
}

static enum ks_method method_of(const struct cfs_cloud_config *c)
{
    const char *t = str(c, "auth_type");
    if (t) {
        if (strstr(t, "applicationcredential") || strstr(t, "application_credential"))
            return KS_APPCRED;
        if (strcmp(t, "token") == 0 || strcmp(t, "v3token") == 0)
            return KS_TOKEN;
        return KS_PASSWORD;
    }
    if (str(c, "auth.application_credential_secret"))
        return KS_APPCRED;
    if (str(c, "auth.token") && !str(c, "auth.password"))
        return KS_TOKEN;
    return KS_PASSWORD;
}

static int build_body(struct keystone *ks, const struct cfs_cloud_config *c)
{
    enum ks_method m = method_of(c);
    json_t *identity = NULL, *sc = NULL;
    const char *who = str(c, "auth.username") ? str(c, "auth.username") : str(c, "auth.user_id");
    const char *proj =
        str(c, "auth.project_name") ? str(c, "auth.project_name") : str(c, "auth.project_id");

    switch (m) {
    case KS_PASSWORD: {
        const char *pw = str(c, "auth.password");
        json_t *user = user_ref(c);
        if (!user || !pw) {
            json_decref(user);
            cfs_log_error("keystone: cloud %s: password auth needs username (or user_id) and "
                          "password",
                          c->name);
            return -EINVAL;
        }
        json_object_set_new(user, "password", json_string(pw));
        identity = json_pack("{s:[s], s:{s:o}}", "methods", "password", "password", "user", user);
        sc = scope(c);
        break;
    }
    case KS_APPCRED: {
        const char *id = str(c, "auth.application_credential_id");
        const char *name = str(c, "auth.application_credential_name");
        const char *secret = str(c, "auth.application_credential_secret");
        json_t *ac;
        if (!secret || (!id && !name)) {
            cfs_log_error("keystone: cloud %s: application credential auth needs "
                          "application_credential_id (or _name and a user) and _secret",
                          c->name);
            return -EINVAL;
        }
        if (id) {
            ac = json_pack("{s:s, s:s}", "id", id, "secret", secret);
        } else {
            json_t *user = user_ref(c);
            if (!user) {
                cfs_log_error("keystone: cloud %s: application_credential_name needs a user",
                              c->name);
                return -EINVAL;
            }
            ac = json_pack("{s:s, s:s, s:o}", "name", name, "secret", secret, "user", user);
        }
        identity = json_pack("{s:[s], s:o}", "methods", "application_credential",
                             "application_credential", ac);
        who = id ? "application credential" : name;
        proj = "its own";
        break;
    }
    case KS_TOKEN: {
        const char *tok = str(c, "auth.token");
        if (!tok) {
            cfs_log_error("keystone: cloud %s: token auth needs auth.token", c->name);
            return -EINVAL;
        }
        identity = json_pack("{s:[s], s:{s:s}}", "methods", "token", "token", "id", tok);
        sc = scope(c);
        who = "a token";
        break;
    }
    }
    if (!identity)
        return -ENOMEM;
    ks->auth_body = json_pack("{s:{s:o}}", "auth", "identity", identity);
    if (!ks->auth_body)
        return -ENOMEM;
    if (sc)
        json_object_set_new(json_object_get(ks->auth_body, "auth"), "scope", sc);
    ks->identity = cfs_printf("%s, project %s", who ? who : "?", proj ? proj : "(unscoped)");
    return 0;
}

static char *normalize_auth_url(const char *u)
{
    char *s = cfs_url_trim(u);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (cfs_ends_with(s, "/v3"))
        return s;
    if (cfs_ends_with(s, "/v2.0"))
        s[n - 5] = '\0';
    char *r = cfs_printf("%s/v3", s);
    free(s);
    return r;
}

int keystone_create(const struct cfs_cloud_config *c, const struct cfs_tls *tls,
                    struct keystone **out)
{
    struct keystone *ks = calloc(1, sizeof *ks);
    const char *url = str(c, "auth.auth_url");
    const char *v;
    int err;

    if (!ks)
        return -ENOMEM;
    pthread_mutex_init(&ks->lock, NULL);
    pthread_cond_init(&ks->cond, NULL);
    ks->cloud = strdup(c->name);
    ks->tls = *tls;
    if (!url) {
        cfs_log_error("keystone: cloud %s: no auth.auth_url", c->name);
        keystone_destroy(ks);
        return -EINVAL;
    }
    if ((v = str(c, "identity_api_version")) && strcmp(v, "3") != 0 && strncmp(v, "3.", 2) != 0)
        cfs_log_warn("keystone: cloud %s: identity_api_version %s: only v3 exists, using it",
                     c->name, v);
    ks->auth_url = normalize_auth_url(url);
    ks->interface = strdup((v = str(c, "interface")) ? v : "public");
    if ((v = str(c, "image_interface")))
        ks->image_interface = strdup(v);
    if ((v = str(c, "compute_interface")))
        ks->compute_interface = strdup(v);
    if ((v = str(c, "region_name")))
        ks->region = strdup(v);
    err = build_body(ks, c);
    if (err || !ks->auth_url || !ks->interface) {
        keystone_destroy(ks);
        return err ? err : -ENOMEM;
    }
    if (cfs_url_plain_http(ks->auth_url)) {
        char shown[512];
        cfs_log_warn("keystone: cloud %s: credentials go to %s unencrypted (http://): anyone on "
                     "the way can read them; use https://",
                     c->name, cfs_url_shown(ks->auth_url, shown, sizeof shown));
    }
    *out = ks;
    return 0;
}

/* The body's strings (password, secret, token) zeroed before jansson
 * frees them. */
static void forget(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_string(j))
        explicit_bzero((char *)json_string_value(j), json_string_length(j));
    else if (json_is_object(j))
        json_object_foreach (j, k, v)
            forget(v);
    else if (json_is_array(j))
        json_array_foreach (j, i, v)
            forget(v);
}

void keystone_destroy(struct keystone *ks)
{
    if (!ks)
        return;
    free(ks->cloud);
    free(ks->auth_url);
    forget(ks->auth_body);
    json_decref(ks->auth_body);
    free(ks->identity);
    free(ks->interface);
    free(ks->region);
    free(ks->image_interface);
    free(ks->compute_interface);
    cfs_free_secret(ks->token);
    json_decref(ks->catalog);
    pthread_mutex_destroy(&ks->lock);
    pthread_cond_destroy(&ks->cond);
    free(ks);
}

static int status_errno(long status)
{
    if (status == 401 || status == 403)
        return -EACCES;
    if (status == 404)
        return -ENOENT;
    if (status == 400)
        return -EINVAL;
    return -EIO;
}

/* One login, with retries for transport errors and 5xx. No lock held. */
static int authenticate(struct keystone *ks, char **token, json_t **catalog, double *lifetime)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    char *body = json_dumps(ks->auth_body, JSON_COMPACT);
    char *url = cfs_printf("%s/auth/tokens", ks->auth_url);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    struct cfs_http_resp resp = { 0 };
    unsigned attempt = 0;
    int err;

    if (!body || !url) {
        err = -ENOMEM;
        goto out;
    }
    for (;;) {
        struct cfs_http_req req = {
            .method = "POST",
            .url = url,
            .headers = hdrs,
            .body = body,
            .body_len = strlen(body),
            .tls = &ks->tls,
        };
        cfs_http_resp_free(&resp);
        err = cfs_http_do(&req, &resp);
        if (cfs_http_retryable(err, err ? 0 : resp.status) && attempt < hs->retries) {
            attempt++;
            cfs_sleep(cfs_http_backoff(attempt));
            continue;
        }
        break;
    }
    if (err) {
        char shown[512];
        cfs_log_error("keystone: cloud %s: cannot reach %s: %s", ks->cloud,
                      cfs_url_shown(ks->auth_url, shown, sizeof shown), cfs_http_last_error());
        goto out;
    }
    if (resp.status != 201 && resp.status != 200) {
        char msg[256];
        cfs_http_error_text(&resp, msg, sizeof msg);
        cfs_log_error("keystone: cloud %s: authentication as %s refused: HTTP %ld: %s", ks->cloud,
                      ks->identity, resp.status, msg);
        err = status_errno(resp.status);
        goto out;
    }

    json_t *doc = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    json_t *tok = json_object_get(doc, "token");
    char *subject = cfs_http_header(&resp, "X-Subject-Token");
    struct timespec exp, iss;
    if (!subject || !*subject || strlen(subject) > 4096 ||
        cfs_parse_iso8601(json_string_value(json_object_get(tok, "expires_at")), &exp) ||
        cfs_parse_iso8601(json_string_value(json_object_get(tok, "issued_at")), &iss)) {
        cfs_log_error("keystone: cloud %s: malformed answer to authentication (no token or "
                      "expiry)",
                      ks->cloud);
        cfs_free_secret(subject);
        json_decref(doc);
        err = -EIO;
        goto out;
    }
    *token = subject;
    *catalog = json_incref(json_object_get(tok, "catalog"));
    *lifetime = difftime(exp.tv_sec, iss.tv_sec);
    json_decref(doc);
out:
    /* The answer's headers carry the new token, the body the password. */
    if (resp.headers)
        explicit_bzero(resp.headers, strlen(resp.headers));
    cfs_http_resp_free(&resp);
    cfs_free_secret(body);
    free(url);
    return err;
}

/* Makes sure a valid token is there; called and returns with the lock held. */
static int ensure_token(struct keystone *ks, const char *stale_token)
{
    for (;;) {
        while (ks->busy)
            pthread_cond_wait(&ks->cond, &ks->lock);
        double now = cfs_now();
        bool refused = stale_token && ks->token && strcmp(stale_token, ks->token) == 0;
        if (ks->token && now < ks->renew_at && !refused)
            return 0;
        if (!refused && now < ks->fail_until)
            return ks->fail_err;

        const char *why = !ks->token ? NULL : refused ? "refused with HTTP 401" : "near expiry";
        char *token = NULL;
        json_t *catalog = NULL;
        double lifetime = 0;
        ks->busy = true;
        pthread_mutex_unlock(&ks->lock);
        int err = authenticate(ks, &token, &catalog, &lifetime);
        pthread_mutex_lock(&ks->lock);
        ks->busy = false;
        pthread_cond_broadcast(&ks->cond);
        if (err) {
            ks->fail_err = err;
            ks->fail_until = cfs_now() + FAILURE_HOLD_S;
            /* A refused token is worth nothing: without it, the hold
             * applies to every caller, not only to new ones. */
            if (refused) {
                cfs_free_secret(ks->token);
                ks->token = NULL;
            }
            return err;
        }
        if (lifetime < 1) {
            cfs_log_warn("keystone: cloud %s: the token's lifetime makes no sense (%.0f s); "
                         "renewing it after a minute",
                         ks->cloud, lifetime);
            lifetime = 60;
        }
        double margin = lifetime / 4 < 300 ? lifetime / 4 : 300;
        cfs_free_secret(ks->token);
        json_decref(ks->catalog);
        ks->token = token;
        ks->catalog = catalog;
        ks->renew_at = now + lifetime - margin;
        ks->fail_until = 0;
        if (why) {
            ks->renewals++;
            cfs_log_info("keystone: cloud %s: re-authenticated (%s; renewal %u), token valid "
                         "for %.0f s",
                         ks->cloud, why, ks->renewals, lifetime);
        } else {
            cfs_log_info("keystone: cloud %s: authenticated as %s, token valid for %.0f s",
                         ks->cloud, ks->identity, lifetime);
        }
        return 0;
    }
}

int keystone_auth_header(struct keystone *ks, const char *stale, char *out, size_t n)
{
    static const char prefix[] = "X-Auth-Token: ";
    const char *stale_token = NULL;
    int err;

    if (stale && strncmp(stale, prefix, sizeof prefix - 1) == 0)
        stale_token = stale + sizeof prefix - 1;
    pthread_mutex_lock(&ks->lock);
    err = ensure_token(ks, stale_token);
    if (!err && (size_t)snprintf(out, n, "%s%s", prefix, ks->token) >= n)
        err = -ENAMETOOLONG;
    pthread_mutex_unlock(&ks->lock);
    return err;
}

static const char *pick_endpoint(json_t *catalog, const char *type, const char *interface,
                                 const char *region)
{
    size_t i, j;
    json_t *svc, *ep;
    json_array_foreach (catalog, i, svc) {
        if (!json_is_string(json_object_get(svc, "type")) ||
            strcmp(json_string_value(json_object_get(svc, "type")), type) != 0)
            continue;
        json_array_foreach (json_object_get(svc, "endpoints"), j, ep) {
            const char *itf = json_string_value(json_object_get(ep, "interface"));
            const char *reg = json_string_value(json_object_get(ep, "region_id"));
            const char *url = json_string_value(json_object_get(ep, "url"));
            if (!reg)
                reg = json_string_value(json_object_get(ep, "region"));
            if (!itf || !url || strcmp(itf, interface) != 0)
                continue;
            if (region && (!reg || strcmp(reg, region) != 0))
                continue;
            return url;
        }
    }
    return NULL;
}

int keystone_endpoint(struct keystone *ks, const char *type, char **url)
{
    const char *interface;
    int err;

    pthread_mutex_lock(&ks->lock);
    err = ensure_token(ks, NULL);
    if (err) {
        pthread_mutex_unlock(&ks->lock);
        return err;
    }
    /* clouds.yaml's <service>_interface wins over interface. */
    interface = ks->interface;
    if (strcmp(type, "image") == 0 && ks->image_interface)
        interface = ks->image_interface;
    else if (strcmp(type, "compute") == 0 && ks->compute_interface)
        interface = ks->compute_interface;
    /* "publicURL" is how older configs spell the interface. */
    char itf[32];
    snprintf(itf, sizeof itf, "%s", interface);
    char *suffix = strstr(itf, "URL");
    if (suffix)
        *suffix = '\0';
    const char *u = pick_endpoint(ks->catalog, type, itf, ks->region);
    if (!u) {
        cfs_log_error("keystone: cloud %s: the catalog has no %s endpoint for interface %s%s%s",
                      ks->cloud, type, itf, ks->region ? " in region " : "",
                      ks->region ? ks->region : "");
        err = -ENOENT;
    } else {
        *url = strdup(u);
        err = *url ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&ks->lock);
    return err;
}
