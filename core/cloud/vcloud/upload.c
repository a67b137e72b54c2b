/* Uploading a package into a catalog as a vApp template (ref/vcd-api.md
 * §4, §13; DESIGN.md §5): the catalog's upload action, the descriptor,
 * the files vCD then asks for, the import task. Any failure after the
 * template exists cancels and removes it (upload_cleanup.c). The user
 * sees one error line with the cause; info lines mark start and end. */
#define _GNU_SOURCE
#include "log.h"
#include "upload.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define POLL_FIRST_S           0.1
#define POLL_MAX_S             5.0
#define DEFAULT_TASK_TIMEOUT_S 3600

static unsigned task_timeout(const struct vcd_cloud *c)
{
    return c->task_timeout_s ? c->task_timeout_s : DEFAULT_TASK_TIMEOUT_S;
}

/* "upload of LABEL: STEP" for the log lines of vcd_api_error and co.;
 * NULL only without memory (callers then say "upload"). */
static char *what(const struct vcd_upload *u, const char *step)
{
    return cfs_printf("upload of %s: %s", u->label, step);
}

int vcd_upload_check_cancel(struct vcd_upload *u)
{
    if (!u->cancelled || !u->cancelled(u->cancel_ctx))
        return 0;
    if (!u->cancel_logged) {
        cfs_log_info("vcloud: %s: upload of %s: cancelled", u->c->base.name, u->label);
        u->cancel_logged = true;
    }
    return -ECANCELED;
}

int vcd_upload_get(struct vcd_upload *u, struct vcd_tmpl *t)
{
    xmlDocPtr doc;
    char *w = what(u, "reading the template");
    int err = vcd_get_xml(u->c, u->tmpl_href, w ? w : "upload", &doc);
    free(w);
    if (err) {
        memset(t, 0, sizeof *t);
        return err;
    }
    err = vcd_tmpl_parse(doc, t);
    xmlFreeDoc(doc);
    if (err == -EPROTO)
        cfs_log_error("vcloud: %s: upload of %s: the template %s is not a VAppTemplate vCD "
                      "would send",
                      u->c->base.name, u->label, u->tmpl_href);
    return err;
}

/* The catalog's upload action, and its name for the log. An absent link
 * means no right to add to it, or a subscribed/shared catalog (§4.1). */
static int upload_link(struct vcd_upload *u, const char *catalog_href, char **link, char **catalog)
{
    xmlDocPtr doc;
    char *w = what(u, "reading the catalog");
    int err = vcd_get_xml(u->c, catalog_href, w ? w : "upload", &doc);
    free(w);
    if (err)
        return err;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    *link = vcd_xml_link(root, "add", VCD_UPLOAD_PARAMS_TYPE);
    *catalog = cfs_xml_attr(root, "name");
    xmlFreeDoc(doc);
    if (!*link) {
        cfs_log_error("vcloud: %s: upload of %s: catalog %s takes no uploads (read-only, or "
                      "no right to add)",
                      u->c->base.name, u->label, *catalog ? *catalog : catalog_href);
        return -EROFS;
    }
    return 0;
}

/* POST the upload action: 201 and a CatalogItem whose Entity is the new
 * template. A duplicate name is DUPLICATE_NAME, or a 500 saying "already
 * exists" on some releases (vcd_errno maps both to EEXIST). */
static int create(struct vcd_upload *u, const char *link, const char *name, const char *marker)
{
    /* The marker goes in the Description: metadata can only be added once
     * the item exists, and a crash between the two would leave a template
     * no later mount recognises. */
    char *body = vcd_upload_params(name, marker ? marker : "");
    struct cfs_http_resp resp;
    xmlDocPtr doc = NULL;
    int err;

    if (!body) {
        cfs_log_error("vcloud: %s: upload of %s: the name cannot be sent to vCD", u->c->base.name,
                      u->label);
        return -EINVAL;
    }
    err = vcd_api(u->c, "POST", link, VCD_UPLOAD_PARAMS_TYPE, body, strlen(body), &resp);
    free(body);
    if (err)
        return err;
    if (resp.status < 200 || resp.status >= 300) {
        char *w = what(u, "creating the template");
        err = vcd_api_error(u->c, w ? w : "upload", &resp);
        free(w);
    } else if (vcd_xml_parse(resp.body, resp.body_len, &doc) == 0) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        u->item_href = cfs_xml_attr(root, "href");
        u->tmpl_href = cfs_xml_attr(cfs_xml_child(root, VCD_NS, "Entity"), "href");
    }
    if (!err && !u->tmpl_href) {
        cfs_log_error("vcloud: %s: upload of %s: the new catalog item names no template",
                      u->c->base.name, u->label);
        err = -EPROTO;
    }
    xmlFreeDoc(doc);
    cfs_http_resp_free(&resp);
    return err;
}

/* The fresh template (§4.2): exactly one File, the descriptor's, and the
 * upload task. */
static int fresh_template(struct vcd_upload *u, char **desc_name, char **desc_href)
{
    struct vcd_tmpl t;
    int err = vcd_upload_get(u, &t);
    if (err)
        return err;
    if (t.n_files != 1 || !t.files[0].upload || !t.task_href) {
        cfs_log_error("vcloud: %s: upload of %s: the new template has %zu files and %s task, "
                      "not one descriptor and its task",
                      u->c->base.name, u->label, t.n_files, t.task_href ? "a" : "no");
        err = -EPROTO;
    } else {
        *desc_name = strdup(t.files[0].name);
        *desc_href = strdup(t.files[0].upload);
        u->task_href = t.task_href, t.task_href = NULL;
        u->cancel_href = t.cancel_href, t.cancel_href = NULL;
        err = *desc_name && *desc_href ? 0 : -ENOMEM;
    }
    vcd_tmpl_free(&t);
    return err;
}

/* The task's Error for a failed template: embedded, or from the task. */
static char *failure_reason(struct vcd_upload *u, struct vcd_tmpl *t)
{
    if (t->task_error)
        return strdup(t->task_error);
    xmlDocPtr doc;
    char *w = what(u, "reading the task");
    int err = u->task_href ? vcd_get_xml(u->c, u->task_href, w ? w : "upload", &doc) : -ENOENT;
    free(w);
    if (!err) {
        xmlNodePtr e = cfs_xml_child(xmlDocGetRootElement(doc), VCD_NS, "Error");
        char *msg = cfs_xml_attr(e, "message");
        xmlFreeDoc(doc);
        if (msg)
            return msg;
    }
    return cfs_printf("template status %d", t->status);
}

/* Waits until vCD has read the descriptor and lists the files it wants
 * (§4.4). A refused descriptor is EINVAL: the content, not the cloud. */
static int wait_for_files(struct vcd_upload *u, struct vcd_tmpl *t)
{
    double start = cfs_now(), pause = POLL_FIRST_S;
    unsigned limit = task_timeout(u->c);

    for (;;) {
        int err = vcd_upload_get(u, t);
        if (err)
            return err;
        if (vcd_tmpl_failed(t)) {
            char *why = failure_reason(u, t);
            cfs_log_error("vcloud: %s: upload of %s: vCD refused the descriptor: %s",
                          u->c->base.name, u->label, why ? why : "(no message)");
            free(why);
            u->task_over = t->task_status && strcmp(t->task_status, "running") != 0;
            vcd_tmpl_free(t);
            return -EINVAL;
        }
        if (t->descriptor_uploaded && t->n_files > 1)
            return 0;
        vcd_tmpl_free(t);
        if ((err = vcd_upload_check_cancel(u)))
            return err;
        if (cfs_now() - start + pause > limit) {
            cfs_log_error("vcloud: %s: upload of %s: vCD did not take the descriptor in %u s",
                          u->c->base.name, u->label, limit);
            return -ETIMEDOUT;
        }
        cfs_sleep(pause);
        pause = pause * 1.5 < POLL_MAX_S ? pause * 1.5 : POLL_MAX_S;
    }
}

/* vCD lists one File per reference of the descriptor: the same names as
 * the package, or the two disagree about what is being uploaded. */
static int check_files(struct vcd_upload *u, const struct vcd_tmpl *t, const char *desc_name,
                       const struct cfs_package *pkg)
{
    for (size_t i = 0; i < t->n_files; i++) {
        const char *n = t->files[i].name;
        size_t j = 0;
        while (j < pkg->n_files && strcmp(pkg->files[j].href, n) != 0)
            j++;
        if (j == pkg->n_files && strcmp(n, desc_name) != 0) {
            cfs_log_error("vcloud: %s: upload of %s: vCD asks for %s, which is not in the package",
                          u->c->base.name, u->label, n);
            return -EIO;
        }
    }
    for (size_t j = 0; j < pkg->n_files; j++)
        if (!vcd_tmpl_file((struct vcd_tmpl *)t, pkg->files[j].href)) {
            cfs_log_error("vcloud: %s: upload of %s: vCD does not ask for %s of the package",
                          u->c->base.name, u->label, pkg->files[j].href);
            return -EIO;
        }
    return 0;
}

/* After the last byte: the import task, then status 8 (§4.6). */
static int wait_for_import(struct vcd_upload *u, const char *name)
{
    struct vcd_tmpl t;
    char *w = what(u, "import");
    int err = vcd_wait_task_cancel(u->c, u->task_href, task_timeout(u->c), w ? w : "upload",
                                   u->cancelled, u->cancel_ctx);
    free(w);
    if (err == 1)
        return vcd_upload_check_cancel(u);
    if (err == -EIO || err == -ECANCELED) {
        u->task_over = true;
        return -EIO; /* vcd_wait_task logged the task's Error */
    }
    if (err)
        return err;
    u->task_over = true;
    err = vcd_upload_get(u, &t);
    if (err)
        return err;
    if (t.status != 8) {
        cfs_log_error("vcloud: %s: upload of %s: the import ended, but template %s has status "
                      "%d, not 8",
                      u->c->base.name, u->label, name, t.status);
        err = -EIO;
    }
    vcd_tmpl_free(&t);
    return err;
}

/* Everything after the template exists; any failure is cleaned up. */
static int upload_contents(struct vcd_upload *u, const char *name, const struct cfs_package *pkg)
{
    char *desc_name = NULL, *desc_href = NULL;
    struct vcd_tmpl t = { 0 };
    int err = fresh_template(u, &desc_name, &desc_href);

    if (!err)
        err = vcd_upload_check_cancel(u);
    if (!err)
        err = vcd_upload_descriptor(u, desc_href, pkg->ovf, pkg->ovf_len);
    if (!err)
        err = wait_for_files(u, &t);
    if (!err) {
        err = check_files(u, &t, desc_name, pkg);
        vcd_tmpl_free(&t);
    }
    for (size_t i = 0; !err && i < pkg->n_files; i++)
        err = vcd_upload_file(u, pkg->files[i].href, pkg->files[i].src);
    if (!err && u->confirm)
        err = u->confirm(u->confirm_ctx);
    if (!err)
        err = wait_for_import(u, name);
    free(desc_name);
    free(desc_href);
    return err;
}

/* Metadata value of the entry that says the upload finished. */
#define COMPLETE_BODY                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                     \
    "<MetadataValue xmlns=\"" VCD_NS "\" "                                             \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"                       \
    "    <TypedValue xsi:type=\"MetadataStringValue\"><Value>1</Value></TypedValue>\n" \
    "</MetadataValue>\n"

/* After status 8 the Description still holds the marker: rewriting it
 * would be one more task on the template (a PUT of it, as mv does). The
 * sweep only looks at templates that are not resolved, so the marker is
 * already harmless; this entry tells anyone reading it that the upload
 * finished. A failure here does not fail the upload. */
static void mark_complete(struct vcd_upload *u)
{
    char *url = u->item_href ? cfs_printf("%s/metadata/cloudfs_complete", u->item_href) : NULL;
    struct cfs_http_resp resp;
    if (!url)
        return;
    int err = vcd_api(u->c, "PUT", url, "application/vnd.vmware.vcloud.metadata.value+xml",
                      COMPLETE_BODY, strlen(COMPLETE_BODY), &resp);
    free(url);
    if (err)
        return;
    if (resp.status < 200 || resp.status >= 300) {
        char *w = what(u, "metadata cloudfs_complete");
        vcd_api_error(u->c, w ? w : "upload", &resp);
        free(w);
    } else {
        /* A metadata change runs as a task: wait, so that the next change
         * (set_mtime after rsync's close) does not find the item busy. */
        char *task = vcd_task_of(&resp);
        char *w = what(u, "metadata cloudfs_complete");
        if (task)
            vcd_wait_task(u->c, task, 60, w ? w : "upload");
        free(w);
        free(task);
    }
    cfs_http_resp_free(&resp);
}

int vcd_upload(struct vcd_cloud *c, const char *catalog_href, const char *name,
               const struct cfs_package *pkg, const struct cfs_put *req)
{
    const char *label = req->label;
    struct vcd_upload u = {
        .c = c,
        .label = label,
        .cancelled = req->cancelled,
        .cancel_ctx = req->cancel_ctx,
        .confirm = req->confirm,
        .confirm_ctx = req->confirm_ctx,
    };
    char *link = NULL, *catalog = NULL;
    uint64_t bytes = pkg->ovf_len;
    double start = cfs_now();
    int err;

    for (size_t i = 0; i < pkg->n_files; i++)
        bytes += pkg->files[i].src->size;
    err = upload_link(&u, catalog_href, &link, &catalog);
    if (err)
        goto out;
    cfs_log_info("vcloud: %s: uploading %s as template \"%s\" into catalog %s (%" PRIu64 " bytes)",
                 c->base.name, label, name, catalog ? catalog : catalog_href, bytes);
    err = vcd_upload_check_cancel(&u);
    if (!err)
        err = create(&u, link, name, req->marker);
    if (err) {
        if (u.item_href)
            vcd_upload_cleanup(&u);
        goto out;
    }
    err = upload_contents(&u, name, pkg);
    if (err) {
        vcd_upload_cleanup(&u);
        goto out;
    }
    mark_complete(&u);
    double secs = cfs_now() - start;
    cfs_log_info("vcloud: %s: uploaded %s as template \"%s\": %.1f MiB in %.1f s (%.1f MiB/s)",
                 c->base.name, label, name, bytes / 1048576.0, secs,
                 secs > 0 ? bytes / 1048576.0 / secs : 0.0);
out:
    free(link);
    free(catalog);
    free(u.tmpl_href);
    free(u.item_href);
    free(u.task_href);
    free(u.cancel_href);
    return err;
}
