/* What killed uploads left half-made in Glance (DESIGN.md §5): an upload
 * stores its marker (include/marker.h) as the image property
 * cloudfs_upload from the image's creation until it is verified, and
 * removes it then. At mount, images whose marker is stale are deleted.
 * Glance filters properties by exact value only, so every image is
 * listed (all statuses: queued, saving, importing, killed, and active
 * ones an upload never confirmed) and the marker is judged here. */
#define _GNU_SOURCE
#include "log.h"
#include "marker.h"
#include "openstack.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_LIMIT 1000

void glance_stale_free(struct glance_stale *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].name);
        free(v[i].marker);
    }
    free(v);
}

/* Ids go into a URL path: letters, digits and '-' only. */
static bool usable_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

static int add(struct glance_stale **v, size_t *n, json_t *img, const char *id, const char *marker)
{
    struct glance_stale *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    const char *name = json_string_value(json_object_get(img, "name"));
    struct glance_stale *s = &nv[*n];
    s->id = strdup(id);
    s->name = strdup(name ? name : "");
    s->marker = strdup(marker);
    (*n)++;
    return s->id && s->name && s->marker ? 0 : -ENOMEM;
}

int glance_stale_page(const char *body, size_t len, const struct cfs_marker_self *self, time_t now,
                      struct glance_stale **v, size_t *n, char **next)
{
    json_t *doc = openstack_json_load(body, len);
    json_t *images = json_object_get(doc, "images"), *img;
    size_t i;
    int err = 0;

    *next = NULL;
    if (!json_is_array(images)) {
        json_decref(doc);
        return -EPROTO;
    }
    json_array_foreach (images, i, img) {
        const char *id = json_string_value(json_object_get(img, "id"));
        json_t *mk = json_object_get(img, GLANCE_MARKER_KEY);
        const char *marker = json_string_value(mk);
        const char *status = json_string_value(json_object_get(img, "status"));
        /* An entry not understood is passed over with one line, never the
         * sweep; one without a marker is a finished upload. */
        if (!json_is_object(img) || (mk && (!marker || !usable_id(id)))) {
            cfs_log_warn("glance: sweep: entry %zu of a listing page (id %.64s) skipped: %s", i + 1,
                         id ? id : "none",
                         !json_is_object(img) ? "not a JSON object"
                         : !marker            ? "its marker is not a string"
                                              : "no usable id");
            continue;
        }
        /* Being deleted already: nothing to do. */
        if (!marker ||
            (status && (strcmp(status, "deleted") == 0 || strcmp(status, "pending_delete") == 0)))
            continue;
        if (cfs_marker_stale(marker, self, now) && (err = add(v, n, img, id, marker)))
            break;
    }
    /* As the listing: Glance sends "next" whenever a page is full. Only
     * its query is taken, so our token never goes to another host. */
    const char *nx = json_string_value(json_object_get(doc, "next"));
    const char *q = nx ? strchr(nx, '?') : NULL;
    if (!err && json_array_size(images) > 0 && q && !(*next = strdup(q)))
        err = -ENOMEM;
    json_decref(doc);
    return err;
}

struct stale_pages {
    const struct cfs_marker_self *self;
    time_t now;
    struct glance_stale **v;
    size_t *n;
};

static int stale_page(void *ctx, const char *body, size_t len, char **next)
{
    struct stale_pages *sp = ctx;
    return glance_stale_page(body, len, sp->self, sp->now, sp->v, sp->n, next);
}

/* Every image with a stale marker, all pages of those tagged as being made. */
static int find_stale(struct openstack *os, const char *base, const struct cfs_marker_self *self,
                      struct glance_stale **v, size_t *n)
{
    struct stale_pages sp = { .self = self, .now = time(NULL), .v = v, .n = n };
    char *images = cfs_printf("%s/v2/images", base);
    char *query = cfs_printf("?limit=%d&tag=" GLANCE_MARKER_TAG, PAGE_LIMIT);
    int err = images && query ? openstack_pages(os, "sweep: list images", images, query, NULL,
                                                stale_page, &sp, NULL)
                              : -ENOMEM;
    if (err == -EPROTO)
        cfs_log_error("glance: cloud %s: sweep: image listing is not a JSON list of images",
                      os->base.name);
    free(images);
    free(query);
    return err;
}

int glance_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self)
{
    struct openstack *os = (struct openstack *)cloud;
    struct glance_stale *v = NULL;
    size_t n = 0;
    char *base = NULL;
    int err = openstack_image_url(os, &base);

    if (!err)
        err = find_stale(os, base, self, &v, &n);
    for (size_t i = 0; !err && i < n; i++) {
        char host[256] = "?", *url = cfs_printf("%s/v2/images/%s", base, v[i].id);
        char *what = cfs_printf("sweep: delete half-made image %s (%s)", v[i].name, v[i].id);
        struct cfs_http_req req = { .method = "DELETE", .url = url };
        struct cfs_http_resp resp = { 0 };
        long pid = 0;

        cfs_marker_who(v[i].marker, host, &pid);
        int derr =
            url ? openstack_request(os, what ? what : "sweep: delete", &req, &resp) : -ENOMEM;
        if (!derr)
            cfs_log_info("glance: cloud %s: removed half-made image %s (%s) left by %s pid %ld",
                         os->base.name, v[i].name, v[i].id, host, pid);
        else if (derr != -ENOENT) /* else: gone meanwhile */
            cfs_log_error("glance: cloud %s: could not remove half-made image %s (%s) left by %s "
                          "pid %ld: %s",
                          os->base.name, v[i].name, v[i].id, host, pid, strerror(-derr));
        cfs_http_resp_free(&resp);
        free(url);
        free(what);
    }
    glance_stale_free(v, n);
    free(base);
    return err;
}
