/* An OpenStack cloud: shared state of the Keystone and Glance modules. */
#ifndef CFS_OPENSTACK_H
#define CFS_OPENSTACK_H

#include <pthread.h>

#include "http.h"
#include "http_source.h"
#include "keystone.h"
#include "provider.h"

struct openstack {
    struct cfs_cloud base;
    struct keystone *ks;
    struct cfs_tls tls;
    char *cacert;
    struct cfs_http_auth auth; /* hands out Keystone tokens to requests */
    char *image_override;      /* clouds.yaml image_endpoint_override */

    pthread_mutex_t lock;
    char *image_url; /* Glance base URL without /v2, once known */
};

/* The Glance base URL (override or catalog), without a trailing /v2. */
int openstack_image_url(struct openstack *os, char **url);

/* An authenticated request with the retry rules of DESIGN.md §6: a 401
 * renews the token once, transport errors and 5xx are retried with
 * backoff. what names the request in log lines. On a non-2xx answer the
 * errno is returned and one line logged. */
int openstack_request(struct openstack *os, const char *what, struct cfs_http_req *req,
                      struct cfs_http_resp *resp);

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

/* ---- glance_sweep.c ---- */
struct cfs_marker_self;
/* An image a killed upload left: its id, name and marker. */
struct glance_stale {
    char *id, *name, *marker;
};
/* Appends to *v (*n entries) the images of one listing page whose
 * cloudfs_upload property is a stale marker for self at now; *next gets
 * the next page's query or NULL. 0, -EPROTO (not a listing), -ENOMEM. */
int glance_stale_page(const char *body, size_t len, const struct cfs_marker_self *self, time_t now,
                      struct glance_stale **v, size_t *n, char **next);
void glance_stale_free(struct glance_stale *v, size_t n);
/* provider->sweep: deletes images with a stale marker, one log line each. */
int glance_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self);

#endif
