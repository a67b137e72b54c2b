/* A powered-on VM's disks change while they are read: the open takes a
 * snapshot (CreateSnapshot_Task, memory and quiescing off: a crash-
 * consistent disk, as after a power cut) and reads the disk files the
 * snapshot's own configuration names, which no longer change (a real
 * vCenter moves the running VM onto a -000001 delta). Every file of the
 * VM opened meanwhile shares it; the last close removes it. */
#define _GNU_SOURCE
#include "log.h"
#include "package.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_S 600

struct vs_snap {
    struct vs_snap *next;
    char *vm, *snap; /* morefs; snap NULL until taken */
    unsigned refs;
    bool busy; /* being taken or removed: others wait */
    struct vs_disk disks[VS_MAX_DISKS];
    size_t n_disks;
};

struct vs_snaps {
    struct vs_snap *head;
};

static void snap_free(struct vs_snap *s)
{
    for (size_t i = 0; i < s->n_disks; i++)
        free(s->disks[i].file);
    free(s->vm);
    free(s->snap);
    free(s);
}

static struct vs_snap **find(struct vs_cloud *c, const char *vm)
{
    struct vs_snap **pp = &c->snaps->head;
    while (*pp && strcmp((*pp)->vm, vm) != 0)
        pp = &(*pp)->next;
    return pp;
}

static unsigned timeout_of(const struct vs_cloud *c)
{
    const struct cfs_prepare *p = c->base.prepare;
    return p && p->timeout_s ? p->timeout_s : DEFAULT_TIMEOUT_S;
}

static void cancel_task(struct vs_cloud *c, const char *task)
{
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret;
    if (vs_call_new(&call, "CancelTask", "Task", task))
        return;
    if (!vs_soap(c, &call, "CancelTask", false, &resp, &ret))
        xmlFreeDoc(resp);
    vs_call_free(&call);
}

/* The moref of the snapshot of vm named name, in its tree, or NULL. */
static char *find_in(xmlNodePtr list, const char *name, unsigned depth)
{
    char *hit = NULL;
    for (xmlNodePtr t = list; t && !hit && depth < 64; t = cfs_xml_next(t, NULL, (char *)t->name)) {
        char *n = cfs_xml_text(cfs_xml_child(t, NULL, "name"));
        if (n && !strcmp(n, name))
            hit = cfs_xml_text(cfs_xml_child(t, NULL, "snapshot"));
        free(n);
        if (!hit)
            hit = find_in(cfs_xml_child(t, NULL, "childSnapshotList"), name, depth + 1);
    }
    return hit;
}

static char *find_by_name(struct vs_cloud *c, const char *vm, const char *name)
{
    static const char *const paths[] = { "snapshot", NULL };
    xmlDocPtr resp;
    xmlNodePtr o;
    if (vs_retrieve(c, "VirtualMachine", vm, paths, "the VM's snapshots", &resp, &o))
        return NULL;
    char *hit = find_in(cfs_xml_child(vs_prop(o, "snapshot"), NULL, "rootSnapshotList"), name, 0);
    xmlFreeDoc(resp);
    return hit;
}

/* Takes the snapshot and reads its disks into s. */
static int take(struct vs_cloud *c, struct vs_snap *s, const char *label)
{
    char desc[CFS_MARKER_MAX + 200];
    static const char *const paths[] = { "config.hardware.device", NULL };
    const struct cfs_prepare *prep = c->base.prepare;
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret, o;
    char name[64], *task = NULL, *path = NULL;
    void *xfer = NULL;
    double t0 = cfs_now();
    int err;

    snprintf(name, sizeof name, "cloudfs-%lld", (long long)time(NULL));
    snprintf(desc, sizeof desc,
             "taken by cloudfs to read the disks of a running VM; removed when the last file "
             "that reads them closes\n%s",
             c->marker);
    if ((err = vs_call_new(&call, "CreateSnapshot_Task", "VirtualMachine", s->vm)))
        return err;
    if (!vs_add(call.method, "name", name) || !vs_add(call.method, "description", desc) ||
        !vs_add(call.method, "memory", "false") || !vs_add(call.method, "quiesce", "false"))
        err = -ENOMEM;
    if (!err && prep && prep->begin && (path = cfs_printf("/%s/vms/%s", c->base.name, label)))
        xfer = prep->begin(path);
    if (!err && !(err = vs_soap(c, &call, "CreateSnapshot_Task", false, &resp, &ret))) {
        task = cfs_xml_text(ret);
        xmlFreeDoc(resp);
        if (!task)
            cfs_log_error("vsphere: %s: %s: CreateSnapshot_Task returned no task", c->base.name,
                          label);
        err = task ? 0 : -EPROTO;
    }
    vs_call_free(&call);
    if (!err) {
        err = vs_wait_task(c, task, timeout_of(c), "snapshot", &s->snap);
        /* A task that ran out of time may still make it; one that said
         * nothing of its result may have: find it by name, to remove it. */
        if (err == -ETIMEDOUT)
            cancel_task(c, task);
        if ((err == -ETIMEDOUT || (!err && !s->snap)) && !s->snap)
            s->snap = find_by_name(c, s->vm, name);
        if (!err && !s->snap) {
            cfs_log_error("vsphere: %s: %s: the snapshot task named no snapshot", c->base.name,
                          label);
            err = -EPROTO;
        }
    }
    if (!err && !(err = vs_retrieve(c, "VirtualMachineSnapshot", s->snap, paths,
                                    "the snapshot's disks", &resp, &o))) {
        err = vs_devices_disks(vs_prop(o, "config.hardware.device"), s->disks, &s->n_disks);
        xmlFreeDoc(resp);
    }
    if (prep && prep->end)
        prep->end(xfer, err);
    if (!err)
        cfs_log_info("vsphere: %s: %s is running: snapshot %s taken in %.1f s to read it",
                     c->base.name, label, name, cfs_now() - t0);
    free(task);
    free(path);
    return err;
}

int vs_snapshot_remove(struct vs_cloud *c, const char *snap)
{
    struct vs_call call;
    xmlDocPtr resp;
    xmlNodePtr ret;
    char *task = NULL;
    int err = vs_call_new(&call, "RemoveSnapshot_Task", "VirtualMachineSnapshot", snap);
    if (err)
        return err;
    if (!vs_add(call.method, "removeChildren", "false") ||
        !vs_add(call.method, "consolidate", "true"))
        err = -ENOMEM;
    if (!err && !(err = vs_soap(c, &call, "RemoveSnapshot_Task", false, &resp, &ret))) {
        task = cfs_xml_text(ret);
        xmlFreeDoc(resp);
        err = task ? vs_wait_task(c, task, timeout_of(c), "snapshot removal", NULL) : -EPROTO;
    }
    vs_call_free(&call);
    free(task);
    return err;
}

int vs_snapshot_hold(struct vs_cloud *c, const char *moref, const char *label, size_t disk,
                     char **ds_path)
{
    struct vs_snap *s;
    int err = 0;

    *ds_path = NULL;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        s = *find(c, moref);
        if (!s || !s->busy)
            break;
        pthread_cond_wait(&c->cond, &c->lock);
    }
    if (s) {
        s->refs++;
    } else if (!(s = calloc(1, sizeof *s)) || !(s->vm = strdup(moref))) {
        free(s);
        pthread_mutex_unlock(&c->lock);
        return -ENOMEM;
    } else {
        s->refs = 1;
        s->busy = true;
        s->next = c->snaps->head;
        c->snaps->head = s;
        pthread_mutex_unlock(&c->lock);
        err = take(c, s, label);
        pthread_mutex_lock(&c->lock);
        s->busy = false;
        pthread_cond_broadcast(&c->cond);
        if (err) {
            struct vs_snap **pp = find(c, moref);
            *pp = s->next;
            pthread_mutex_unlock(&c->lock);
            if (s->snap) /* taken, but its disks could not be read */
                vs_snapshot_remove(c, s->snap);
            snap_free(s);
            return err;
        }
    }
    if (disk < s->n_disks && s->disks[disk].file)
        *ds_path = strdup(s->disks[disk].file);
    pthread_mutex_unlock(&c->lock);
    if (!*ds_path) {
        vs_snapshot_release(c, moref);
        cfs_log_error("vsphere: %s: %s: the snapshot has no disk %zu", c->base.name, label,
                      disk + 1);
        return -ENOENT;
    }
    return 0;
}

void vs_snapshot_release(struct vs_cloud *c, const char *moref)
{
    pthread_mutex_lock(&c->lock);
    struct vs_snap *s = *find(c, moref);
    if (!s || --s->refs > 0) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    s->busy = true;
    pthread_mutex_unlock(&c->lock);
    int err = vs_snapshot_remove(c, s->snap);
    if (err)
        cfs_log_warn("vsphere: %s: snapshot %s of VM %s could not be removed: remove it in "
                     "the vSphere Client",
                     c->base.name, s->snap, s->vm);
    else
        cfs_log_info("vsphere: %s: snapshot %s of VM %s removed", c->base.name, s->snap, s->vm);
    pthread_mutex_lock(&c->lock);
    struct vs_snap **pp = find(c, moref);
    *pp = s->next;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    snap_free(s);
}

int vs_snapshots_init(struct vs_cloud *c)
{
    c->snaps = calloc(1, sizeof *c->snaps);
    return c->snaps ? 0 : -ENOMEM;
}

void vs_snapshots_free(struct vs_cloud *c)
{
    if (!c->snaps)
        return;
    for (struct vs_snap *s = c->snaps->head, *n; s; s = n) {
        n = s->next;
        if (s->snap && vs_snapshot_remove(c, s->snap) == 0)
            cfs_log_info("vsphere: %s: snapshot %s of VM %s removed at unmount", c->base.name,
                         s->snap, s->vm);
        snap_free(s);
    }
    free(c->snaps);
    c->snaps = NULL;
}

/* The snapshot is released by the last close of the file read from it. */
struct held {
    struct vs_cloud *c;
    char *vm;
};

static void held_release(void *ctx)
{
    struct held *h = ctx;
    vs_snapshot_release(h->c, h->vm);
    free(h->vm);
    free(h);
}

int vs_snapshot_source(struct vs_cloud *c, const char *moref, struct cfs_source *inner,
                       struct cfs_source **out)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h || !(h->vm = strdup(moref))) {
        free(h);
        return -ENOMEM;
    }
    h->c = c;
    int err = cfs_hook_source_open(inner, held_release, h, out);
    if (err) {
        free(h->vm);
        free(h);
    }
    return err;
}
