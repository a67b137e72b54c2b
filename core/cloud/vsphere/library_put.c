/* Writing into libraries/<lib>: a file copied in becomes an OVF item of
 * the content library, as a vSphere client imports one. The package (an
 * OVF descriptor and streamOptimized disks, include/package.h) is made
 * from whatever was written; then the item is created, an update session
 * opened, each file added (source_type PUSH, with its size) and PUT to
 * its upload endpoint straight from its source, the session completed and
 * waited for (DONE), and the item's file list checked against what was
 * sent. Whatever fails after the item exists fails the session and
 * deletes the item: nothing half-made stays in the library. */
#define _GNU_SOURCE
#include "log.h"
#include "package.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMPLETE_S 1800 /* the server imports what it got within this */

struct put {
    struct vs_cloud *c;
    const struct cfs_put *req;
    char *item;    /* the new item's id */
    char *session; /* its update session's id */
    char why[400]; /* the cause of a failure, for the one log line */
};

static bool cancelled(const struct put *p)
{
    return p->req->cancelled && p->req->cancelled(p->req->cancel_ctx);
}

/* The descriptor's file name in the item: the package's disks are named
 * for the item already ([A-Za-z0-9._-]); the descriptor goes beside them. */
static char *ovf_file_name(const struct cfs_package *pkg, const char *name)
{
    char *f = NULL;
    if (pkg->n_files) {
        const char *h = pkg->files[0].href, *dot = strrchr(h, '.');
        f = cfs_printf("%.*s.ovf", (int)(dot && dot != h ? dot - h : (ptrdiff_t)strlen(h)), h);
    } else {
        f = cfs_printf("%s.ovf", name);
        for (char *p = f; p && *p; p++)
            if (!strchr("-._", *p) && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
                !(*p >= '0' && *p <= '9'))
                *p = '_';
    }
    return f;
}

/* > 0 when the library has an item named name. */
static int name_taken(struct vs_cloud *c, const char *lid, const char *name, const char *label)
{
    char what[600];
    json_t *ids = NULL;
    snprintf(what, sizeof what, "upload of %s: looking for an item named %s", label, name);
    int err = vs_rest(c, "POST", "/com/vmware/content/library/item?~action=find",
                      "/content/library/item?action=find",
                      json_pack("{ssss}", "library_id", lid, "name", name), "spec", what, &ids);
    int n = err ? err : (int)json_array_size(ids);
    json_decref(ids);
    return n;
}

static int create_item(struct put *p, const char *lid, const char *name)
{
    char what[600];
    json_t *ans = NULL;
    json_t *spec = json_pack("{ssssssss?}", "library_id", lid, "name", name, "type", "ovf",
                             "description", p->req->marker);
    snprintf(what, sizeof what, "upload of %s: creating the library item", p->req->label);
    int err = vs_rest(p->c, "POST", "/com/vmware/content/library/item", "/content/library/item",
                      spec, "create_spec", what, &ans);
    /* The id goes into the paths of later calls (the DELETE of undo too). */
    if (!err &&
        (!vs_id_ok(json_string_value(ans)) || !(p->item = strdup(json_string_value(ans))))) {
        cfs_log_error("vsphere: %s: %s: the answer holds no usable item id", p->c->base.name, what);
        err = -EPROTO;
    }
    json_decref(ans);
    return err;
}

static int open_session(struct put *p)
{
    char what[600];
    json_t *ans = NULL;
    snprintf(what, sizeof what, "upload of %s: opening an update session", p->req->label);
    int err = vs_rest(p->c, "POST", "/com/vmware/content/library/item/update-session",
                      "/content/library/item/update-session",
                      json_pack("{ss}", "library_item_id", p->item), "create_spec", what, &ans);
    if (!err &&
        (!vs_id_ok(json_string_value(ans)) || !(p->session = strdup(json_string_value(ans))))) {
        cfs_log_error("vsphere: %s: %s: the answer holds no usable session id", p->c->base.name,
                      what);
        err = -EPROTO;
    }
    json_decref(ans);
    return err;
}

/* Adds file fname (size bytes) to the session and PUTs its bytes: from
 * mem, or streamed from src. */
static int send_file(struct put *p, const char *fname, const char *mem, struct cfs_source *src,
                     uint64_t size)
{
    struct vs_cloud *c = p->c;
    char what[600], *rp, *ap, *h = NULL;
    json_t *info = NULL;
    int spelling, err;
    unsigned gen;

    snprintf(what, sizeof what, "upload of %s: adding %s to the update session", p->req->label,
             fname);
    rp = cfs_printf("/com/vmware/content/library/item/updatesession/file/id:%s?~action=add",
                    p->session);
    ap = cfs_printf("/content/library/item/update-session/%s/file", p->session);
    err = rp && ap ? vs_rest(c, "POST", rp, ap,
                             json_pack("{sssssI}", "name", fname, "source_type", "PUSH", "size",
                                       (json_int_t)size),
                             "file_spec", what, &info)
                   : -ENOMEM;
    free(rp);
    free(ap);
    char *uri = err ? NULL
                    : vs_endpoint_url(c, json_string_value(json_object_get(
                                             json_object_get(info, "upload_endpoint"), "uri")));
    if (!err && !uri) {
        cfs_log_error("vsphere: %s: %s: the answer holds no usable upload endpoint", c->base.name,
                      what);
        err = -EPROTO;
    }
    if (!err)
        err = vs_rest_session(c, &h, &spelling, &gen);
    if (!err) {
        const char *hdrs[] = { h, "Content-Type: application/octet-stream", NULL };
        struct cfs_http_req req = { .method = "PUT",
                                    .url = uri,
                                    .headers = hdrs,
                                    .tls = &c->tls,
                                    .body = mem,
                                    .body_len = mem ? (size_t)size : 0,
                                    .body_src = mem ? NULL : src,
                                    .body_src_len = mem ? 0 : size,
                                    .cancelled = p->req->cancelled,
                                    .cancel_ctx = p->req->cancel_ctx };
        struct cfs_http_resp resp = { 0 };
        double t0 = cfs_now();
        err = cfs_http_do(&req, &resp);
        if (err == -ECANCELED) {
            snprintf(p->why, sizeof p->why, "cancelled");
        } else if (err) {
            snprintf(p->why, sizeof p->why,
                     "PUT of %s failed after %" PRIu64 " of %" PRIu64 " bytes: %s", fname,
                     resp.sent, size,
                     cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
            if (err != -ENOMEM && err != -ETIMEDOUT && err != -ENOSPC)
                err = -EIO;
        } else if (resp.status < 200 || resp.status >= 300) {
            char text[300];
            cfs_http_error_text(&resp, text, sizeof text);
            snprintf(p->why, sizeof p->why, "PUT of %s: HTTP %ld%s%s", fname, resp.status,
                     *text ? ": " : "", text);
            err = resp.status == 507                         ? -ENOSPC
                  : resp.status == 401 || resp.status == 403 ? -EACCES
                                                             : -EIO;
        } else {
            cfs_log_debug("vsphere: %s: upload of %s: %s, %" PRIu64 " bytes in %.1f s",
                          c->base.name, p->req->label, fname, size, cfs_now() - t0);
        }
        cfs_http_resp_free(&resp);
    }
    cfs_free_secret(h);
    free(uri);
    json_decref(info);
    return err;
}

/* Completes the session and waits until the server says DONE. */
static int complete(struct put *p)
{
    struct vs_cloud *c = p->c;
    char what[600];
    char *rp = cfs_printf("/com/vmware/content/library/item/update-session/id:%s?~action=complete",
                          p->session);
    char *ap = cfs_printf("/content/library/item/update-session/%s?action=complete", p->session);
    char *gr = cfs_printf("/com/vmware/content/library/item/update-session/id:%s", p->session);
    char *ga = cfs_printf("/content/library/item/update-session/%s", p->session);
    double deadline = cfs_now() + COMPLETE_S;
    int err = rp && ap && gr && ga ? 0 : -ENOMEM;

    snprintf(what, sizeof what, "upload of %s: completing the update session", p->req->label);
    if (!err)
        err = vs_rest(c, "POST", rp, ap, NULL, NULL, what, NULL);
    for (unsigned polls = 0; !err; polls++) {
        json_t *s = NULL;
        if ((err = vs_rest(c, "GET", gr, ga, NULL, NULL, what, &s)))
            break;
        const char *state = json_string_value(json_object_get(s, "state"));
        if (state && !strcmp(state, "DONE")) {
            json_decref(s);
            break;
        }
        if (!state || strcmp(state, "ACTIVE") != 0) {
            const char *m = json_string_value(
                json_object_get(json_object_get(s, "error_message"), "default_message"));
            snprintf(p->why, sizeof p->why, "the update session ended %s%s%s",
                     state ? state : "(no state)", m ? ": " : "", m ? m : "");
            err = -EIO;
        } else if (cfs_now() > deadline) {
            snprintf(p->why, sizeof p->why, "the update session is not DONE after %d s",
                     COMPLETE_S);
            err = -ETIMEDOUT;
        } else if (cancelled(p)) {
            snprintf(p->why, sizeof p->why, "cancelled");
            err = -ECANCELED;
        }
        json_decref(s);
        if (!err)
            cfs_sleep(polls < 10 ? 0.2 : 1.0);
    }
    free(rp);
    free(ap);
    free(gr);
    free(ga);
    return err;
}

/* The item has every file sent, each of the size sent. */
static int check_files(struct put *p, const char *const names[], const uint64_t sizes[], size_t n)
{
    char what[600];
    char *rp = cfs_printf("/com/vmware/content/library/item/file?library_item_id=%s", p->item);
    char *ap = cfs_printf("/content/library/item/%s/file", p->item);
    json_t *files = NULL;
    snprintf(what, sizeof what, "upload of %s: the new item's files", p->req->label);
    int err = rp && ap ? vs_rest(p->c, "GET", rp, ap, NULL, NULL, what, &files) : -ENOMEM;
    free(rp);
    free(ap);
    for (size_t i = 0; i < n && !err; i++) {
        size_t k;
        json_t *f;
        bool found = false;
        json_array_foreach (files, k, f) {
            const char *name = json_string_value(json_object_get(f, "name"));
            json_t *sz = json_object_get(f, "size");
            if (!name || strcmp(name, names[i]) != 0)
                continue;
            found = true;
            if (!json_is_integer(sz) || (uint64_t)json_integer_value(sz) != sizes[i]) {
                snprintf(p->why, sizeof p->why,
                         "the item's file %s has %" JSON_INTEGER_FORMAT " bytes, not %" PRIu64,
                         names[i], json_is_integer(sz) ? json_integer_value(sz) : -1, sizes[i]);
                err = -EIO;
            }
        }
        if (!found && !err) {
            snprintf(p->why, sizeof p->why, "the completed item lacks the file %s", names[i]);
            err = -EIO;
        }
    }
    json_decref(files);
    return err;
}

/* After a failure: the session failed (the server drops what it got) and
 * the item deleted. */
static void undo(struct put *p)
{
    struct vs_cloud *c = p->c;
    char what[600];
    if (p->session) {
        char *rp = cfs_printf("/com/vmware/content/library/item/update-session/id:%s?~action=fail",
                              p->session);
        char *ap = cfs_printf("/content/library/item/update-session/%s?action=fail", p->session);
        snprintf(what, sizeof what, "upload of %s: failing the update session", p->req->label);
        if (rp && ap)
            vs_rest(c, "POST", rp, ap,
                    json_pack("{ss}", "client_error_message", p->why[0] ? p->why : "failed"), NULL,
                    what, NULL);
        free(rp);
        free(ap);
    }
    if (p->item) {
        char *rp = cfs_printf("/com/vmware/content/library/item/id:%s", p->item);
        char *ap = cfs_printf("/content/library/item/%s", p->item);
        snprintf(what, sizeof what,
                 "upload of %s: deleting the half-made item %s (delete it by hand)", p->req->label,
                 p->item);
        if (rp && ap)
            vs_rest(c, "DELETE", rp, ap, NULL, NULL, what, NULL);
        free(rp);
        free(ap);
    }
}

/* The item is complete: its description no longer says an upload is
 * making it, so no later mount's sweep (sweep.c) takes it for a leftover.
 * (Not an empty one: vCenter's update ignores empty fields.) */
static int clear_marker(struct put *p)
{
    char *rp = cfs_printf("/com/vmware/content/library/item/id:%s", p->item);
    char *ap = cfs_printf("/content/library/item/%s", p->item), what[600], desc[600];
    snprintf(desc, sizeof desc, "copied by cloudfs from %s", p->req->label);
    json_t *spec = json_pack("{ss}", "description", desc);
    snprintf(what, sizeof what, "upload of %s: clearing the item's upload marker", p->req->label);
    int err = -ENOMEM;
    if (rp && ap && spec)
        err = vs_rest(p->c, "PATCH", rp, ap, spec, "update_spec", what, NULL);
    else
        json_decref(spec);
    if (err)
        snprintf(p->why, sizeof p->why, "its upload marker could not be cleared");
    free(rp);
    free(ap);
    return err;
}

static int upload(struct put *p, const char *lid, const char *name, const struct cfs_package *pkg)
{
    const char *names[OVF_MAX_ITEMS + 1];
    uint64_t sizes[OVF_MAX_ITEMS + 1];
    char *ovf_name = ovf_file_name(pkg, name);
    int err = ovf_name ? create_item(p, lid, name) : -ENOMEM;

    if (!err)
        err = open_session(p);
    names[0] = ovf_name;
    sizes[0] = pkg->ovf_len;
    if (!err)
        err = send_file(p, ovf_name, pkg->ovf, NULL, pkg->ovf_len);
    for (size_t i = 0; i < pkg->n_files && !err; i++) {
        names[i + 1] = pkg->files[i].href;
        sizes[i + 1] = pkg->files[i].src->size;
        if (cancelled(p)) {
            snprintf(p->why, sizeof p->why, "cancelled");
            err = -ECANCELED;
        } else {
            err = send_file(p, pkg->files[i].href, NULL, pkg->files[i].src, sizes[i + 1]);
        }
    }
    if (!err && p->req->confirm && (err = p->req->confirm(p->req->confirm_ctx)))
        snprintf(p->why, sizeof p->why, "the source could not prove what it read");
    if (!err)
        err = complete(p);
    if (!err)
        err = check_files(p, names, sizes, pkg->n_files + 1);
    if (!err && p->req->marker)
        err = clear_marker(p);
    if (err) {
        undo(p);
    } else {
        /* A DONE session is kept by the server until it expires: not needed. */
        char *rp = cfs_printf("/com/vmware/content/library/item/update-session/id:%s", p->session);
        char *ap = cfs_printf("/content/library/item/update-session/%s", p->session);
        char what[600];
        snprintf(what, sizeof what, "upload of %s: deleting the update session", p->req->label);
        if (rp && ap)
            vs_rest(p->c, "DELETE", rp, ap, NULL, NULL, what, NULL);
        free(rp);
        free(ap);
    }
    free(ovf_name);
    return err;
}

int vs_library_put(struct vs_cloud *c, const char *lib, const struct cfs_put *req)
{
    struct put p = { .c = c, .req = req };
    struct cfs_package pkg;
    char *lid = NULL, *name = NULL;
    double t0 = cfs_now();
    int err = vs_library_find(c, lib, &lid, NULL);

    if (err == -ENOENT)
        cfs_log_error("vsphere: %s: %s: there is no content library %s", c->base.name, req->label,
                      lib);
    if (!err && !(name = cfs_fmt_base_name(req->fname)))
        err = -ENOMEM;
    if (!err && !*name) {
        cfs_log_error("vsphere: %s: %s: no item name in the file name", c->base.name, req->label);
        err = -EINVAL;
    }
    if (!err) {
        int taken = name_taken(c, lid, name, req->label);
        if (taken > 0) {
            cfs_log_error("vsphere: %s: %s: library %s already has an item named %s", c->base.name,
                          req->label, lib, name);
            err = -EEXIST;
        } else {
            err = taken;
        }
    }
    if (!err) {
        err = cfs_package_make(req->content, req->fname, name, req->ovf, req->src_props,
                               req->src_props_len, req->vmdk_zip, req->label, &pkg);
        if (!err) {
            err = upload(&p, lid, name, &pkg);
            if (!err) {
                uint64_t total = pkg.ovf_len;
                for (size_t i = 0; i < pkg.n_files; i++)
                    total += pkg.files[i].src->size;
                cfs_log_info("vsphere: %s: upload of %s: done: item %s of library %s, %zu "
                             "file(s), %.1f MiB in %.1f s",
                             c->base.name, req->label, name, lib, pkg.n_files + 1,
                             total / 1048576.0, cfs_now() - t0);
            } else if (p.why[0]) {
                cfs_log_error("vsphere: %s: upload of %s failed: %s; the item is removed",
                              c->base.name, req->label, p.why);
            }
            cfs_package_free(&pkg);
        }
    }
    free(p.item);
    free(p.session);
    free(lid);
    free(name);
    return err;
}
