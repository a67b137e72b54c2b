/* The VMware Cloud Director provider (ref/vcd-api.md): one cloud of
 * cloudfs.yaml with type "vcloud". Internal interface between its files:
 *   vcloud.c    provider table, configuration, list/open/put glue
 *   session.c   version negotiation, login (both styles), re-login
 *   api.c       authenticated /api requests, Error documents -> errno
 *   xml.c       safe parsing (no network, no entities) and small helpers
 *   query.c     the query service, all pages
 *   download.c  enableDownload, descriptor, files into the cache
 *   upload.c    upload action, descriptor, files, import task, clean-up
 *   remove.c    rm of a template (allow_delete)
 *   mtime.c     the stored modification time (metadata cloudfs_mtime)
 *   sweep.c     removal of templates killed uploads left half-made */
#ifndef CFS_VCLOUD_H
#define CFS_VCLOUD_H

#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "package.h"
#include "provider.h"
#include "xml_safe.h"

#define VCD_NS "http://www.vmware.com/vcloud/v1.5"

struct vcd_cloud {
    struct cfs_cloud base; /* first: the provider interface */
    char *url;             /* https://host[:port], no trailing '/' */
    char *org, *user, *password;
    char *vdc;         /* VDC for uploads, or NULL: the catalog's */
    char *api_version; /* configured version, or NULL for auto */
    char *cacert;
    struct cfs_tls tls;
    unsigned task_timeout_s; /* bound of every wait for a task */

    pthread_mutex_t lock; /* guards the session below */
    char *version;        /* negotiated API version, "36.0" */
    /* header line: "x-vcloud-authorization: ..." or "Authorization: Bearer ..." */
    char *auth;
    unsigned generation; /* bumped on every login; 0 = never logged in */
    char *org_href;
    pthread_cond_t cond; /* single-flight login: others wait for busy */
    bool busy;
    int fail_err;      /* a failed login is held a few seconds, so that a */
    double fail_until; /* wrong password is not retried by every call */
    char *ro_logged;   /* catalogs already logged as read-only, "a\0b\0" */
    size_t ro_logged_len;

    struct vcd_downloads *downloads; /* exported templates (download.c) */
};

/* ---- session.c ---- */
/* Logs in if there is no session (or the one of generation gen failed;
 * 0 = just make sure there is one):
 * negotiates the version, then POST /api/sessions (< 38.0) or
 * /cloudapi/1.0.0/sessions[/provider]. 0, -EACCES (credentials; one log
 * line), -EPROTO (no common version), or a transport -errno. */
int vcd_login(struct vcd_cloud *c, unsigned failed_gen);
/* The current auth header line and version (copies, for one request). */
int vcd_session_get(struct vcd_cloud *c, char **auth, char **version, unsigned *gen);
void vcd_session_clear(struct vcd_cloud *c);
/* The version to use from a SupportedVersions document: the highest
 * non-deprecated one the client supports (5.5 ... 39.1), or want when it
 * is offered. 0, -EPROTO (none / want not offered; *why says which). */
int vcd_versions_pick(const char *body, size_t len, const char *want, char **out, const char **why);
/* Numeric comparison of dotted versions: "5.10" > "5.9". */
int vcd_version_cmp(const char *a, const char *b);

/* ---- api.c ---- */
/* The URL for an href of the server: its path and query on the
 * configured url (so a token never goes to a host the server names;
 * paths starting with "/" are taken as they are). malloc'd or NULL. */
char *vcd_url(struct vcd_cloud *c, const char *href);
/* One unauthenticated-or-not request with the cloud's TLS; when retry,
 * transport errors and 5xx are retried with backoff. A transport failure
 * is logged ("vcloud: CLOUD: WHAT failed: ...") and returned. */
int vcd_http(struct vcd_cloud *c, const char *what, struct cfs_http_req *req,
             struct cfs_http_resp *resp, bool retry);
/* An authenticated request to url (an absolute href, or a path that
 * starts with "/"), with the versioned Accept (application/...+xml;
 * version=V); logs in first if needed and once more on 401. ctype/body may be NULL. Returns 0
 * with *resp for any HTTP status, or a transport/login -errno. Retries
 * idempotent requests on transport errors and 5xx. */
int vcd_api(struct vcd_cloud *c, const char *method, const char *url, const char *ctype,
            const char *body, size_t len, struct cfs_http_resp *resp);
/* -errno for a failed response, and one log line "vcloud: CLOUD: WHAT:
 * HTTP N MINOR: message" (403 for an id -> ENOENT, DUPLICATE_NAME ->
 * EEXIST, BUSY_ENTITY -> EBUSY, 401 -> EACCES, 5xx -> EIO, ...). */
int vcd_api_error(struct vcd_cloud *c, const char *what, const struct cfs_http_resp *resp);
/* The mapping alone: status, Error's minorErrorCode and message -> -errno. */
int vcd_errno(long status, const char *minor, const char *message);
/* GET url and parse it; non-2xx mapped with vcd_api_error. */
int vcd_get_xml(struct vcd_cloud *c, const char *url, const char *what, xmlDocPtr *out);
/* Headers for /transfer requests: the auth line then NULL (2 slots),
 * malloc'd strings; free with vcd_headers_free. */
int vcd_transfer_headers(struct vcd_cloud *c, char *hdr[2]);
void vcd_headers_free(char *hdr[2]);
/* Waits for a task (href) to end: 0 on success, -EIO/-ECANCELED with the
 * task's Error logged, -ETIMEDOUT past timeout_s. */
int vcd_wait_task(struct vcd_cloud *c, const char *task_href, unsigned timeout_s, const char *what);
/* The same, also polling cancelled (about once a second; NULL: never):
 * 1 when it said stop, the task still running. */
int vcd_wait_task_cancel(struct vcd_cloud *c, const char *task_href, unsigned timeout_s,
                         const char *what, bool (*cancelled)(void *ctx), void *ctx);
/* The href of the Task a 202 answer carries (its root element), or NULL. */
char *vcd_task_of(const struct cfs_http_resp *resp);

/* ---- xml.c ---- */
/* Parses untrusted XML: no network, no entity expansion, no DTD, size
 * bounded. 0 or -EPROTO. */
int vcd_xml_parse(const char *buf, size_t len, xmlDocPtr *out);
/* Children, attributes and text: cfs_xml_child, cfs_xml_next, cfs_xml_attr,
 * cfs_xml_text (include/xml_safe.h). */
/* href of the first Link child with rel (and type, unless NULL), malloc'd or NULL. */
char *vcd_xml_link(xmlNodePtr n, const char *rel, const char *type);
/* s with & < > " ' escaped, malloc'd. */
char *vcd_xml_escape(const char *s);
/* A request body <element name="name" attrs><Description/></element> in
 * VCD_NS, malloc'd; NULL when out of memory or when name holds a control
 * character (XML 1.0 cannot carry it). */
char *vcd_xml_named(const char *element, const char *attrs, const char *name,
                    const char *description);

/* ---- query.c ---- */
/* Every record of /api/query?type=TYPE&format=records[&filter=FILTER]
 * (pageSize 128, all pages by total and nextPage): cb per record element.
 * filter is not yet escaped. 0, cb's -errno, or the request's. */
int vcd_query(struct vcd_cloud *c, const char *type, const char *filter,
              int (*cb)(void *ctx, xmlNodePtr record), void *ctx);
/* A filter value with ( ) , ; and backslash escaped by a backslash (§3.2):
 * "name==" + vcd_query_value(name). vcd_query percent-encodes the whole. */
char *vcd_query_value(const char *v);
/* One page: cb per record; *total from the page, *more when it links a
 * next page. 0, -EPROTO (not a QueryResultRecords) or cb's -errno. */
int vcd_query_page(xmlDocPtr doc, int (*cb)(void *ctx, xmlNodePtr record), void *ctx,
                   uint64_t *total, bool *more, size_t *n_records);

/* ---- catalog.c ---- */
/* Catalogs as directories; templates of one catalog as files. */
int vcd_list_catalogs(struct vcd_cloud *c, struct cfs_object_list *out);
int vcd_list_templates(struct vcd_cloud *c, const char *catalog, struct cfs_object_list *out);
/* The href of the catalog a directory names ("name", or "name~<id
 * prefix>" for duplicates). 0, -ENOENT or the query's -errno. */
int vcd_catalog_find(struct vcd_cloud *c, const char *catalog, char **href);
/* The uuid in an href (".../catalog/<uuid>", ".../vappTemplate-<uuid>"),
 * [A-Za-z0-9-] only. 0 or -EINVAL. */
int vcd_uuid_of(const char *href, char *out, size_t n);
/* Indexes into info->files of the files that disks use, in References
 * order: disk N of a template is idx[N - 1]. */

size_t vcd_ovf_disk_files(const struct ovf_info *info, size_t idx[OVF_MAX_ITEMS]);

/* ---- download.c ---- */
/* A source over one file of a template's export (file = the name cloudfs
 * shows it under: <name>.ovf, <name>.vmdk, <name>-diskN.vmdk, <name>.ova),
 * exporting it first if needed (enableDownload, once per template). */
int vcd_download_open(struct vcd_cloud *c, const struct cfs_object *obj, struct cfs_source **out);
void vcd_downloads_free(struct vcd_cloud *c);
/* xml (a descriptor ovf_parse accepted as info) with File i's ovf:href
 * set to names[i] and ovf:size to sizes[i], serialised by libxml2.
 * 0, -EINVAL or -ENOMEM. */
int vcd_ovf_rename(const char *xml, size_t len, const struct ovf_info *info, char *const names[],
                   const uint64_t sizes[], char **out, size_t *out_len);

/* ---- upload.c ---- */
/* Creates template name in the catalog at catalog_href from pkg and
 * returns once it has status 8: upload action (req->marker as the
 * Description), descriptor PUT, wait for the File entries, each file PUT
 * in sequential ranges with its exact length (resuming from
 * bytesTransferred after a broken connection or a 416), session kept
 * alive, import task awaited, then the catalog item's metadata
 * cloudfs_complete=1. req->cancelled is polled between steps and during
 * transfers (-ECANCELED). On failure the task is cancelled / the template
 * deleted. 0 or -errno (EEXIST duplicate name, EIO import failed,
 * ETIMEDOUT ...), one log line. req->label names it in the log. */
int vcd_upload(struct vcd_cloud *c, const char *catalog_href, const char *name,
               const struct cfs_package *pkg, const struct cfs_put *req);

/* ---- sweep.c ---- */
/* provider->sweep: templates not yet resolved whose Description holds a
 * stale marker (include/marker.h): task cancelled, template deleted, one
 * log line each. 0 or the query's -errno. */
int vcd_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self);

/* ---- remove.c, mtime.c ---- */
/* Deletes the template obj (a file of it) belongs to: DELETE and its
 * task, or the catalog item when the template is gone. 0, -EBUSY,
 * -ENOENT, -EACCES ... (logged). */
int vcd_remove(struct vcd_cloud *c, const struct cfs_object *obj);
/* Stores t as the catalog item's metadata entry cloudfs_mtime. */
int vcd_set_mtime(struct vcd_cloud *c, const struct cfs_object *obj, const struct timespec *t);

/* ---- rename.c ---- */
/* mv in a catalog: the template (and so its catalog item) under new_name.
 * 0, -EEXIST (the catalog has that name), -EBUSY ... (logged). */
int vcd_rename(struct vcd_cloud *c, const struct cfs_object *obj, const char *new_name);

#endif
