/* mv of a template's file within its catalog: PUT of the vApp template
 * with the new name (ref/vcd-api.md; vCD's PUT-VAppTemplate updates name
 * and description), answered 202 and a task, which is awaited; the
 * catalog item shows the template's name. The Description is sent as the
 * template has it, so that a rename changes nothing else. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_TYPE "application/vnd.vmware.vcloud.vAppTemplate+xml"

/* The template's Description now ("" when it has none), or NULL. */
static char *description_of(struct vcd_cloud *c, const char *href, const char *what)
{
    xmlDocPtr doc;
    if (vcd_get_xml(c, href, what, &doc) != 0)
        return NULL;
    char *d = cfs_xml_text(cfs_xml_child(xmlDocGetRootElement(doc), VCD_NS, "Description"));
    xmlFreeDoc(doc);
    return d ? d : strdup("");
}

int vcd_rename(struct vcd_cloud *c, const struct cfs_object *obj, const char *new_name)
{
    const char *href = cfs_object_xattr(obj, "user.vcloud.href");
    struct cfs_http_resp resp = { 0 };
    char what[600], *desc = NULL, *body = NULL, *task = NULL;
    int err = 0;

    if (!href || obj->is_dir)
        return -EPERM; /* catalogs keep their names */
    snprintf(what, sizeof what, "renaming template %s to %s", obj->name, new_name);
    if (!(desc = description_of(c, href, what)))
        err = -EIO;
    if (!err && !(body = vcd_xml_named("VAppTemplate", "", new_name, desc)))
        err = -EINVAL;
    if (!err)
        err = vcd_api(c, "PUT", href, TEMPLATE_TYPE, body, strlen(body), &resp);
    if (!err && resp.status != 202 && (resp.status < 200 || resp.status >= 300))
        err = vcd_api_error(c, what, &resp);
    if (!err && resp.status == 202) {
        task = vcd_task_of(&resp);
        err = task ? vcd_wait_task(c, task, 0, what) : 0;
    }
    if (!err)
        cfs_log_debug("vcloud: %s: renamed template %s to %s (%s)", c->base.name, obj->name,
                      new_name, href);
    cfs_http_resp_free(&resp);
    free(task);
    free(body);
    free(desc);
    return err;
}
