/* The VMware Cloud Director provider: a cloud of cloudfs.yaml with type
 * "vcloud" (DESIGN.md §7), its catalogs as catalogs/<catalog>/, each
 * vApp template as files (catalog.c), read through an export
 * (download.c) and written by an upload (upload.c). */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TASK_TIMEOUT_S 3600

static const char *str(const struct cfs_cloud_config *cfg, const char *key)
{
    const char *v = cfs_cloud_str(cfg, key);
    return v && *v ? v : NULL;
}

static bool version_syntax(const char *v)
{
    size_t n = strlen(v);
    return n && n < 16 && isdigit((unsigned char)v[0]) && isdigit((unsigned char)v[n - 1]) &&
           strspn(v, "0123456789.") == n && !strstr(v, "..");
}

static void vcd_destroy(struct cfs_cloud *cloud)
{
    struct vcd_cloud *c = (struct vcd_cloud *)cloud;
    if (!c)
        return;
    vcd_downloads_free(c);
    vcd_session_clear(c);
    if (c->password)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c->base.name);
    free(c->base.scope);
    free(c->url);
    free(c->org);
    free(c->user);
    free(c->vdc);
    free(c->api_version);
    free(c->cacert);
    free(c->ro_logged);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

static int configure(struct vcd_cloud *c, const struct cfs_cloud_config *cfg)
{
    const char *org = str(cfg, "org"), *user = str(cfg, "user");
    const char *pw = str(cfg, "password"), *pw_file = str(cfg, "password_file");
    const char *ver = str(cfg, "api_version"), *v;
    struct cfs_endpoint ep;
    int err;

    if (!str(cfg, "url") || !org || !user || (!pw && !pw_file)) {
        cfs_log_error("vcloud: %s: url, org, user and password (or password_file) are needed",
                      cfg->name);
        return -EINVAL;
    }
    if ((err = cfs_cloud_endpoint(cfg, "vcloud", "/api", &ep)))
        return err;
    c->url = ep.url;
    c->cacert = ep.cacert;
    c->tls.verify = ep.verify;
    c->tls.cacert = c->cacert;
    if (ver && strcasecmp(ver, "auto") != 0) {
        if (!version_syntax(ver)) {
            cfs_log_error("vcloud: %s: api_version must be a number such as 37.2, or auto",
                          cfg->name);
            return -EINVAL;
        }
        if (!(c->api_version = strdup(ver)))
            return -ENOMEM;
    }
    c->task_timeout_s = DEFAULT_TASK_TIMEOUT_S;
    if ((v = str(cfg, "task_timeout"))) {
        char *end;
        unsigned long t = strtoul(v, &end, 10);
        if (!isdigit((unsigned char)*v) || *end || t == 0 || t > 7 * 24 * 3600) {
            cfs_log_error("vcloud: %s: task_timeout must be a number of seconds", cfg->name);
            return -EINVAL;
        }
        c->task_timeout_s = (unsigned)t;
    }
    if ((v = str(cfg, "vdc")) && !(c->vdc = strdup(v)))
        return -ENOMEM;
    if (!(c->org = strdup(org)) || !(c->user = strdup(user)))
        return -ENOMEM;
    /* vCD takes org names in any case. */
    if (!(c->base.scope = cfs_printf("vcloud\x1f%s\x1f%s", c->url, org)))
        return -ENOMEM;
    for (char *p = strrchr(c->base.scope, '\x1f') + 1; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (pw_file && !pw)
        return cfs_cloud_password_file(cfg, "vcloud", pw_file, &c->password);
    return (c->password = strdup(pw)) ? 0 : -ENOMEM;
}

static int vcd_create(const struct cfs_cloud_config *cfg, struct cfs_cloud **out)
{
    struct vcd_cloud *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->base.name = strdup(cfg->name);
    int err = c->base.name ? configure(c, cfg) : -ENOMEM;
    if (err) {
        vcd_destroy(&c->base);
        return err;
    }
    *out = &c->base;
    return 0;
}

/* "catalogs/<catalog>" -> "<catalog>", or NULL for any other path. */
/* "catalogs/<name>": the catalog's name as vCD spells it, everything after
 * the first '/' (a catalog's name may hold '/' itself: fs/ passes it raw). */
static const char *catalog_of(const char *dir)
{
    if (strncmp(dir, "catalogs/", 9) != 0 || !dir[9])
        return NULL;
    return dir + 9;
}

static int vcd_list(struct cfs_cloud *cloud, const char *dir, struct cfs_object_list *out)
{
    struct vcd_cloud *c = (struct vcd_cloud *)cloud;
    const char *cat = catalog_of(dir);
    if (strcmp(dir, "catalogs") == 0)
        return vcd_list_catalogs(c, out);
    if (!cat)
        return -ENOENT;
    return vcd_list_templates(c, cat, out);
}

static int vcd_open(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                    unsigned flags, struct cfs_source **out)
{
    (void)flags; /* the export is local: decoders read it at no cost */
    if (!catalog_of(dir) || obj->is_dir)
        return -ENOENT;
    return vcd_download_open((struct vcd_cloud *)cloud, obj, out);
}

/* A reason is logged once per catalog, not at every file created. */
static void log_once(struct vcd_cloud *c, const char *cat, const char *why)
{
    bool seen = false;
    pthread_mutex_lock(&c->lock);
    for (const char *p = c->ro_logged; p && p < c->ro_logged + c->ro_logged_len; p += strlen(p) + 1)
        seen |= strcmp(p, cat) == 0;
    if (!seen) {
        size_t n = strlen(cat) + 1;
        char *r = realloc(c->ro_logged, c->ro_logged_len + n);
        if (r) {
            memcpy(r + c->ro_logged_len, cat, n);
            c->ro_logged = r;
            c->ro_logged_len += n;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (!seen)
        cfs_log_warn("vcloud: %s: catalog %s is read-only: %s", c->base.name, cat, why);
}

static int vcd_can_put(struct cfs_cloud *cloud, const char *dir)
{
    struct vcd_cloud *c = (struct vcd_cloud *)cloud;
    const char *cat = catalog_of(dir);
    char *href = NULL, what[300];
    xmlDocPtr doc = NULL;

    if (strcmp(dir, "catalogs") == 0)
        return -EPERM; /* catalogs are made by administrators, not by mkdir */
    if (!cat)
        return -ENOENT;
    int err = vcd_catalog_find(c, cat, &href);
    if (err)
        return err;
    snprintf(what, sizeof what, "catalog %s", cat);
    err = vcd_get_xml(c, href, what, &doc);
    free(href);
    if (err)
        return err;
    /* The server leaves out links the user has no right to use. */
    char *up = vcd_xml_link(xmlDocGetRootElement(doc), "add",
                            "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml");
    xmlFreeDoc(doc);
    if (!up) {
        log_once(c, cat, "it offers this user no upload (a shared or subscribed catalog)");
        return -EROFS;
    }
    free(up);
    return 0;
}

static int count_record(void *ctx, xmlNodePtr rec)
{
    (void)rec;
    ++*(unsigned *)ctx;
    return 0;
}

/* Is name taken in the catalog (template or media)? Asked before any
 * byte is sent, so that a duplicate fails at once, not after the upload. */
static int name_taken(struct vcd_cloud *c, const char *catalog_href, const char *name)
{
    char *h = vcd_query_value(catalog_href), *n = vcd_query_value(name);
    char *filter = h && n ? cfs_printf("catalog==%s;name==%s", h, n) : NULL;
    unsigned hits = 0;
    int err = filter ? vcd_query(c, "catalogItem", filter, count_record, &hits) : -ENOMEM;
    free(h);
    free(n);
    free(filter);
    return err ? err : hits > 0;
}

static int vcd_put(struct cfs_cloud *cloud, const struct cfs_put *req)
{
    struct vcd_cloud *c = (struct vcd_cloud *)cloud;
    const char *cat = catalog_of(req->dir);
    char *href = NULL, *name = NULL;
    struct cfs_package pkg;
    int err;

    if (!cat)
        return -EPERM;
    err = vcd_catalog_find(c, cat, &href);
    if (!err && !(name = cfs_fmt_base_name(req->fname)))
        err = -ENOMEM;
    if (!err && !*name) {
        cfs_log_error("vcloud: %s: %s: no template name in the file name", c->base.name,
                      req->label);
        err = -EINVAL;
    }
    if (!err) {
        int taken = name_taken(c, href, name);
        if (taken > 0) {
            cfs_log_error("vcloud: %s: %s: catalog %s already has an item named %s", c->base.name,
                          req->label, cat, name);
            err = -EEXIST;
        } else {
            err = taken;
        }
    }
    if (!err) {
        err = cfs_package_make(req->content, req->fname, name, req->ovf, req->src_props,
                               req->src_props_len, req->vmdk_zip, req->label, &pkg);
        if (!err) {
            err = vcd_upload(c, href, name, &pkg, req);
            cfs_package_free(&pkg);
        }
    }
    free(href);
    free(name);
    return err;
}

static int vcd_remove_object(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj)
{
    if (!catalog_of(dir))
        return -EPERM;
    return vcd_remove((struct vcd_cloud *)cloud, obj);
}

static int vcd_mtime(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                     const struct timespec *mtime)
{
    if (!catalog_of(dir))
        return -EPERM;
    return vcd_set_mtime((struct vcd_cloud *)cloud, obj, mtime);
}

static int vcd_rename_object(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                             const char *new_name)
{
    if (!catalog_of(dir))
        return -EPERM;
    return vcd_rename((struct vcd_cloud *)cloud, obj, new_name);
}

static const char *const vcd_dirs[] = { "catalogs", NULL };

const struct cfs_provider vcloud_provider = {
    .type = "vcloud",
    .dirs = vcd_dirs,
    .create = vcd_create,
    .destroy = vcd_destroy,
    .list = vcd_list,
    .open = vcd_open,
    .can_put = vcd_can_put,
    .put = vcd_put,
    .remove = vcd_remove_object,
    .rename = vcd_rename_object,
    .set_mtime = vcd_mtime,
    .sweep = vcd_sweep,
};
