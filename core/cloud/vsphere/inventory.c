/* The inventory through the PropertyCollector: the datacenter, and every
 * VM of it with the properties vms/ shows, in pages, through one
 * ContainerView (what govc and pyVmomi's samples do: one round trip per
 * 100 VMs, not one per VM). Tasks are waited for by polling their info. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_OBJECTS "100"

static const char *const vm_paths[] = {
    "name",
    "runtime.powerState",
    "config.hardware.numCPU",
    "config.hardware.numCoresPerSocket",
    "config.hardware.memoryMB",
    "config.hardware.device",
    "config.guestId",
    "config.firmware",
    "config.bootOptions.efiSecureBootEnabled",
    "config.modified",
    NULL,
};

static int prop_spec(xmlNodePtr spec, const char *type, const char *const *paths)
{
    xmlNodePtr ps = vs_add(spec, "propSet", NULL);
    if (!vs_add(ps, "type", type))
        return -ENOMEM;
    for (size_t i = 0; paths[i]; i++)
        if (!vs_add(ps, "pathSet", paths[i]))
            return -ENOMEM;
    return 0;
}

/* A RetrievePropertiesEx call on the PropertyCollector, its specSet in
 * *spec for the caller to fill. */
static int retrieve_call(struct vs_cloud *c, struct vs_call *call, xmlNodePtr *spec)
{
    int err = vs_login(c, 0); /* the collector's moref comes with the session */
    if (!err)
        err = vs_call_new(call, "RetrievePropertiesEx", "PropertyCollector", c->property_collector);
    if (err)
        return err;
    *spec = vs_add(call->method, "specSet", NULL);
    if (!*spec) {
        vs_call_free(call);
        return -ENOMEM;
    }
    return 0;
}

static int add_options(struct vs_call *call)
{
    xmlNodePtr o = vs_add(call->method, "options", NULL);
    return vs_add(o, "maxObjects", PAGE_OBJECTS) ? 0 : -ENOMEM;
}

int vs_retrieve(struct vs_cloud *c, const char *type, const char *moref, const char *const *paths,
                const char *what, xmlDocPtr *resp, xmlNodePtr *objects)
{
    struct vs_call call;
    xmlNodePtr spec, ret;
    int err;

    *objects = NULL;
    if ((err = retrieve_call(c, &call, &spec)))
        return err;
    if (!(err = prop_spec(spec, type, paths))) {
        xmlNodePtr os = vs_add(spec, "objectSet", NULL);
        err = vs_add_ref(os, "obj", type, moref) && !add_options(&call) ? 0 : -ENOMEM;
    }
    if (!err)
        err = vs_soap(c, &call, what, true, resp, &ret);
    vs_call_free(&call);
    if (err)
        return err;
    *objects = cfs_xml_child(ret, NULL, "objects");
    if (!*objects) {
        cfs_log_error("vsphere: %s: %s: %s %s is gone", c->base.name, what, type, moref);
        xmlFreeDoc(*resp);
        *resp = NULL;
        return -ENOENT;
    }
    return 0;
}

typedef int (*object_fn)(void *ctx, xmlNodePtr objects);

static int each_object(xmlNodePtr ret, object_fn fn, void *ctx, char **token)
{
    int err = 0;
    for (xmlNodePtr o = cfs_xml_child(ret, NULL, "objects"); o && !err;
         o = cfs_xml_next(o, NULL, "objects"))
        err = fn(ctx, o);
    *token = cfs_xml_text(cfs_xml_child(ret, NULL, "token"));
    return err;
}

/* Every object of type under container (recursively), paths of each, to
 * fn; all pages. */
static int view_retrieve(struct vs_cloud *c, const char *container_type, const char *container,
                         const char *type, const char *const *paths, const char *what, object_fn fn,
                         void *ctx)
{
    struct vs_call call;
    xmlDocPtr resp = NULL;
    xmlNodePtr ret, spec;
    char *view = NULL, *token = NULL;
    int err;

    if ((err = vs_login(c, 0)) ||
        (err = vs_call_new(&call, "CreateContainerView", "ViewManager", c->view_manager)))
        return err;
    if (!vs_add_ref(call.method, "container", container_type, container) ||
        !vs_add(call.method, "type", type) || !vs_add(call.method, "recursive", "true"))
        err = -ENOMEM;
    if (!err)
        err = vs_soap(c, &call, what, true, &resp, &ret);
    vs_call_free(&call);
    if (err)
        return err;
    view = cfs_xml_text(ret);
    xmlFreeDoc(resp);
    if (!view) {
        cfs_log_error("vsphere: %s: %s: CreateContainerView returned no view", c->base.name, what);
        return -EPROTO;
    }

    if (!(err = retrieve_call(c, &call, &spec)) && !(err = prop_spec(spec, type, paths))) {
        xmlNodePtr os = vs_add(spec, "objectSet", NULL);
        xmlNodePtr sel = vs_add_ref(os, "obj", "ContainerView", view) && vs_add(os, "skip", "true")
                             ? vs_add(os, "selectSet", NULL)
                             : NULL;
        vs_set_type(sel, "TraversalSpec");
        if (!vs_add(sel, "name", "view") || !vs_add(sel, "type", "ContainerView") ||
            !vs_add(sel, "path", "view") || !vs_add(sel, "skip", "false") || add_options(&call))
            err = -ENOMEM;
        if (!err && !(err = vs_soap(c, &call, what, true, &resp, &ret))) {
            err = each_object(ret, fn, ctx, &token);
            xmlFreeDoc(resp);
        }
        vs_call_free(&call);
    }
    /* CFS_LIST_MAX objects at most, in pages of PAGE_OBJECTS: a server that
     * pages on for ever is cut off. */
    for (unsigned pages = 1; !err && token; pages++) {
        if (pages > CFS_LIST_MAX / 100) {
            cfs_log_error("vsphere: %s: %s: more than %u pages: cut off", c->base.name, what,
                          pages - 1);
            err = -EFBIG;
            break;
        }
        if (!(err = vs_call_new(&call, "ContinueRetrievePropertiesEx", "PropertyCollector",
                                c->property_collector))) {
            err = vs_add(call.method, "token", token) ? 0 : -ENOMEM;
            free(token);
            token = NULL;
            if (!err && !(err = vs_soap(c, &call, what, true, &resp, &ret))) {
                err = each_object(ret, fn, ctx, &token);
                xmlFreeDoc(resp);
            }
            vs_call_free(&call);
        }
    }
    free(token);
    /* Views live as long as the session: drop this one now. */
    if (!vs_call_new(&call, "DestroyView", "ContainerView", view)) {
        if (!vs_soap(c, &call, "DestroyView", false, &resp, &ret))
            xmlFreeDoc(resp);
        vs_call_free(&call);
    }
    free(view);
    return err;
}

struct dcs {
    struct vs_cloud *c;
    char *moref, *name;
    unsigned seen;
    char names[512];
};

static int dc_object(void *ctx, xmlNodePtr o)
{
    struct dcs *d = ctx;
    char *name = cfs_xml_text(vs_prop(o, "name")),
         *moref = cfs_xml_text(cfs_xml_child(o, NULL, "obj"));
    size_t n = strlen(d->names);
    if (name && moref) {
        d->seen++;
        snprintf(d->names + n, sizeof d->names - n, "%s%s", n ? ", " : "", name);
        if (!d->moref && (!d->c->datacenter || !strcmp(d->c->datacenter, name))) {
            d->moref = moref, moref = NULL;
            d->name = name, name = NULL;
        }
    }
    free(name);
    free(moref);
    return 0;
}

/* The datacenter's inventory path, what /folder's dcPath= wants: its
 * name, after the folders it is in ("Europe/DC1"), each escaped. */
static int dc_path(struct vs_cloud *c, const char *moref, const char *name, char **out)
{
    static const char *const paths[] = { "name", "parent", NULL };
    char *path = cfs_url_escape(name), *obj = strdup(moref), *type = strdup("Datacenter");
    int err = path && obj && type ? 0 : -ENOMEM;

    for (unsigned depth = 0; !err; depth++) {
        xmlDocPtr resp;
        xmlNodePtr o;
        if (depth > 32) {
            cfs_log_error("vsphere: %s: the datacenter's folders nest too deep", c->base.name);
            err = -EPROTO;
            break;
        }
        if ((err = vs_retrieve(c, type, obj, paths, "the datacenter's folder", &resp, &o)))
            break;
        xmlNodePtr parent = vs_prop(o, "parent");
        char *pmoref = cfs_xml_text(parent), *ptype = cfs_xml_attr(parent, "type");
        xmlFreeDoc(resp);
        bool top = !pmoref || !strcmp(pmoref, c->root_folder);
        char *pname = NULL;
        if (!top && ptype && !strcmp(ptype, "Folder") &&
            !(err =
                  vs_retrieve(c, "Folder", pmoref, paths, "the datacenter's folder", &resp, &o))) {
            char *raw = cfs_xml_text(vs_prop(o, "name"));
            pname = raw ? cfs_url_escape(raw) : NULL;
            free(raw);
            xmlFreeDoc(resp);
            char *longer = pname ? cfs_printf("%s/%s", pname, path) : NULL;
            free(path);
            path = longer;
            err = path ? 0 : -ENOMEM;
        }
        free(pname);
        free(obj);
        free(type);
        obj = pmoref;
        type = ptype;
        if (top || err)
            break;
        if (!type || strcmp(type, "Folder")) {
            cfs_log_error("vsphere: %s: the datacenter is in a %s, not a folder", c->base.name,
                          type ? type : "parent of no type");
            err = -EPROTO;
        }
    }
    free(obj);
    free(type);
    if (err)
        free(path);
    else
        *out = path;
    return err;
}

int vs_datacenter(struct vs_cloud *c)
{
    static const char *const paths[] = { "name", NULL };
    struct dcs d = { .c = c };
    int err;

    pthread_mutex_lock(&c->lock);
    bool known = c->dc_moref != NULL;
    pthread_mutex_unlock(&c->lock);
    if (known)
        return 0;
    if ((err = vs_login(c, 0)))
        return err;
    err = view_retrieve(c, "Folder", c->root_folder, "Datacenter", paths, "list datacenters",
                        dc_object, &d);
    if (!err && (!d.moref || (!c->datacenter && d.seen > 1))) {
        if (c->datacenter)
            cfs_log_error("vsphere: %s: no datacenter named %s (there %s: %s)", c->base.name,
                          c->datacenter, d.seen == 1 ? "is" : "are", d.seen ? d.names : "none");
        else
            cfs_log_error("vsphere: %s: %s datacenters (%s): say which with datacenter:",
                          c->base.name, d.seen ? "several" : "no", d.names);
        /* Not ENOENT: ls takes that from readdir for an empty directory. */
        err = -ENXIO;
    }
    char *path = NULL;
    if (!err)
        err = dc_path(c, d.moref, d.name, &path);
    if (!err) {
        pthread_mutex_lock(&c->lock);
        if (!c->dc_moref) {
            c->dc_moref = d.moref, d.moref = NULL;
            c->dc_path = path, path = NULL;
        }
        pthread_mutex_unlock(&c->lock);
    }
    free(path);
    free(d.moref);
    free(d.name);
    return err;
}

struct vms {
    struct vs_vm *v;
    size_t n, cap;
};

static int vm_object(void *ctx, xmlNodePtr o)
{
    struct vms *l = ctx;
    if (l->n >= CFS_LIST_MAX)
        return -EFBIG; /* logged by the pages' bound first */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct vs_vm *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v, l->cap = cap;
    }
    int err = vs_vm_parse(o, &l->v[l->n]);
    if (err) {
        vs_vm_free(&l->v[l->n]);
        return err == -ENOMEM ? err : 0; /* an inaccessible VM is not listed */
    }
    l->n++;
    return 0;
}

int vs_vms(struct vs_cloud *c, struct vs_vm **out, size_t *n)
{
    struct vms l = { 0 };
    int err = vs_datacenter(c);
    if (!err)
        err = view_retrieve(c, "Datacenter", c->dc_moref, "VirtualMachine", vm_paths, "list VMs",
                            vm_object, &l);
    if (err) {
        for (size_t i = 0; i < l.n; i++)
            vs_vm_free(&l.v[i]);
        free(l.v);
        return err;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

int vs_each_vm(struct vs_cloud *c, const char *const *paths, const char *what,
               int (*fn)(void *ctx, xmlNodePtr objects), void *ctx)
{
    int err = vs_datacenter(c);
    return err ? err
               : view_retrieve(c, "Datacenter", c->dc_moref, "VirtualMachine", paths, what, fn,
                               ctx);
}

int vs_vm_state(struct vs_cloud *c, const char *moref, char **power_state)
{
    static const char *const paths[] = { "runtime.powerState", NULL };
    xmlDocPtr resp;
    xmlNodePtr o;
    int err = vs_retrieve(c, "VirtualMachine", moref, paths, "power state", &resp, &o);
    if (err)
        return err;
    *power_state = cfs_xml_text(vs_prop(o, "runtime.powerState"));
    xmlFreeDoc(resp);
    if (!*power_state)
        cfs_log_error("vsphere: %s: VM %s has no power state", c->base.name, moref);
    return *power_state ? 0 : -EPROTO;
}

int vs_wait_task(struct vs_cloud *c, const char *task, unsigned timeout_s, const char *what,
                 char **result)
{
    static const char *const paths[] = { "info.state", "info.error", "info.result", NULL };
    double end = cfs_now() + timeout_s, pause = 0.2;

    if (result)
        *result = NULL;
    for (;;) {
        xmlDocPtr resp;
        xmlNodePtr o;
        int err = vs_retrieve(c, "Task", task, paths, what, &resp, &o);
        if (err)
            return err;
        char *state = cfs_xml_text(vs_prop(o, "info.state"));
        if (state && !strcmp(state, "success")) {
            if (result)
                *result = cfs_xml_text(vs_prop(o, "info.result"));
        } else if (state && !strcmp(state, "error")) {
            xmlNodePtr e = vs_prop(o, "info.error");
            char *kind = vs_xsi_type(cfs_xml_child(e, NULL, "fault"));
            char *msg = cfs_xml_text(cfs_xml_child(e, NULL, "localizedMessage"));
            cfs_log_error("vsphere: %s: %s: the task failed: %s%s%s", c->base.name, what,
                          kind ? kind : "error", msg && *msg ? ": " : "", msg ? msg : "");
            err = kind && strstr(kind, "InvalidPowerState") ? -EBUSY
                  : kind && strstr(kind, "NoPermission")    ? -EACCES
                  : kind && strstr(kind, "NoDiskSpace")     ? -ENOSPC
                                                            : -EIO;
            free(kind);
            free(msg);
        } else if (cfs_now() >= end) {
            cfs_log_error("vsphere: %s: %s: the task did not end within %u s", c->base.name, what,
                          timeout_s);
            err = -ETIMEDOUT;
        } else {
            free(state);
            xmlFreeDoc(resp);
            cfs_sleep(pause);
            pause = pause < 2 ? pause * 2 : 2;
            continue;
        }
        free(state);
        xmlFreeDoc(resp);
        return err;
    }
}
