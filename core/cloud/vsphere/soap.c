/* vim25 SOAP calls: the envelope is a libxml2 tree (so every value is
 * escaped by the library), posted to /sdk; the answer is parsed as
 * untrusted XML and a Fault becomes one log line and an errno. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SOAP_NS    "http://schemas.xmlsoap.org/soap/envelope/"
#define MAX_ANSWER (64u << 20) /* a RetrievePropertiesEx page of 100 VMs is far less */

int vs_call_new(struct vs_call *call, const char *method, const char *type, const char *moref)
{
    call->doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr env = call->doc ? xmlNewNode(NULL, BAD_CAST "Envelope") : NULL;
    if (!env) {
        vs_call_free(call);
        return -ENOMEM;
    }
    xmlDocSetRootElement(call->doc, env);
    xmlSetNs(env, xmlNewNs(env, BAD_CAST SOAP_NS, BAD_CAST "soapenv"));
    xmlNewNs(env, BAD_CAST VS_XSI, BAD_CAST "xsi");
    xmlNodePtr body = xmlNewChild(env, env->ns, BAD_CAST "Body", NULL);
    call->method = body ? xmlNewChild(body, NULL, BAD_CAST method, NULL) : NULL;
    if (!call->method) {
        vs_call_free(call);
        return -ENOMEM;
    }
    xmlSetNs(call->method, xmlNewNs(call->method, BAD_CAST VS_NS, NULL));
    if (!vs_add_ref(call->method, "_this", type, moref)) {
        vs_call_free(call);
        return -ENOMEM;
    }
    return 0;
}

void vs_call_free(struct vs_call *call)
{
    if (call->doc)
        xmlFreeDoc(call->doc);
    call->doc = NULL;
    call->method = NULL;
}

xmlNodePtr vs_add(xmlNodePtr parent, const char *name, const char *text)
{
    return parent ? xmlNewTextChild(parent, parent->ns, BAD_CAST name, BAD_CAST text) : NULL;
}

xmlNodePtr vs_add_ref(xmlNodePtr parent, const char *name, const char *type, const char *moref)
{
    xmlNodePtr n = vs_add(parent, name, moref);
    if (n && !xmlNewProp(n, BAD_CAST "type", BAD_CAST type))
        return NULL;
    return n;
}

void vs_set_type(xmlNodePtr n, const char *type)
{
    xmlNsPtr xsi = n ? xmlSearchNsByHref(n->doc, n, BAD_CAST VS_XSI) : NULL;
    if (xsi)
        xmlNewNsProp(n, xsi, BAD_CAST "type", BAD_CAST type);
}

char *vs_xsi_type(xmlNodePtr n)
{
    xmlChar *t = n ? xmlGetNsProp(n, BAD_CAST "type", BAD_CAST VS_XSI) : NULL;
    if (!t)
        return NULL;
    const char *colon = strrchr((const char *)t, ':');
    char *out = strdup(colon ? colon + 1 : (const char *)t);
    xmlFree(t);
    return out;
}

/* The fault's type: the first element of <detail> ("InvalidLoginFault"),
 * else the faultcode; and its faultstring. */
static int fault_errno(struct vs_cloud *c, xmlNodePtr fault, const char *what)
{
    xmlNodePtr detail = cfs_xml_child(fault, NULL, "detail");
    xmlNodePtr kind = detail ? cfs_xml_child(detail, NULL, NULL) : NULL;
    char *type = kind ? vs_xsi_type(kind) : NULL;
    char *msg = cfs_xml_text(cfs_xml_child(fault, NULL, "faultstring"));
    const char *k = type ? type : kind ? (const char *)kind->name : "unknown fault";
    char name[96];
    int err = -EIO;

    snprintf(name, sizeof name, "%s", k);
    if (cfs_ends_with(name, "Fault") && strlen(name) > 5)
        name[strlen(name) - 5] = '\0';
    if (!strcmp(name, "InvalidLogin") || !strcmp(name, "NoPermission") ||
        !strcmp(name, "NotSupportedHost"))
        err = -EACCES;
    else if (!strcmp(name, "NotAuthenticated"))
        err = -ENOTCONN;
    else if (!strcmp(name, "ManagedObjectNotFound") || !strcmp(name, "FileNotFound"))
        err = -ENOENT;
    else if (!strcmp(name, "InvalidArgument") || !strcmp(name, "InvalidName") ||
             !strcmp(name, "InvalidRequest") || !strcmp(name, "InvalidType"))
        err = -EINVAL;
    else if (!strcmp(name, "InvalidPowerState") || !strcmp(name, "InvalidState") ||
             !strcmp(name, "TaskInProgress"))
        err = -EBUSY;
    /* NotAuthenticated: vs_soap logs in again; InvalidLogin: the login's
     * own line names the user. */
    if (err != -ENOTCONN && strcmp(name, "InvalidLogin") != 0)
        cfs_log_error("vsphere: %s: %s: %s%s%s", c->base.name, what, name, msg ? ": " : "",
                      msg ? msg : "");
    free(type);
    free(msg);
    return err;
}

/* The session cookie among the answer's Set-Cookie lines (a load
 * balancer in front may set its own first). */
static char *cookie_of(const struct cfs_http_resp *resp)
{
    static const char key[] = "vmware_soap_session=";
    for (const char *h = resp->headers; h && *h; h += strcspn(h, "\n"), h += *h == '\n') {
        if (strncasecmp(h, "Set-Cookie:", 11) != 0)
            continue;
        const char *v = h + 11 + strspn(h + 11, " \t");
        if (strncmp(v, key, sizeof key - 1) == 0)
            return cfs_printf("Cookie: %.*s", (int)strcspn(v, ";\r\n"), v);
    }
    return NULL;
}

int vs_soap_raw(struct vs_cloud *c, struct vs_call *call, const char *what, bool retry,
                const char *cookie, char **set_cookie, xmlDocPtr *resp, xmlNodePtr *ret)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    char *url = cfs_printf("%s/sdk", c->url);
    char *action = cfs_printf("SOAPAction: \"urn:vim25/%s\"", c->version ? c->version : "6.5");
    xmlChar *body = NULL;
    int len = 0, err;
    struct cfs_http_resp r = { 0 };

    *resp = NULL;
    *ret = NULL;
    if (set_cookie)
        *set_cookie = NULL;
    xmlDocDumpMemoryEnc(call->doc, &body, &len, "UTF-8");
    if (!url || !action || !body) {
        err = -ENOMEM;
        goto out;
    }
    const char *hdrs[] = { "Content-Type: text/xml; charset=utf-8", action, cookie, NULL };
    struct cfs_http_req req = {
        .method = "POST",
        .url = url,
        .headers = hdrs,
        .body = (const char *)body,
        .body_len = (size_t)len,
        .tls = &c->tls,
        .max_body = MAX_ANSWER,
    };
    for (unsigned attempt = 0;; attempt++) {
        err = cfs_http_do(&req, &r);
        if (!(retry && cfs_http_retryable(err, err ? 0 : r.status) && r.status != 500 &&
              attempt < hs->retries))
            break;
        cfs_log_info("vsphere: %s: %s failed (%s), retry %u of %u", c->base.name, what,
                     err ? cfs_http_last_error() : "server error", attempt + 1, hs->retries);
        cfs_http_resp_free(&r);
        cfs_sleep(cfs_http_backoff(attempt + 1));
    }
    if (err) {
        cfs_log_error("vsphere: %s: %s failed: %s", c->base.name, what,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
        goto out;
    }
    cfs_log_debug("vsphere: %s: %s: HTTP %ld, %zu bytes", c->base.name, what, r.status, r.body_len);
    /* Faults come with 500; anything else not 200 is not the SDK. */
    if (r.status != 200 && r.status != 500) {
        char text[200];
        cfs_http_error_text(&r, text, sizeof text);
        cfs_log_error("vsphere: %s: %s: HTTP %ld from %s/sdk%s%s", c->base.name, what, r.status,
                      c->url, text[0] ? ": " : "", text);
        err = r.status == 401 || r.status == 403 ? -EACCES : r.status == 404 ? -ENOENT : -EIO;
        goto out;
    }
    const char *why = NULL;
    if ((err = cfs_xml_read(r.body, r.body_len, "vsphere-sdk", 0, resp, &why))) {
        cfs_log_error("vsphere: %s: %s: unusable answer (%s)", c->base.name, what,
                      why ? why : strerror(-err));
        goto out;
    }
    xmlNodePtr sbody = cfs_xml_child(xmlDocGetRootElement(*resp), SOAP_NS, "Body");
    xmlNodePtr first = sbody ? cfs_xml_child(sbody, NULL, NULL) : NULL;
    if (!first) {
        cfs_log_error("vsphere: %s: %s: the answer has no SOAP body", c->base.name, what);
        err = -EPROTO;
    } else if (!strcmp((const char *)first->name, "Fault")) {
        err = fault_errno(c, first, what);
    } else {
        *ret = cfs_xml_child(first, NULL, "returnval");
        if (set_cookie)
            *set_cookie = cookie_of(&r);
    }
    if (err) {
        xmlFreeDoc(*resp);
        *resp = NULL;
        *ret = NULL;
    }
out:
    /* The Login's body holds the password, its answer's headers the cookie. */
    if (r.headers)
        explicit_bzero(r.headers, strlen(r.headers));
    cfs_http_resp_free(&r);
    if (body)
        explicit_bzero(body, (size_t)len);
    xmlFree(body);
    free(url);
    free(action);
    return err;
}

int vs_soap(struct vs_cloud *c, struct vs_call *call, const char *what, bool retry, xmlDocPtr *resp,
            xmlNodePtr *ret)
{
    for (int relogged = 0;; relogged++) {
        char *cookie = NULL, *version = NULL;
        unsigned gen = 0;
        int err = vs_session_get(c, &cookie, &version, &gen);
        if (err)
            return err;
        free(version);
        err = vs_soap_raw(c, call, what, retry, cookie, NULL, resp, ret);
        cfs_free_secret(cookie);
        if (err != -ENOTCONN)
            return err;
        if (relogged) {
            cfs_log_error("vsphere: %s: %s: the new session was refused too", c->base.name, what);
            return -EACCES;
        }
        /* Expired (30 min idle by default) or ended: log in again once. */
        if ((err = vs_login(c, gen)))
            return err;
    }
}
