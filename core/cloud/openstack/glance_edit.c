/* Changes to existing Glance images: delete (rm with allow_delete, the
 * clean-up of a failed upload, a replaced image), the name (mv) and the
 * stored mtime
 * (utimensat: the property cloudfs_mtime, which the listing reports as
 * the image's mtime; Glance accepts property changes on active images). */
#define _GNU_SOURCE
#include "log.h"
#include "mtime.h"
#include "openstack.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int glance_delete_image(struct openstack *os, const char *id, const char *what)
{
    char *base = NULL, *url = NULL;
    struct cfs_http_resp resp = { 0 };
    int err = openstack_image_url(os, &base);
    if (!err)
        err = (url = cfs_printf("%s/v2/images/%s", base, id)) ? 0 : -ENOMEM;
    if (!err) {
        /* 204; 404 ENOENT; 403 (protected, another project's) EACCES. */
        struct cfs_http_req r = { .method = "DELETE", .url = url };
        err = openstack_request(os, what, &r, &resp);
    }
    cfs_http_resp_free(&resp);
    free(url);
    free(base);
    return err;
}

int glance_remove(struct openstack *os, const struct cfs_object *obj)
{
    char *what = cfs_printf("deleting image %s (%s)", obj->id, obj->name);
    int err = what ? glance_delete_image(os, obj->id, what) : -ENOMEM;
    if (!err)
        cfs_log_debug("glance: cloud %s: deleted image %s (%s)", os->base.name, obj->id, obj->name);
    free(what);
    return err;
}

static int patch(struct openstack *os, const char *id, const char *ops, const char *what)
{
    static const char *const hdrs[] = {
        "Content-Type: application/openstack-images-v2.1-json-patch", NULL
    };
    char *base = NULL, *url = NULL;
    struct cfs_http_resp resp = { 0 };
    int err = openstack_image_url(os, &base);
    if (!err)
        err = (url = cfs_printf("%s/v2/images/%s", base, id)) ? 0 : -ENOMEM;
    if (!err) {
        struct cfs_http_req r = {
            .method = "PATCH", .url = url, .headers = hdrs, .body = ops, .body_len = strlen(ops)
        };
        err = openstack_request(os, what, &r, &resp);
    }
    cfs_http_resp_free(&resp);
    free(url);
    free(base);
    return err;
}

int glance_set_mtime(struct openstack *os, const struct cfs_object *obj, const struct timespec *t)
{
    char text[CFS_MTIME_MAX], what[300];
    cfs_mtime_format(t, text);
    /* JSON-patch "add" of a property that exists is a 409 in Glance:
     * "replace" when the listing showed one, and the other on a 409 (the
     * listing may be older than the image). */
    bool has = cfs_object_xattr(obj, "user.glance." CFS_MTIME_KEY) != NULL;
    snprintf(what, sizeof what, "setting the mtime of image %s (%s)", obj->id, obj->name);
    int err = -EEXIST;
    for (int round = 0; round < 2 && err == -EEXIST; round++, has = !has) {
        char *ops = cfs_printf("[{\"op\":\"%s\",\"path\":\"/" CFS_MTIME_KEY "\",\"value\":\"%s\"}]",
                               has ? "replace" : "add", text);
        if (!ops)
            return -ENOMEM;
        err = patch(os, obj->id, ops, what);
        free(ops);
    }
    if (!err)
        cfs_log_debug("glance: cloud %s: image %s: mtime %s", os->base.name, obj->id, text);
    return err;
}

int glance_rename(struct openstack *os, const struct cfs_object *obj, const char *new_name)
{
    json_t *ops =
        json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "/name", "value", new_name);
    char *body = ops ? json_dumps(ops, JSON_COMPACT) : NULL;
    char *what = cfs_printf("renaming image %s (%s)", obj->id, obj->name);
    int err = body && what ? patch(os, obj->id, body, what) : -ENOMEM;
    if (!err)
        cfs_log_debug("glance: cloud %s: renamed image %s from %s to %s", os->base.name, obj->id,
                      obj->name, new_name);
    free(what);
    free(body);
    json_decref(ops);
    return err;
}
