/* The vSphere provider: a vCenter (cloudfs.yaml type "vsphere") whose
 * VMs are files of vms/. Internal interface between its files:
 *   vsphere.c    provider table, configuration, list/open glue
 *   soap.c       vim25 envelopes built and read with libxml2, faults -> errno
 *   session.c    API version, ServiceContent, Login, re-login, the cookie
 *   inventory.c  the datacenter, every VM's properties through one view
 *   hardware.c   a VM's devices -> disks, controllers, NICs, OVF hardware
 *   datastore.c  "[ds] path" -> /folder URLs, disk descriptors, ranged reads
 *   snapshot.c   a powered-on VM is read from a snapshot the open takes */
#ifndef CFS_VSPHERE_H
#define CFS_VSPHERE_H

#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "http.h"
#include "http_source.h"
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
    char *dc_moref, *dc_name; /* the datacenter, once found */

    struct vs_snaps *snaps; /* snapshots taken for open files (snapshot.c) */
};

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
/* A source over inner (owned) that releases moref's snapshot on close. */
int vs_snapshot_source(struct vs_cloud *c, const char *moref, struct cfs_source *inner,
                       struct cfs_source **out);
int vs_snapshots_init(struct vs_cloud *c);
/* At unmount: removes the snapshots still held. */
void vs_snapshots_free(struct vs_cloud *c);

#endif
