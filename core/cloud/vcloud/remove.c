/* rm of a template's file (allow_delete): every file and view of a
 * template names the same template, and deleting it removes them all
 * (ref/vcd-api.md §4.7). DELETE of the template answers 202 and a task,
 * which is awaited; a template already gone but still listed leaves its
 * catalog item, deleted directly (204). A busy template (an export or
 * another change running) is EBUSY. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One DELETE; a 202's task is awaited. 0 or -errno (logged). */
static int delete_entity(struct vcd_cloud *c, const char *href, const char *what)
{
    struct cfs_http_resp resp = { 0 };
    int err = vcd_api(c, "DELETE", href, NULL, NULL, 0, &resp);
    if (!err && resp.status == 202) {
        char *task = vcd_task_of(&resp);
        err = task ? vcd_wait_task(c, task, 0, what) : 0;
        free(task);
    } else if (!err && (resp.status < 200 || resp.status >= 300)) {
        err = vcd_api_error(c, what, &resp);
    }
    cfs_http_resp_free(&resp);
    return err;
}

int vcd_remove(struct vcd_cloud *c, const struct cfs_object *obj)
{
    const char *tmpl = cfs_object_xattr(obj, "user.vcloud.href");
    const char *item = cfs_object_xattr(obj, "user.vcloud.item");
    char what[300];
    int err;

    if (!tmpl || obj->is_dir)
        return -EPERM; /* catalogs are not removed from the mount */
    snprintf(what, sizeof what, "deleting template %s", obj->name);
    err = delete_entity(c, tmpl, what);
    if (err == -ENOENT && item) {
        snprintf(what, sizeof what, "deleting the catalog item of template %s", obj->name);
        err = delete_entity(c, item, what);
    }
    if (!err)
        cfs_log_debug("vcloud: %s: deleted template %s (%s)", c->base.name, obj->name, tmpl);
    return err;
}
