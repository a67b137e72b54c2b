/* What killed mounts left behind (DESIGN.md §5), found by the marker
 * (include/marker.h) of the process that made it:
 *  - snapshots taken to read a running VM (snapshot.c): the marker ends
 *    their description; a stale one means no file of it is open any more;
 *  - content library items (library_put.c): created with the marker as
 *    their description, which is replaced once the item is complete, so
 *    a stale one is an upload that can no longer finish.
 * At mount both are removed, one log line each. */
#define _GNU_SOURCE
#include "log.h"
#include "marker.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The item if its description is a stale marker: deleted. */
static int sweep_item(struct vs_cloud *c, const char *lib, const char *id,
                      const struct cfs_marker_self *self, time_t now)
{
    char *rp = cfs_printf("/com/vmware/content/library/item/id:%s", id);
    char *ap = cfs_printf("/content/library/item/%s", id), what[300], host[256];
    json_t *info = NULL;
    long pid = 0;
    int err = rp && ap ? 0 : -ENOMEM;

    snprintf(what, sizeof what, "sweep: item %s of library %s", id, lib);
    if (!err)
        err = vs_rest(c, "GET", rp, ap, NULL, NULL, what, &info);
    const char *desc = json_string_value(json_object_get(info, "description"));
    const char *name = json_string_value(json_object_get(info, "name"));
    if (!err && desc && cfs_marker_stale(desc, self, now)) {
        cfs_marker_who(desc, host, &pid);
        err = vs_rest(c, "DELETE", rp, ap, NULL, NULL, what, NULL);
        if (!err)
            cfs_log_warn("vsphere: %s: removed item %s of library %s, left half-made by the "
                         "upload of cloudfs %ld on %s",
                         c->base.name, name ? name : id, lib, pid, host);
    }
    json_decref(info);
    free(rp);
    free(ap);
    return err == -ENOENT ? 0 : err; /* deleted meanwhile */
}

/* The marker in a description ("...\ncloudfs-upload:v1:..."), if stale. */
static bool stale_in(const char *desc, const struct cfs_marker_self *self, time_t now,
                     char marker[CFS_MARKER_MAX])
{
    const char *m = desc ? strstr(desc, "cloudfs-upload:v1:") : NULL;
    size_t n = m ? strcspn(m, " \t\r\n") : 0;
    if (!m || n >= CFS_MARKER_MAX)
        return false;
    memcpy(marker, m, n);
    marker[n] = '\0';
    return cfs_marker_stale(marker, self, now);
}

struct snaps {
    struct vs_cloud *c;
    const struct cfs_marker_self *self;
    time_t now;
    int err;
};

/* A VirtualMachineSnapshotTree and its children. */
static void sweep_tree(struct snaps *sw, const char *vm, xmlNodePtr tree, unsigned depth)
{
    char marker[CFS_MARKER_MAX], host[256];
    long pid = 0;
    if (depth > 64)
        return; /* a hostile tree */
    char *desc = cfs_xml_text(cfs_xml_child(tree, NULL, "description"));
    char *snap = cfs_xml_text(cfs_xml_child(tree, NULL, "snapshot"));
    char *name = cfs_xml_text(cfs_xml_child(tree, NULL, "name"));
    if (snap && stale_in(desc, sw->self, sw->now, marker)) {
        cfs_marker_who(marker, host, &pid);
        if (vs_snapshot_remove(sw->c, snap) == 0)
            cfs_log_warn("vsphere: %s: removed snapshot %s of VM %s, left by cloudfs %ld on %s",
                         sw->c->base.name, name ? name : snap, vm, pid, host);
    }
    free(desc);
    free(snap);
    free(name);
    for (xmlNodePtr t = cfs_xml_child(tree, NULL, "childSnapshotList"); t;
         t = cfs_xml_next(t, NULL, "childSnapshotList"))
        sweep_tree(sw, vm, t, depth + 1);
}

static int vm_snapshots(void *ctx, xmlNodePtr objects)
{
    struct snaps *sw = ctx;
    xmlNodePtr info = vs_prop(objects, "snapshot");
    char *vm = cfs_xml_text(vs_prop(objects, "name"));
    for (xmlNodePtr t = cfs_xml_child(info, NULL, "rootSnapshotList"); t;
         t = cfs_xml_next(t, NULL, "rootSnapshotList"))
        sweep_tree(sw, vm ? vm : "?", t, 0);
    free(vm);
    return 0;
}

int vs_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self)
{
    static const char *const paths[] = { "name", "snapshot", NULL };
    struct vs_cloud *c = (struct vs_cloud *)cloud;
    struct cfs_object_list libs;
    time_t now = time(NULL);
    struct snaps sw = { .c = c, .self = self, .now = now };
    int serr = vs_each_vm(c, paths, "sweep: snapshots", vm_snapshots, &sw);

    /* A vCenter without content libraries (the REST API) has none to sweep. */
    int err = vs_list_libraries(c, &libs);
    if (err)
        return err == -ENOTSUP ? serr : err;

    for (size_t i = 0; !err && i < libs.n; i++) {
        const char *lid = libs.v[i].id;
        char *rp = cfs_printf("/com/vmware/content/library/item?library_id=%s", lid);
        char *ap = cfs_printf("/content/library/item?library_id=%s", lid);
        json_t *ids = NULL, *v;
        size_t k;
        err = rp && ap ? vs_rest(c, "GET", rp, ap, NULL, NULL, "sweep: list items", &ids) : -ENOMEM;
        json_array_foreach (ids, k, v)
            if (!err && vs_id_ok(json_string_value(v)))
                err = sweep_item(c, libs.v[i].name, json_string_value(v), self, now);
        json_decref(ids);
        free(rp);
        free(ap);
    }
    cfs_object_list_free(&libs);
    return err ? err : serr;
}
