/* The stored modification time of a template (include/mtime.h): the
 * metadata entry cloudfs_mtime of its catalog item, which the listing
 * reads with the item's other metadata (catalog.c). PUT of one key with
 * a MetadataValue answers 202 and a task (ref/vcd-api.md §9). */
#define _GNU_SOURCE
#include "log.h"
#include "mtime.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_VALUE_TYPE "application/vnd.vmware.vcloud.metadata.value+xml"

int vcd_set_mtime(struct vcd_cloud *c, const struct cfs_object *obj, const struct timespec *t)
{
    const char *item = cfs_object_xattr(obj, "user.vcloud.item");
    struct cfs_http_resp resp = { 0 };
    char text[CFS_MTIME_MAX], what[300];

    if (!item || obj->is_dir)
        return -EPERM; /* a catalog: its time is vCD's */
    cfs_mtime_format(t, text);
    char *url = cfs_printf("%s/metadata/" CFS_MTIME_KEY, item);
    char *body = cfs_printf("<MetadataValue xmlns=\"" VCD_NS "\" "
                            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
                            "<TypedValue xsi:type=\"MetadataStringValue\"><Value>%s</Value>"
                            "</TypedValue></MetadataValue>",
                            text);
    int err = url && body ? 0 : -ENOMEM;
    snprintf(what, sizeof what, "setting the mtime of template %s", obj->name);
    if (!err)
        err = vcd_api(c, "PUT", url, METADATA_VALUE_TYPE, body, strlen(body), &resp);
    if (!err && resp.status == 202) {
        xmlDocPtr doc;
        char *task = NULL;
        if (resp.body_len && vcd_xml_parse(resp.body, resp.body_len, &doc) == 0) {
            task = cfs_xml_attr(xmlDocGetRootElement(doc), "href");
            xmlFreeDoc(doc);
        }
        err = task ? vcd_wait_task(c, task, 0, what) : 0;
        free(task);
    } else if (!err && (resp.status < 200 || resp.status >= 300)) {
        err = vcd_api_error(c, what, &resp);
    }
    if (!err)
        cfs_log_debug("vcloud: %s: template %s: mtime %s", c->base.name, obj->name, text);
    cfs_http_resp_free(&resp);
    free(url);
    free(body);
    return err;
}
