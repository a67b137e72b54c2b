/* An OpenStack cloud: shared state of the Keystone, Glance and Nova modules. */
#ifndef CFS_OPENSTACK_H
#define CFS_OPENSTACK_H

#include <jansson.h>
#include <pthread.h>

#include "http.h"
#include "http_source.h"
#include "keystone.h"
#include "package.h"
#include "provider.h"

struct openstack {
    struct cfs_cloud base;
    struct keystone *ks;
    struct cfs_tls tls;
    char *cacert;
    struct cfs_http_auth auth; /* hands out Keystone tokens to requests */
    char *image_override;      /* clouds.yaml image_endpoint_override */
    struct nova *nova;         /* servers/ (nova.c) */

    /* What an OVA written into images/ becomes (glance_upload.c): the
     * enum cfs_view its disks are converted to (upload_format: qcow2, raw),
     * or -1 (keep: each disk in its own format); ova_keep (ova: keep): the
     * OVA is stored as it is, container_format ova. */
    int upload_format;
    bool ova_keep;

    pthread_mutex_t lock;
    char *image_url; /* Glance base URL without /v2, once known */
};

/* cfs_cloud.scope of a cloud of clouds.yaml (scope.c): its Keystone
 * project and image endpoint, malloc'd; NULL when the configuration does
 * not name a project (or no memory). */
char *openstack_scope(const struct cfs_cloud_config *c);

/* The Glance base URL (override or catalog), without a trailing /v2. */
int openstack_image_url(struct openstack *os, char **url);

/* An authenticated request with the retry rules of DESIGN.md §6: a 401
 * renews the token once, transport errors and 5xx are retried with
 * backoff. what names the request in log lines. On a non-2xx answer the
 * errno is returned and one line logged. */
/* Parses one page of a listing; *next gets the query of the next page
 * (malloc'd) or NULL at the end. 0 or -errno. */
typedef int (*openstack_page_fn)(void *ctx, const char *body, size_t len, char **next);

/* GETs base + query, then each next page the parser names, through
 * openstack_request; stops with -EIO (logged) on a repeated or endless
 * "next". The parser's errors are returned unlogged. *n_pages (may be
 * NULL) gets the number of pages read. */
int openstack_pages(struct openstack *os, const char *what, const char *base, const char *query,
                    const char *const *headers, openstack_page_fn parse, void *ctx,
                    unsigned *n_pages);

int openstack_request(struct openstack *os, const char *what, struct cfs_http_req *req,
                      struct cfs_http_resp *resp);

/* An OpenStack answer as JSON (json_loadb), with every "\u0000" and
 * unpaired surrogate escape read as U+FFFD: one odd record must not make
 * a whole listing unreadable (json_load.c). NULL if it is not JSON. */
json_t *openstack_json_load(const char *body, size_t len);

/* The errno for an HTTP error answer of an OpenStack service. */
int openstack_errno(long status, const char *message);

/* Appends the active images of one listing page (Glance's JSON) to out
 * (capacity *cap); *next receives the query of the next page, or NULL.
 * 0, -EPROTO (not a listing), -EFBIG (too many images), -ENOMEM. */
int glance_parse_page(const char *body, size_t len, struct cfs_object_list *out, size_t *cap,
                      char **next);
int glance_list_images(struct openstack *os, struct cfs_object_list *out);
int glance_open_image(struct openstack *os, const struct cfs_object *obj, unsigned flags,
                      struct cfs_source **out);
/* GET /v2/images/{id}: its status into status; an active image into *out
 * (an object as listings make it; the caller frees its fields). 0 (active),
 * -EAGAIN (another status), -ENOENT (no such image, logged), -errno. */
int glance_image_state(struct openstack *os, const char *id, char *status, size_t status_len,
                       struct cfs_object *out);

/* ---- uploads (glance_props.c: no network; glance_upload.c) ---- */

/* The property that marks an image while cloudfs uploads it (marker.h). */
#define GLANCE_MARKER_KEY "cloudfs_upload"
/* Warnings of a migration (cfs_put.src_warnings), listed as
 * user.cloudfs.warnings; at most this many bytes (a Glance property). */
#define GLANCE_WARNINGS_KEY "cloudfs_warnings"
#define GLANCE_WARNINGS_MAX 4096
/* A tag on images being made, with the marker: the sweep lists only
 * images with this tag (?tag=), not the whole cloud at every mount. */
#define GLANCE_MARKER_TAG "cloudfs-upload"

/* What a written file becomes: the image's name and formats. */
struct glance_target {
    char *name;
    const char *disk_format, *container_format;
    int convert; /* the enum cfs_view the content is converted to, or -1: sent as it is */
};

/* The target for a file fname whose content cfs_sniff found to be fmt:
 * the name's disk format (cfs_fmt_name_view), a container of another
 * format converted to it; .img and other names the content's format.
 * -EINVAL with why (a sentence for the log: "x.qcow2 holds a raw disk")
 * for raw content under another format's name, or content that cannot be
 * an image; -ENOMEM. */
int glance_target_for(const char *fname, enum cfs_fmt fmt, struct glance_target *out, char *why,
                      size_t why_len);
void glance_target_free(struct glance_target *t);

/* May a property of this name be set on a new image? Not Glance's own
 * fields, os_glance_*, cloudfs_* or ids of the source cloud. */
bool glance_prop_allowed(const char *key);

/* The JSON of POST /v2/images: name, formats, the marker, then the
 * allowed user.glance.* attributes of req->xattrs, then req->src_props
 * (the first of a key wins), and req->src_warnings as GLANCE_WARNINGS_KEY
 * (logged once here). *out malloc'd. 0 or -ENOMEM. */
int glance_create_body(const struct glance_target *t, const struct cfs_put *req, char **out);

/* The provider's put for images/ (see provider.h). */
int glance_put(struct openstack *os, const struct cfs_put *req);

/* ---- changes to images (glance_edit.c) ---- */

/* DELETE /v2/images/{id}; what names it in log lines. 0 or -errno. */
int glance_delete_image(struct openstack *os, const char *id, const char *what);
int glance_remove(struct openstack *os, const struct cfs_object *obj);
/* Stores t as the property cloudfs_mtime (include/mtime.h). */
int glance_set_mtime(struct openstack *os, const struct cfs_object *obj, const struct timespec *t);
/* mv: a JSON-patch of the image's name (Glance allows it on any status). */
int glance_rename(struct openstack *os, const struct cfs_object *obj, const char *new_name);

/* ---- glance_sweep.c ---- */
struct cfs_marker_self;
/* An image a killed upload left: its id, name and marker. */
struct glance_stale {
    char *id, *name, *marker;
};
/* Appends to *v (*n entries) the images of one listing page whose
 * GLANCE_MARKER_KEY property is a stale marker for self at now; *next gets
 * the next page's query or NULL. 0, -EPROTO (not a listing), -ENOMEM. */
int glance_stale_page(const char *body, size_t len, const struct cfs_marker_self *self, time_t now,
                      struct glance_stale **v, size_t *n, char **next);
void glance_stale_free(struct glance_stale *v, size_t n);
/* provider->sweep: deletes images with a stale marker, one log line each. */
int glance_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self);

#endif
