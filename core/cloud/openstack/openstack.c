/* The OpenStack provider: a cloud of clouds.yaml, its Glance images as
 * the directory images/ (read, written, deleted), its Nova servers as
 * servers/ (read through snapshots: nova.c). Requests go through openstack_request, which
 * owns authentication, retries and the errno mapping of DESIGN.md §6. */
#define _GNU_SOURCE
#include "openstack.h"
#include "log.h"
#include "nova.h"
#include "views.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_HEADER_MAX 8192

static int os_auth_header(struct cfs_http_auth *a, const char *stale, char *out, size_t n)
{
    struct openstack *os = (struct openstack *)((char *)a - offsetof(struct openstack, auth));
    return keystone_auth_header(os->ks, stale, out, n);
}

int openstack_errno(long status, const char *message)
{
    switch (status) {
    case 400:
    case 415:
        return -EINVAL;
    case 401:
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 409:
        return -EEXIST;
    case 413:
        /* Glance uses 413 for its size cap and for the storage quota. */
        return message && strcasestr(message, "quota") ? -EDQUOT : -EFBIG;
    default:
        return -EIO;
    }
}

int openstack_request(struct openstack *os, const char *what, struct cfs_http_req *req,
                      struct cfs_http_resp *resp)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    char *auth = malloc(AUTH_HEADER_MAX);
    const char *hdrs[16];
    const char *stale = NULL;
    unsigned attempt = 0;
    bool renewed = false;
    size_t n = 1;
    int err;

    if (!auth)
        return -ENOMEM;
    for (const char *const *h = req->headers; h && *h && n < CFS_ARRAY_SIZE(hdrs) - 1; h++)
        hdrs[n++] = *h;
    hdrs[n] = NULL;
    hdrs[0] = auth;
    /* A copy: the caller's request never points at our stack. */
    struct cfs_http_req r = *req;
    r.headers = hdrs;
    r.tls = &os->tls;

    for (;;) {
        err = keystone_auth_header(os->ks, stale, auth, AUTH_HEADER_MAX);
        if (err) {
            explicit_bzero(auth, AUTH_HEADER_MAX);
            free(auth);
            return err; /* keystone logged why */
        }
        stale = NULL;
        err = cfs_http_do(&r, resp);
        if (!err && resp->status == 401 && !renewed) {
            renewed = true;
            stale = auth;
            cfs_http_resp_free(resp);
            continue;
        }
        /* A request with a deadline is not retried past it. */
        if (cfs_http_retryable(err, err ? 0 : resp->status) && attempt < hs->retries &&
            (!r.deadline || cfs_now() + cfs_http_backoff(attempt + 1) < r.deadline)) {
            attempt++;
            cfs_log_info("openstack: cloud %s: %s failed (%s), retry %u of %u", os->base.name, what,
                         err ? cfs_http_last_error() : "server error", attempt, hs->retries);
            cfs_http_resp_free(resp);
            cfs_sleep(cfs_http_backoff(attempt));
            continue;
        }
        break;
    }
    if (err) {
        cfs_log_error("openstack: cloud %s: %s failed: %s", os->base.name, what,
                      cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
    } else if (!err && (resp->status < 200 || resp->status >= 300)) {
        char msg[256];
        cfs_http_error_text(resp, msg, sizeof msg);
        cfs_log_error("openstack: cloud %s: %s: HTTP %ld: %s", os->base.name, what, resp->status,
                      msg);
        err = openstack_errno(resp->status, msg);
    }
    explicit_bzero(auth, AUTH_HEADER_MAX); /* a token */
    free(auth);
    return err;
}

static char *strip_version(const char *url)
{
    char *s = cfs_url_trim(url);
    if (!s)
        return NULL;
    /* ".../v2" or ".../v2.1": requests add the version themselves. */
    char *slash = strrchr(s, '/');
    if (slash && slash[1] == 'v' && slash[2] >= '0' && slash[2] <= '9' &&
        strspn(slash + 2, "0123456789.") == strlen(slash + 2))
        *slash = '\0';
    return s;
}

int openstack_image_url(struct openstack *os, char **url)
{
    char *found = NULL;
    int err = 0;

    pthread_mutex_lock(&os->lock);
    if (os->image_url)
        found = strdup(os->image_url);
    pthread_mutex_unlock(&os->lock);
    if (found) {
        *url = found;
        return 0;
    }
    if (os->image_override) {
        found = strdup(os->image_override);
    } else {
        err = keystone_endpoint(os->ks, "image", &found);
        if (err)
            return err;
    }
    char *base = found ? strip_version(found) : NULL;
    free(found);
    if (!base)
        return -ENOMEM;
    pthread_mutex_lock(&os->lock);
    if (!os->image_url)
        os->image_url = strdup(base);
    pthread_mutex_unlock(&os->lock);
    *url = base;
    return 0;
}

static void os_destroy(struct cfs_cloud *cloud)
{
    struct openstack *os = (struct openstack *)cloud;
    if (!os)
        return;
    keystone_destroy(os->ks);
    nova_destroy(os->nova);
    free(os->base.name);
    free(os->cacert);
    free(os->image_override);
    free(os->image_url);
    free(os->base.scope);
    pthread_mutex_destroy(&os->lock);
    free(os);
}

static int os_create(const struct cfs_cloud_config *cfg, struct cfs_cloud **out)
{
    struct openstack *os = calloc(1, sizeof *os);
    const char *v;
    int err;

    if (!os)
        return -ENOMEM;
    pthread_mutex_init(&os->lock, NULL);
    os->base.name = strdup(cfg->name);
    os->base.scope = openstack_scope(cfg);
    os->tls.verify = cfs_cloud_bool(cfg, "verify", true);
    if ((v = cfs_cloud_str(cfg, "cacert")) && *v) {
        os->cacert = strdup(v);
        os->tls.cacert = os->cacert;
    }
    if (!os->tls.verify)
        cfs_log_warn("openstack: cloud %s: TLS certificate verification is off (verify: false)",
                     cfg->name);
    if ((v = cfs_cloud_str(cfg, "image_endpoint_override")) && *v)
        os->image_override = strdup(v);
    /* What an OVA into images/ becomes (cloudfs(1), upload_format, ova). */
    v = cfs_cloud_str(cfg, "upload_format");
    os->upload_format = !v || strcmp(v, "qcow2") == 0 ? CFS_VIEW_QCOW2
                        : strcmp(v, "raw") == 0       ? CFS_VIEW_RAW
                        : strcmp(v, "keep") == 0      ? -1
                                                      : -2;
    const char *ova = cfs_cloud_str(cfg, "ova");
    os->ova_keep = ova && strcmp(ova, "keep") == 0;
    if (os->upload_format == -2 || (ova && !os->ova_keep && strcmp(ova, "unpack") != 0)) {
        cfs_log_error("openstack: cloud %s: %s takes %s, not \"%s\"", cfg->name,
                      os->upload_format == -2 ? "upload_format" : "ova",
                      os->upload_format == -2 ? "qcow2, raw or keep" : "unpack or keep",
                      os->upload_format == -2 ? v : ova);
        os_destroy(&os->base);
        return -EINVAL;
    }
    os->auth.header = os_auth_header;
    os->nova = nova_create(cfg);
    if (!os->nova || !os->base.name) {
        os_destroy(&os->base);
        return -ENOMEM;
    }
    err = keystone_create(cfg, &os->tls, &os->ks);
    if (err) {
        os_destroy(&os->base);
        return err;
    }
    *out = &os->base;
    return 0;
}

static int os_list(struct cfs_cloud *cloud, const char *dir, struct cfs_object_list *out)
{
    if (strcmp(dir, "servers") == 0)
        return nova_list_servers((struct openstack *)cloud, out);
    if (strcmp(dir, "images") != 0)
        return -ENOENT;
    return glance_list_images((struct openstack *)cloud, out);
}

static int os_open(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                   unsigned flags, struct cfs_source **out)
{
    if (strcmp(dir, "servers") == 0)
        return nova_open_server((struct openstack *)cloud, obj, flags, out);
    if (strcmp(dir, "images") != 0)
        return -ENOENT;
    return glance_open_image((struct openstack *)cloud, obj, flags, out);
}

/* servers/ is read-only: a server is not made from a file. */
static int os_can_put(struct cfs_cloud *cloud, const char *dir)
{
    (void)cloud;
    if (strcmp(dir, "servers") == 0)
        return -EROFS;
    return strcmp(dir, "images") == 0 ? 0 : -EACCES;
}

static int os_put(struct cfs_cloud *cloud, const struct cfs_put *req)
{
    if (strcmp(req->dir, "images") != 0)
        return -EACCES;
    return glance_put((struct openstack *)cloud, req);
}

static int os_remove(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj)
{
    if (strcmp(dir, "servers") == 0) {
        cfs_log_info("glance: cloud %s: %s: rm never deletes a server", cloud->name, obj->name);
        return -EROFS;
    }
    if (strcmp(dir, "images") != 0)
        return -ENOENT;
    return glance_remove((struct openstack *)cloud, obj);
}

static int os_set_mtime(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                        const struct timespec *mtime)
{
    if (strcmp(dir, "servers") == 0)
        return -EROFS;
    if (strcmp(dir, "images") != 0)
        return -ENOENT;
    return glance_set_mtime((struct openstack *)cloud, obj, mtime);
}

static int os_rename(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                     const char *new_name)
{
    if (strcmp(dir, "servers") == 0) {
        cfs_log_info("glance: cloud %s: %s: servers keep their names", cloud->name, obj->name);
        return -EROFS;
    }
    if (strcmp(dir, "images") != 0)
        return -ENOENT;
    return glance_rename((struct openstack *)cloud, obj, new_name);
}

static const char *const os_dirs[] = { "images", "servers", NULL };

const struct cfs_provider openstack_provider = {
    .type = "openstack",
    .dirs = os_dirs,
    .create = os_create,
    .destroy = os_destroy,
    .list = os_list,
    .open = os_open,
    .can_put = os_can_put,
    .put = os_put,
    .remove = os_remove,
    .rename = os_rename,
    .set_mtime = os_set_mtime,
    .sweep = glance_sweep,
};
