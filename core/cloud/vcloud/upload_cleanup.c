/* Clean-up after a failed upload (ref/vcd-api.md §4.7): a template whose
 * task did not succeed is "in an indeterminate state, and should be
 * deleted". Cancelling the upload task removes the template and its item;
 * whatever is left (a failed import, a cancel that did not take) is
 * deleted, retrying while vCD calls it busy. */
#define _GNU_SOURCE
#include "log.h"
#include "upload.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Rounds of "is it gone yet": backoff 0.25 s doubling to 4 s, ~30 s. */
#define MAX_ROUNDS 10

/* The minorErrorCode of an Error body, without logging anything. */
static bool is_busy(const struct cfs_http_resp *r)
{
    xmlDocPtr doc;
    bool busy = false;
    if (r->status != 400 || !r->body_len || vcd_xml_parse(r->body, r->body_len, &doc))
        return false;
    char *minor = cfs_xml_attr(xmlDocGetRootElement(doc), "minorErrorCode");
    busy = minor && strcmp(minor, "BUSY_ENTITY") == 0;
    free(minor);
    xmlFreeDoc(doc);
    return busy;
}

/* A failed clean-up step: one error line naming the upload. */
static void step_failed(struct vcd_upload *u, const char *step, const struct cfs_http_resp *r)
{
    char *w = cfs_printf("upload of %s: clean-up: %s", u->label, step);
    vcd_api_error(u->c, w ? w : "upload clean-up", r);
    free(w);
}

/* Info lines of the steps; debug when the caller logs its own. */
#define step_info(u, ...) cfs_log((u)->quiet ? CFS_LOG_DEBUG : CFS_LOG_INFO, __VA_ARGS__)

static bool ok(const struct cfs_http_resp *r)
{
    return r->status >= 200 && r->status < 300;
}

/* vCD answers 403 for an id that no longer exists: a cancel removed it
 * between our GET and DELETE. The next GET confirms. */
static bool gone(const struct cfs_http_resp *r)
{
    return r->status == 403 || r->status == 404;
}

static void cancel_task(struct vcd_upload *u)
{
    const char *cloud = u->c->base.name;
    struct cfs_http_resp resp;
    char *href =
        u->cancel_href ? strdup(u->cancel_href) : cfs_printf("%s/action/cancel", u->task_href);
    if (!href)
        return;
    if (vcd_api(u->c, "POST", href, NULL, NULL, 0, &resp) == 0) {
        if (ok(&resp))
            step_info(u, "vcloud: %s: upload of %s: cancelled its task", cloud, u->label);
        else
            step_failed(u, "cancelling the upload task", &resp);
    }
    cfs_http_resp_free(&resp);
    free(href);
}

/* 1 deleted, 0 busy, -1 failed (logged). */
static int delete_item(struct vcd_upload *u)
{
    struct cfs_http_resp resp;
    int done = -1;
    if (vcd_api(u->c, "DELETE", u->item_href, NULL, NULL, 0, &resp) == 0) {
        if (ok(&resp)) {
            step_info(u, "vcloud: %s: upload of %s: deleted the catalog item", u->c->base.name,
                      u->label);
            done = 1;
        } else if (is_busy(&resp)) {
            done = 0;
        } else if (gone(&resp)) {
            done = 1;
        } else {
            step_failed(u, "deleting the catalog item", &resp);
        }
    }
    cfs_http_resp_free(&resp);
    return done;
}

/* DELETE the template, or else its catalog item. 1 when a delete was
 * accepted, 0 when vCD is busy (try later), -1 when both failed. */
static int delete_template(struct vcd_upload *u)
{
    const char *cloud = u->c->base.name;
    struct cfs_http_resp resp;
    int done = -1;

    if (vcd_api(u->c, "DELETE", u->tmpl_href, NULL, NULL, 0, &resp) == 0) {
        if (ok(&resp)) {
            step_info(u, "vcloud: %s: upload of %s: deleting the template", cloud, u->label);
            done = 1;
        } else if (is_busy(&resp)) {
            done = 0;
        } else if (gone(&resp)) {
            done = 1;
        } else {
            step_failed(u, "deleting the template", &resp);
        }
    }
    cfs_http_resp_free(&resp);
    return done >= 0 || !u->item_href ? done : delete_item(u);
}

int vcd_upload_cleanup(struct vcd_upload *u)
{
    const char *cloud = u->c->base.name;
    bool deleting = false;

    if (!u->task_over && (u->cancel_href || u->task_href))
        cancel_task(u);
    if (!u->tmpl_href) {
        /* An item that names no template: remove the item. */
        return u->item_href && delete_item(u) <= 0 ? -EIO : 0;
    }
    for (unsigned round = 1; round <= MAX_ROUNDS; round++) {
        struct cfs_http_resp resp;
        int err = vcd_api(u->c, "GET", u->tmpl_href, NULL, NULL, 0, &resp);
        if (err)
            return err; /* logged; nothing more can be done now */
        bool left = !gone(&resp), there = ok(&resp);
        if (!there && left)
            step_failed(u, "checking the template", &resp);
        cfs_http_resp_free(&resp);
        if (!left) {
            step_info(u, "vcloud: %s: upload of %s: no template left", cloud, u->label);
            return 0;
        }
        if (!there)
            return -EIO;
        /* Still there: a cancel takes a moment, a delete runs as a task. */
        if (!deleting) {
            int d = delete_template(u);
            if (d < 0)
                return -EIO;
            deleting = d > 0;
        }
        cfs_sleep(cfs_http_backoff(round));
    }
    cfs_log_error("vcloud: %s: upload of %s: the template %s is still there after clean-up", cloud,
                  u->label, u->tmpl_href);
    return -EBUSY;
}
