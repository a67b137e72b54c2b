/* vCenter sessions: the vim25 version from /sdk/vimServiceVersions.xml,
 * the ServiceContent (where the PropertyCollector and the other managers
 * are), then SessionManager.Login, whose answer sets the
 * vmware_soap_session cookie every later request carries (the datastore's
 * /folder requests too).
 *
 * One thread logs in at a time, with no lock held across the requests;
 * the others wait for its result (vcloud/session.c does the same). A
 * failure is held for a few seconds so that a wrong password does not
 * turn every FUSE call into a login attempt. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAILURE_HOLD_S 3.0

/* The newest urn:vim25 version the server names; "6.5" (every vCenter
 * since 2016 speaks it) when it names none. */
static int get_version(struct vs_cloud *c, char **out)
{
    char *url = cfs_printf("%s/sdk/vimServiceVersions.xml", c->url);
    struct cfs_http_req req = { .method = "GET", .url = url, .tls = &c->tls };
    struct cfs_http_resp resp = { 0 };
    xmlDocPtr doc = NULL;
    int err;

    *out = NULL;
    if (!url)
        return -ENOMEM;
    err = cfs_http_do(&req, &resp);
    free(url);
    if (err) {
        cfs_log_error("vsphere: %s: %s: %s", c->base.name, c->url,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
        return err;
    }
    if (resp.status == 200 &&
        cfs_xml_read(resp.body, resp.body_len, "versions", 0, &doc, NULL) == 0)
        for (xmlNodePtr ns = cfs_xml_child(xmlDocGetRootElement(doc), NULL, "namespace");
             ns && !*out; ns = cfs_xml_next(ns, NULL, "namespace")) {
            char *name = cfs_xml_text(cfs_xml_child(ns, NULL, "name"));
            char *v = cfs_xml_text(cfs_xml_child(ns, NULL, "version"));
            if (name && v && !strcmp(name, "urn:vim25") && strlen(v) < 16 &&
                strspn(v, "0123456789.") == strlen(v) && *v)
                *out = v, v = NULL;
            free(name);
            free(v);
        }
    if (doc)
        xmlFreeDoc(doc);
    cfs_http_resp_free(&resp);
    if (!*out)
        *out = strdup("6.5");
    return *out ? 0 : -ENOMEM;
}

struct content {
    char *root, *pc, *views, *sessions;
};

static void content_free(struct content *s)
{
    free(s->root);
    free(s->pc);
    free(s->views);
    free(s->sessions);
}

static int service_content(struct vs_cloud *c, struct content *out)
{
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret;
    int err = vs_call_new(&call, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance");
    if (err)
        return err;
    err = vs_soap_raw(c, &call, "RetrieveServiceContent", true, NULL, NULL, &resp, &ret);
    vs_call_free(&call);
    if (err)
        return err;
    out->root = cfs_xml_text(cfs_xml_child(ret, NULL, "rootFolder"));
    out->pc = cfs_xml_text(cfs_xml_child(ret, NULL, "propertyCollector"));
    out->views = cfs_xml_text(cfs_xml_child(ret, NULL, "viewManager"));
    out->sessions = cfs_xml_text(cfs_xml_child(ret, NULL, "sessionManager"));
    xmlFreeDoc(resp);
    if (!out->root || !out->pc || !out->views || !out->sessions) {
        cfs_log_error("vsphere: %s: %s/sdk is no vCenter: its ServiceContent lacks the "
                      "managers (a standalone ESXi has no ViewManager?)",
                      c->base.name, c->url);
        content_free(out);
        return -EPROTO;
    }
    return 0;
}

static int login(struct vs_cloud *c, struct content *sc, char **cookie)
{
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret;
    int err;

    if (!c->version && (err = get_version(c, &c->version)))
        return err;
    if ((err = service_content(c, sc)))
        return err;
    if ((err = vs_call_new(&call, "Login", "SessionManager", sc->sessions)))
        return err;
    xmlNodePtr pw = NULL;
    if (!vs_add(call.method, "userName", c->user) ||
        !(pw = vs_add(call.method, "password", c->password)))
        err = -ENOMEM;
    else
        err = vs_soap_raw(c, &call, "login", true, NULL, cookie, &resp, &ret);
    if (pw && pw->children && pw->children->content)
        explicit_bzero(pw->children->content, strlen((char *)pw->children->content));
    vs_call_free(&call);
    if (err == -EACCES)
        cfs_log_error("vsphere: %s: the vCenter refused user %s: check user and password",
                      c->base.name, c->user);
    if (err)
        return err;
    xmlFreeDoc(resp);
    if (!*cookie) {
        cfs_log_error("vsphere: %s: the login answer set no vmware_soap_session cookie",
                      c->base.name);
        return -EPROTO;
    }
    return 0;
}

int vs_login(struct vs_cloud *c, unsigned failed_gen)
{
    pthread_mutex_lock(&c->lock);
    while (c->busy)
        pthread_cond_wait(&c->cond, &c->lock);
    if (c->cookie && c->generation != failed_gen) {
        pthread_mutex_unlock(&c->lock);
        return 0; /* another thread logged in meanwhile */
    }
    if (cfs_now() < c->fail_until) {
        int err = c->fail_err;
        pthread_mutex_unlock(&c->lock);
        return err;
    }
    bool again = c->cookie != NULL;
    c->busy = true;
    pthread_mutex_unlock(&c->lock);

    struct content sc = { 0 };
    char *cookie = NULL;
    int err = login(c, &sc, &cookie);

    pthread_mutex_lock(&c->lock);
    c->busy = false;
    pthread_cond_broadcast(&c->cond);
    if (err) {
        c->fail_err = err;
        c->fail_until = cfs_now() + FAILURE_HOLD_S;
        content_free(&sc);
    } else {
        cfs_free_secret(c->cookie);
        c->cookie = cookie;
        /* The managers' morefs never change: set once, read without the
         * lock by every call made after a login. */
        if (!c->root_folder) {
            c->root_folder = sc.root;
            c->property_collector = sc.pc;
            c->view_manager = sc.views;
            c->session_manager = sc.sessions;
        } else {
            content_free(&sc);
        }
        c->generation++;
        c->fail_until = 0;
    }
    pthread_mutex_unlock(&c->lock);
    if (!err)
        cfs_log_info("vsphere: %s: %s as %s (vim25 %s)", c->base.name,
                     again ? "logged in again (session refused)" : "logged in", c->user,
                     c->version);
    return err;
}

int vs_session_get(struct vs_cloud *c, char **cookie, char **version, unsigned *gen)
{
    *cookie = *version = NULL;
    for (int tries = 0; tries < 2; tries++) {
        pthread_mutex_lock(&c->lock);
        if (c->cookie) {
            *cookie = strdup(c->cookie);
            *version = strdup(c->version);
            *gen = c->generation;
            pthread_mutex_unlock(&c->lock);
            if (!*cookie || !*version) {
                cfs_free_secret(*cookie);
                free(*version);
                *cookie = *version = NULL;
                return -ENOMEM;
            }
            return 0;
        }
        pthread_mutex_unlock(&c->lock);
        int err = vs_login(c, 0);
        if (err)
            return err;
    }
    return -EACCES;
}

void vs_logout(struct vs_cloud *c)
{
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret;

    pthread_mutex_lock(&c->lock);
    char *cookie = c->cookie ? strdup(c->cookie) : NULL;
    pthread_mutex_unlock(&c->lock);
    /* vCenter keeps a session until it idles out, and limits how many a
     * user may have: end ours. */
    if (cookie && !vs_call_new(&call, "Logout", "SessionManager", c->session_manager)) {
        if (!vs_soap_raw(c, &call, "logout", false, cookie, NULL, &resp, &ret))
            xmlFreeDoc(resp);
        vs_call_free(&call);
    }
    cfs_free_secret(cookie);
}

void vs_session_clear(struct vs_cloud *c)
{
    pthread_mutex_lock(&c->lock);
    cfs_free_secret(c->cookie);
    c->cookie = NULL;
    free(c->version);
    free(c->root_folder);
    free(c->property_collector);
    free(c->view_manager);
    free(c->session_manager);
    c->version = c->root_folder = c->property_collector = NULL;
    c->view_manager = c->session_manager = NULL;
    pthread_mutex_unlock(&c->lock);
}

int vs_auth_header(struct cfs_http_auth *a, const char *stale, char *out, size_t n)
{
    struct vs_cloud *c = (struct vs_cloud *)((char *)a - offsetof(struct vs_cloud, auth));
    char *cookie, *version;
    unsigned gen;
    int err;

    for (int tries = 0;; tries++) {
        if ((err = vs_session_get(c, &cookie, &version, &gen)))
            return err;
        free(version);
        /* The request was refused with the cookie we still hold: renew it. */
        if (stale && !strcmp(stale, cookie) && tries == 0) {
            cfs_free_secret(cookie);
            if ((err = vs_login(c, gen)))
                return err;
            continue;
        }
        break;
    }
    int w = snprintf(out, n, "%s", cookie);
    cfs_free_secret(cookie);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}
