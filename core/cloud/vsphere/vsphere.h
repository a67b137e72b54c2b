/* The vSphere provider: a vCenter (cloudfs.yaml type "vsphere") whose
 * VMs are files of vms/. Internal interface between its files:
 *   vsphere.c    provider table, configuration, list/open glue
 *   soap.c       vim25 envelopes built and read with libxml2, faults -> errno
 *   session.c    API version, ServiceContent, Login, re-login, the cookie
 *   inventory.c  the datacenter, every VM's properties through one view
 *   hardware.c   a VM's devices -> disks, controllers, NICs, OVF hardware
 *   datastore.c  "[ds] path" -> /folder URLs, disk descriptors, ranged reads
 *   snapshot.c   a powered-on VM is read from a snapshot the open takes
 *   rest.c       the vAPI REST session (/api or /rest) for content libraries
 *   library.c    libraries/: content libraries, their OVF items as files
 *   library_put.c  a file copied into a library becomes an OVF item
 *   sweep.c      items that killed uploads left half-made, removed at mount */
#ifndef CFS_VSPHERE_H
#define CFS_VSPHERE_H

#include <jansson.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "http.h"
#include "http_source.h"
#include "marker.h"
#include "provider.h"
#include "xml_safe.h"

#define VS_NS        "urn:vim25"
#define VS_XSI       "http://www.w3.org/2001/XMLSchema-instance"
#define VS_MAX_DISKS 16

struct vs_snaps;

struct vs_cloud {
    struct cfs_cloud base; /* first: the provider interface */
    char *url;             /* https://host[:port], no path */
    char *user, *password;
    char *datacenter; /* configured name, or NULL: the only one */
    char *datastore, *folder, *resource_pool;
    char *cacert;
    struct cfs_tls tls;
    struct cfs_http_auth auth; /* the session cookie for datastore reads */

    pthread_mutex_t lock; /* guards the session below */
    pthread_cond_t cond;  /* single-flight login: others wait for busy */
    bool busy;
    char *cookie;        /* "Cookie: vmware_soap_session=..." */
    char *version;       /* vim25 version for SOAPAction: "6.5" */
    unsigned generation; /* bumped on every login; 0 = never logged in */
    int fail_err;        /* a failed login is held a few seconds */
    double fail_until;
    /* From the ServiceContent (morefs). */
    char *root_folder, *property_collector, *view_manager, *session_manager;
    /* The datacenter, once found: its moref, and its inventory path
     * (folders/name, each URL-escaped) for /folder's dcPath=. */
    char *dc_moref, *dc_path;

    struct vs_snaps *snaps; /* snapshots taken for open files (snapshot.c) */
    /* This process as upload markers name it (include/marker.h): on the
     * snapshots it takes, so a later mount's sweep removes those a killed
     * one left. */
    char marker[CFS_MARKER_MAX];

    /* The REST session (rest.c), guarded by lock; rest_busy: one login
     * at a time, the others wait on cond. */
    char *rest_token;  /* vmware-api-session-id: a secret */
    int rest_spelling; /* VS_REST_API or VS_REST_OLD once known, else 0 */
    unsigned rest_gen; /* bumped on every REST login */
    bool rest_busy;
    int rest_fail_err;
    double rest_fail_until;
    struct vs_rest_auth {
        struct cfs_http_auth base; /* first */
        struct vs_cloud *cloud;
    } rest_auth; /* for the HTTP sources of transfer endpoints; set at login */
};

/* ---- vsphere.c ---- */
/* An id from the server that may go into a URL path or a file's id:
 * letters, digits and '-' only, 1 to 63 of them (morefs, library ids). */
bool vs_id_ok(const char *s);

/* ---- soap.c ---- */
/* A request being built: an envelope whose body holds
 * <method xmlns="urn:vim25"><_this type="type">moref</_this>...</method>. */
struct vs_call {
    xmlDocPtr doc;
    xmlNodePtr method;
};
int vs_call_new(struct vs_call *call, const char *method, const char *type, const char *moref);
void vs_call_free(struct vs_call *call);
/* Appends <name>text</name> (escaped by libxml2) to parent; returns it. */
xmlNodePtr vs_add(xmlNodePtr parent, const char *name, const char *text);
/* Appends <name type="type">moref</name>. */
xmlNodePtr vs_add_ref(xmlNodePtr parent, const char *name, const char *type, const char *moref);
/* Sets xsi:type="type" on n (a TraversalSpec in a selectSet ...). */
void vs_set_type(xmlNodePtr n, const char *type);
/* Posts the call to /sdk with the session cookie (none before Login) and
 * parses the answer. On 0, *resp is the answer document and *ret the
 * first <returnval> (NULL for a method that returns nothing). A fault is
 * logged with what and turned into an errno: InvalidLogin, NoPermission
 * -EACCES; NotAuthenticated -ENOTCONN (vs_soap logs in again once);
 * ManagedObjectNotFound -ENOENT; InvalidArgument, InvalidName -EINVAL;
 * others -EIO. retry: safe to repeat after a transport failure. */
int vs_soap_raw(struct vs_cloud *c, struct vs_call *call, const char *what, bool retry,
                const char *cookie, char **set_cookie, xmlDocPtr *resp, xmlNodePtr *ret);
/* The same with the session: logs in when there is none, and once more
 * when the server says the session expired. */
int vs_soap(struct vs_cloud *c, struct vs_call *call, const char *what, bool retry, xmlDocPtr *resp,
            xmlNodePtr *ret);
/* xsi:type of n without a prefix ("VirtualDisk"), malloc'd, or NULL. */
char *vs_xsi_type(xmlNodePtr n);

/* ---- session.c ---- */
/* Logs in if there is no session (or the one of generation failed_gen was
 * refused; 0 = make sure there is one). 0, -EACCES (credentials; one log
 * line), or a transport -errno. */
int vs_login(struct vs_cloud *c, unsigned failed_gen);
/* Copies of the session's cookie header and version, for one request. */
int vs_session_get(struct vs_cloud *c, char **cookie, char **version, unsigned *gen);
void vs_session_clear(struct vs_cloud *c);
/* Ends the session on the vCenter (at unmount). */
void vs_logout(struct vs_cloud *c);
/* cfs_http_auth for the datastore's /folder requests. */
int vs_auth_header(struct cfs_http_auth *a, const char *stale, char *out, size_t n);

/* ---- hardware.c ---- */
struct vs_disk {
    char *file;        /* backing fileName: "[LocalDS_0] vm1/vm1.vmdk" */
    uint64_t capacity; /* bytes */
    int key;           /* device key */
};
/* What a VM is: its disks in device order and its hardware as an OVF
 * descriptor would say it (info.disks[i] is disks[i]). */
struct vs_vm {
    char *moref, *name, *power_state;
    struct vs_disk disks[VS_MAX_DISKS];
    size_t n_disks;
    struct ovf_info info;
    struct timespec mtime;
};
/* Reads the properties of one VirtualMachine object of a
 * RetrievePropertiesEx answer (<objects>) into vm. 0 or -errno. */
int vs_vm_parse(xmlNodePtr objects, struct vs_vm *vm);
/* The disks of a device list (<val> of config.hardware.device) only. */
int vs_devices_disks(xmlNodePtr val, struct vs_disk *disks, size_t *n);
void vs_vm_free(struct vs_vm *vm);

/* ---- inventory.c ---- */
/* Finds the datacenter (by name, or the only one). 0, -ENXIO (none such,
 * or several and none named: logged). */
int vs_datacenter(struct vs_cloud *c);
/* Every VM of the datacenter (templates too). *vms malloc'd. */
int vs_vms(struct vs_cloud *c, struct vs_vm **vms, size_t *n);
/* fn for every VM of the datacenter with the properties paths (an
 * <objects> each), all pages. */
int vs_each_vm(struct vs_cloud *c, const char *const *paths, const char *what,
               int (*fn)(void *ctx, xmlNodePtr objects), void *ctx);
/* One VM's current power state ("poweredOn") and name, by moref. */
int vs_vm_state(struct vs_cloud *c, const char *moref, char **power_state);
/* Properties of one managed object: RetrievePropertiesEx of paths (a
 * NULL-terminated list) of (type, moref); *resp and *objects as vs_soap. */
int vs_retrieve(struct vs_cloud *c, const char *type, const char *moref, const char *const *paths,
                const char *what, xmlDocPtr *resp, xmlNodePtr *objects);
/* The value element of property path in an <objects>, or NULL. */
xmlNodePtr vs_prop(xmlNodePtr objects, const char *path);
/* Waits for a Task to end. 0, -ETIMEDOUT, or the task's fault as -errno
 * (logged with what); *result, when not NULL, gets info.result's text. */
int vs_wait_task(struct vs_cloud *c, const char *task, unsigned timeout_s, const char *what,
                 char **result);

/* ---- datastore.c ---- */
/* What a VM disk's file on the datastore is, read from its first bytes. */
struct vs_extent {
    char *url;       /* of the bytes to read: the flat extent, or the sparse file */
    uint64_t offset; /* where the disk starts in it */
    uint64_t size;   /* bytes the disk has there */
    const char *ext; /* "raw" (a flat extent) or "vmdk" (a hosted sparse file) */
    /* The file was a delta (a VM with snapshots): url is its base's, which
     * holds the disk as of the oldest snapshot, not the current one. */
    bool delta;
};
/* The /folder URL of "[ds] dir/file" (escaped), malloc'd, or NULL for a
 * path that is not one (logged). */
char *vs_folder_url(struct vs_cloud *c, const char *ds_path);
/* Reads the disk file's descriptor (or sparse header) over HTTP, and of a
 * delta disk its base's. 0, -ENOTSUP (several extents, a parent elsewhere:
 * logged), -EINVAL, -errno. */
int vs_extent_probe(struct vs_cloud *c, const char *ds_path, const char *label,
                    struct vs_extent *out);
void vs_extent_free(struct vs_extent *e);
/* A byte source over the disk's bytes. */
int vs_extent_open(struct vs_cloud *c, const struct vs_extent *e, const char *label,
                   struct cfs_source **out);

/* ---- snapshot.c ---- */
/* The file of disk number disk as of a snapshot of the powered-on VM,
 * taken now or reused (one per VM while files are open); release it with
 * vs_snapshot_release. 0 or -errno (logged). */
int vs_snapshot_hold(struct vs_cloud *c, const char *moref, const char *label, size_t disk,
                     char **ds_path);
void vs_snapshot_release(struct vs_cloud *c, const char *moref);
/* RemoveSnapshot_Task of one snapshot (its children stay), waited for. */
int vs_snapshot_remove(struct vs_cloud *c, const char *snap);
/* A source over inner (owned) that releases moref's snapshot on close. */
int vs_snapshot_source(struct vs_cloud *c, const char *moref, struct cfs_source *inner,
                       struct cfs_source **out);
int vs_snapshots_init(struct vs_cloud *c);
/* At unmount: removes the snapshots still held. */
void vs_snapshots_free(struct vs_cloud *c);

/* ---- rest.c ---- */
#define VS_REST_API 1 /* /api/... (vSphere 7.0U2+) */
#define VS_REST_OLD 2 /* /rest/com/vmware/... (6.5+), answers wrapped in "value" */
/* One vAPI call: rest_path under /rest, api_path under /api, whichever the
 * server speaks (found at the first login). body (may be NULL; its
 * reference is taken) is sent as JSON: as is to /api, as {wrap: body} to
 * /rest when wrap is set. On 0, *out (when not NULL) is the answer (/rest's
 * "value"), or NULL for none. A 401 renews the session once. Errors are
 * logged with what: 401/403 -EACCES, 404 or not_found -ENOENT,
 * already_exists -EEXIST, other 400 -EINVAL, -EIO, a transport -errno;
 * -ENOTSUP: the server has no REST API. */
int vs_rest(struct vs_cloud *c, const char *method, const char *rest_path, const char *api_path,
            json_t *body, const char *wrap, const char *what, json_t **out);
/* Logs in (again when the session of generation failed_gen was refused). */
int vs_rest_login(struct vs_cloud *c, unsigned failed_gen);
/* "vmware-api-session-id: TOKEN" (malloc'd, a secret), the spelling and
 * the session's generation; logs in when there is no session. */
int vs_rest_session(struct vs_cloud *c, char **header, int *spelling, unsigned *gen);
/* VS_REST_API or VS_REST_OLD (logs in to find it), or -errno. */
int vs_rest_spelling(struct vs_cloud *c);
/* Ends the session on the server (at unmount) and forgets it. */
void vs_rest_clear(struct vs_cloud *c);
/* A transfer endpoint the server names (a download or upload session's
 * uri), on the configured url: its path and query only, so the session's
 * token never goes to a host the server names. malloc'd, or NULL for a
 * uri that is none. */
char *vs_endpoint_url(const struct vs_cloud *c, const char *uri);
/* The errno of a vAPI error answer (status, body): as vs_rest says. */
int vs_rest_errno(long status, const char *body);
/* cfs_http_auth of c->rest_auth: the session header for transfer endpoints. */
int vs_rest_auth_header(struct cfs_http_auth *a, const char *stale, char *out, size_t n);

/* ---- library.c ---- */
/* libraries: one directory per content library. */
int vs_list_libraries(struct vs_cloud *c, struct cfs_object_list *out);
/* libraries/<lib>: its OVF items as <item>.ova, .ovf, .vmdk (-diskN). */
int vs_list_library(struct vs_cloud *c, const char *lib, struct cfs_object_list *out);
/* The files of an OVF item in package order, from its file list (the
 * server's [{"name", "size"}]) and its parsed descriptor (parsed false:
 * none, the .vmdk files in the server's order are its disks): the
 * descriptor, then the files it references that the list has, disks first
 * in References order; sizes from the list. Names point into files/info. */
struct vs_item_layout {
    const char *ovf; /* the descriptor's file name, or NULL */
    uint64_t ovf_size;
    const char *names[OVF_MAX_ITEMS];
    uint64_t sizes[OVF_MAX_ITEMS];
    size_t n;                      /* referenced files present */
    size_t n_disks;                /* names[0 .. n_disks) are the disks */
    size_t disk_of[OVF_MAX_ITEMS]; /* the Disk entry of disk d */
};
void vs_item_layout(json_t *files, const struct ovf_info *info, bool parsed,
                    struct vs_item_layout *l);
/* The size of the .ova of l: a ustar of the descriptor and names[]. */
uint64_t vs_item_ova_size(const struct vs_item_layout *l);
/* Opens a listed item file (through a download session). */
int vs_library_open(struct vs_cloud *c, const struct cfs_object *obj, struct cfs_source **out);
/* A new item of library lib from what was written (library_put.c). */
int vs_library_put(struct vs_cloud *c, const char *lib, const struct cfs_put *req);
/* The id of library lib (its name, or name~<id prefix>), malloc'd;
 * *subscribed (when not NULL): a subscribed library (read-only). */
int vs_library_find(struct vs_cloud *c, const char *lib, char **id, bool *subscribed);

/* ---- sweep.c ---- */
struct cfs_marker_self;
/* Removes the snapshots and library items whose description holds a
 * stale upload marker. */
int vs_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self);

#endif
