/* vCD sessions (ref/vcd-api.md §1-2): GET /api/versions, the highest
 * version both sides support, then POST /api/sessions (< 38.0, where it
 * was removed) or /cloudapi/1.0.0/sessions[/provider]; the org's href.
 *
 * One thread logs in at a time, with no lock held across the requests;
 * the others wait for its result (keystone.c does the same). A failure
 * is held for a few seconds so that a wrong password does not turn every
 * FUSE call into a login attempt. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VERSIONS_NS    "http://www.vmware.com/vcloud/versions"
#define CLIENT_MIN     "5.5"
#define CLIENT_MAX     "39.1"
#define CLOUDAPI_FROM  "38.0" /* /api/sessions answers 405 from here on */
#define FAILURE_HOLD_S 3.0

int vcd_version_cmp(const char *a, const char *b)
{
    for (;;) {
        char *ea, *eb;
        unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = ea;
        b = eb;
        if (*a != '.' && *b != '.')
            return 0;
        a += *a == '.';
        b += *b == '.';
    }
}

/* "36.0", "5.10": digits and single dots only, bounded. */
static bool plain_version(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || !isdigit((unsigned char)s[0]) || s[n - 1] == '.')
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !(*p == '.' && p[1] != '.'))
            return false;
    return true;
}

static char *trimmed_text(xmlNodePtr n)
{
    char *s = cfs_xml_text(n);
    if (!s)
        return NULL;
    char *b = s, *e = s + strlen(s);
    while (isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    memmove(s, b, (size_t)(e - b));
    s[e - b] = '\0';
    return s;
}

int vcd_versions_pick(const char *body, size_t len, const char *want, char **out, const char **why)
{
    xmlDocPtr doc;
    char *best = NULL;

    *out = NULL;
    *why = "no API version that cloudfs supports (5.5 to 39.1) is offered";
    if (vcd_xml_parse(body, len, &doc) != 0) {
        *why = "GET /api/versions is not XML";
        return -EPROTO;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (strcmp((const char *)root->name, "SupportedVersions") != 0) {
        *why = "GET /api/versions is not a SupportedVersions document";
        xmlFreeDoc(doc);
        return -EPROTO;
    }
    /* Servers do not sort the list (5.5 comes after 31.0): compare all. */
    for (xmlNodePtr vi = cfs_xml_child(root, VERSIONS_NS, "VersionInfo"); vi;
         vi = cfs_xml_next(vi, VERSIONS_NS, "VersionInfo")) {
        char *dep = cfs_xml_attr(vi, "deprecated");
        char *v = trimmed_text(cfs_xml_child(vi, VERSIONS_NS, "Version"));
        bool deprecated = dep && strcmp(dep, "true") == 0;
        free(dep);
        if (!v || !plain_version(v)) {
            free(v);
            continue;
        }
        bool take = want ? vcd_version_cmp(v, want) == 0
                         : !deprecated && vcd_version_cmp(v, CLIENT_MIN) >= 0 &&
                               vcd_version_cmp(v, CLIENT_MAX) <= 0 &&
                               (!best || vcd_version_cmp(v, best) > 0);
        if (take) {
            free(best);
            best = v;
        } else {
            free(v);
        }
    }
    xmlFreeDoc(doc);
    if (!best) {
        if (want)
            *why = "the configured api_version is not offered by the server";
        return -EPROTO;
    }
    *out = best;
    return 0;
}

/* Tokens go into a header line: printable ASCII without spaces only. */
static bool token_ok(const char *t)
{
    if (!t || !*t || strlen(t) > 16384)
        return false;
    for (; *t; t++)
        if (*t <= ' ' || *t >= 0x7f)
            return false;
    return true;
}

static char *basic_credentials(const struct vcd_cloud *c)
{
    char *user = cfs_printf("%s@%s", c->user, c->org);
    char *line = user ? cfs_http_basic_auth(user, c->password) : NULL;
    free(user);
    return line;
}

static int get_version(struct vcd_cloud *c, char **version)
{
    char *url = cfs_printf("%s/api/versions", c->url);
    const char *hdrs[] = { "Accept: application/*+xml", NULL };
    struct cfs_http_req req = { .method = "GET", .url = url, .headers = hdrs };
    struct cfs_http_resp resp;
    const char *why;
    int err;

    if (!url)
        return -ENOMEM;
    err = vcd_http(c, "GET /api/versions", &req, &resp, true);
    free(url);
    if (err)
        return err;
    if (resp.status != 200) {
        err = vcd_api_error(c, "GET /api/versions", &resp);
    } else if ((err = vcd_versions_pick(resp.body, resp.body_len, c->api_version, version, &why)) !=
               0) {
        cfs_log_error("vcloud: %s: %s%s%s", c->base.name, why, c->api_version ? ": " : "",
                      c->api_version ? c->api_version : "");
    }
    cfs_http_resp_free(&resp);
    return err;
}

/* The auth header line from a login answer: the bearer token when there
 * is one (9.1+), else the legacy x-vcloud-authorization. */
static char *auth_line(const struct cfs_http_resp *resp)
{
    char *t = cfs_http_header(resp, "X-VMWARE-VCLOUD-ACCESS-TOKEN"), *line = NULL;
    if (t && token_ok(t)) {
        line = cfs_printf("Authorization: Bearer %s", t);
    } else {
        cfs_free_secret(t);
        t = cfs_http_header(resp, "x-vcloud-authorization");
        if (t && token_ok(t))
            line = cfs_printf("x-vcloud-authorization: %s", t);
    }
    cfs_free_secret(t);
    return line;
}

static int post_session(struct vcd_cloud *c, const char *version, char **auth)
{
    bool cloudapi = vcd_version_cmp(version, CLOUDAPI_FROM) >= 0;
    const char *path = !cloudapi                           ? "/api/sessions"
                       : strcasecmp(c->org, "System") == 0 ? "/cloudapi/1.0.0/sessions/provider"
                                                           : "/cloudapi/1.0.0/sessions";
    char *url = cfs_printf("%s%s", c->url, path);
    char *accept = cfs_printf(cloudapi ? "Accept: application/json;version=%s"
                                       : "Accept: application/*+xml;version=%s",
                              version);
    char *basic = basic_credentials(c);
    char what[64];
    struct cfs_http_resp resp = { 0 };
    int err = -ENOMEM;

    *auth = NULL;
    snprintf(what, sizeof what, "POST %s", path);
    if (url && accept && basic) {
        const char *hdrs[] = { basic, accept, NULL };
        struct cfs_http_req req = {
            .method = "POST", .url = url, .headers = hdrs, .body = "", .body_len = 0
        };
        err = vcd_http(c, what, &req, &resp, true);
    }
    if (!err) {
        if (resp.status == 401 || resp.status == 403) {
            cfs_log_error("vcloud: %s: login as %s@%s refused (HTTP %ld)", c->base.name, c->user,
                          c->org, resp.status);
            err = -EACCES;
        } else if (resp.status < 200 || resp.status >= 300) {
            err = vcd_api_error(c, what, &resp);
        } else if (!(*auth = auth_line(&resp))) {
            cfs_log_error("vcloud: %s: %s: the answer carries no session token", c->base.name,
                          what);
            err = -EPROTO;
        }
    }
    if (resp.headers) /* they carry the session's token */
        explicit_bzero(resp.headers, strlen(resp.headers));
    cfs_http_resp_free(&resp);
    free(url);
    free(accept);
    cfs_free_secret(basic);
    return err;
}

/* The org's href from GET /api/org/ (names compared case-insensitively). */
static int find_org(struct vcd_cloud *c, const char *auth, const char *version, char **href)
{
    char *url = cfs_printf("%s/api/org/", c->url);
    char *accept = cfs_printf("Accept: application/*+xml;version=%s", version);
    struct cfs_http_resp resp = { 0 };
    xmlDocPtr doc = NULL;
    int err = -ENOMEM;

    *href = NULL;
    if (url && accept) {
        const char *hdrs[] = { accept, auth, NULL };
        struct cfs_http_req req = { .method = "GET", .url = url, .headers = hdrs };
        err = vcd_http(c, "GET /api/org/", &req, &resp, true);
    }
    if (!err && resp.status != 200)
        err = vcd_api_error(c, "GET /api/org/", &resp);
    else if (!err && vcd_xml_parse(resp.body, resp.body_len, &doc) != 0)
        err = -EPROTO;
    for (xmlNodePtr o = doc ? cfs_xml_child(xmlDocGetRootElement(doc), VCD_NS, "Org") : NULL;
         o && !*href; o = cfs_xml_next(o, VCD_NS, "Org")) {
        char *name = cfs_xml_attr(o, "name");
        if (name && strcasecmp(name, c->org) == 0)
            *href = cfs_xml_attr(o, "href");
        free(name);
    }
    if (!err && !*href) {
        cfs_log_error("vcloud: %s: org %s is not in the org list of %s", c->base.name, c->org,
                      c->user);
        err = -ENOENT;
    }
    xmlFreeDoc(doc);
    cfs_http_resp_free(&resp);
    free(url);
    free(accept);
    return err;
}

static int login(struct vcd_cloud *c, char **auth, char **version, char **org_href)
{
    int err = get_version(c, version);
    if (!err)
        err = post_session(c, *version, auth);
    if (!err)
        err = find_org(c, *auth, *version, org_href);
    if (err) {
        free(*version);
        cfs_free_secret(*auth);
        *version = *auth = NULL;
    }
    return err;
}

int vcd_login(struct vcd_cloud *c, unsigned failed_gen)
{
    pthread_mutex_lock(&c->lock);
    while (c->busy)
        pthread_cond_wait(&c->cond, &c->lock);
    if (c->auth && c->generation != failed_gen) {
        pthread_mutex_unlock(&c->lock);
        return 0; /* another thread logged in meanwhile */
    }
    if (cfs_now() < c->fail_until) {
        int err = c->fail_err;
        pthread_mutex_unlock(&c->lock);
        return err;
    }
    bool again = c->auth != NULL;
    char shown[16] = "";
    char *auth = NULL, *version = NULL, *org_href = NULL;
    c->busy = true;
    pthread_mutex_unlock(&c->lock);

    int err = login(c, &auth, &version, &org_href);

    pthread_mutex_lock(&c->lock);
    c->busy = false;
    pthread_cond_broadcast(&c->cond);
    if (err) {
        c->fail_err = err;
        c->fail_until = cfs_now() + FAILURE_HOLD_S;
    } else {
        cfs_free_secret(c->auth);
        free(c->version);
        free(c->org_href);
        c->auth = auth;
        c->version = version;
        c->org_href = org_href;
        c->generation++;
        c->fail_until = 0;
        snprintf(shown, sizeof shown, "%s", version);
    }
    pthread_mutex_unlock(&c->lock);
    if (!err)
        cfs_log_info("vcloud: %s: %s as %s@%s (API %s)", c->base.name,
                     again ? "logged in again (session refused)" : "logged in", c->user, c->org,
                     shown);
    return err;
}

int vcd_session_get(struct vcd_cloud *c, char **auth, char **version, unsigned *gen)
{
    *auth = *version = NULL;
    for (int tries = 0; tries < 2; tries++) {
        pthread_mutex_lock(&c->lock);
        if (c->auth) {
            *auth = strdup(c->auth);
            *version = strdup(c->version);
            *gen = c->generation;
            pthread_mutex_unlock(&c->lock);
            if (!*auth || !*version) {
                free(*auth);
                free(*version);
                *auth = *version = NULL;
                return -ENOMEM;
            }
            return 0;
        }
        pthread_mutex_unlock(&c->lock);
        int err = vcd_login(c, 0);
        if (err)
            return err;
    }
    return -EACCES;
}

void vcd_session_clear(struct vcd_cloud *c)
{
    pthread_mutex_lock(&c->lock);
    cfs_free_secret(c->auth);
    free(c->version);
    free(c->org_href);
    c->auth = c->version = c->org_href = NULL;
    pthread_mutex_unlock(&c->lock);
}
