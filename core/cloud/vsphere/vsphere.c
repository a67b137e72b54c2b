/* The vSphere provider: a cloud of cloudfs.yaml with type "vsphere" (a
 * vCenter). vms/ shows every VM of the datacenter as its disks: the
 * first as <vm>, the others as <vm>-disk<N>, each with the extension of
 * what the datastore holds (raw for a flat extent, vmdk for a hosted
 * sparse file) and the views of any image; the VM's hardware rides along
 * as user.cloudfs.props.* for the .ovf view and copies into Glance. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "views.h"
#include "vsphere.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *str(const struct cfs_cloud_config *cfg, const char *key)
{
    const char *v = cfs_cloud_str(cfg, key);
    return v && *v ? v : NULL;
}

static void vs_destroy(struct cfs_cloud *cloud)
{
    struct vs_cloud *c = (struct vs_cloud *)cloud;
    if (!c)
        return;
    vs_snapshots_free(c);
    vs_logout(c);
    vs_session_clear(c);
    vs_rest_clear(c);
    if (c->password)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c->base.name);
    free(c->base.scope);
    free(c->url);
    free(c->user);
    free(c->datacenter);
    free(c->datastore);
    free(c->folder);
    free(c->resource_pool);
    free(c->cacert);
    free(c->dc_moref);
    free(c->dc_path);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

static int dup_opt(const struct cfs_cloud_config *cfg, const char *key, char **out)
{
    const char *v = str(cfg, key);
    return !v || (*out = strdup(v)) ? 0 : -ENOMEM;
}

static int configure(struct vs_cloud *c, const struct cfs_cloud_config *cfg)
{
    const char *user = str(cfg, "user");
    const char *pw = str(cfg, "password"), *pw_file = str(cfg, "password_file");
    struct cfs_endpoint ep;
    int err;

    if (!str(cfg, "url") || !user || (!pw && !pw_file)) {
        cfs_log_error("vsphere: %s: url, user and password (or password_file) are needed",
                      cfg->name);
        return -EINVAL;
    }
    if ((err = cfs_cloud_endpoint(cfg, "vsphere", "/sdk", &ep)))
        return err;
    c->url = ep.url;
    c->cacert = ep.cacert;
    c->tls.verify = ep.verify;
    c->tls.cacert = c->cacert;
    if ((err = dup_opt(cfg, "datacenter", &c->datacenter)) ||
        (err = dup_opt(cfg, "datastore", &c->datastore)) ||
        (err = dup_opt(cfg, "folder", &c->folder)) ||
        (err = dup_opt(cfg, "resource_pool", &c->resource_pool)))
        return err;
    if (!(c->user = strdup(user)))
        return -ENOMEM;
    /* One vCenter, one user: the same objects. */
    if (!(c->base.scope = cfs_printf("vsphere\x1f%s\x1f%s", c->url, user)))
        return -ENOMEM;
    if ((err = vs_snapshots_init(c)))
        return err;
    struct cfs_marker_self self;
    if ((err = cfs_marker_self_init(&self, 0)))
        return err;
    cfs_marker_format(&self, c->marker);
    if (pw_file && !pw)
        return cfs_cloud_password_file(cfg, "vsphere", pw_file, &c->password);
    return (c->password = strdup(pw)) ? 0 : -ENOMEM;
}

static int vs_create(const struct cfs_cloud_config *cfg, struct cfs_cloud **out)
{
    struct vs_cloud *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->auth.header = vs_auth_header;
    c->base.name = strdup(cfg->name);
    int err = c->base.name ? configure(c, cfg) : -ENOMEM;
    if (err) {
        vs_destroy(&c->base);
        return err;
    }
    *out = &c->base;
    return 0;
}

bool vs_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return n > 0 && n < 64;
}

static int add_disk(struct vs_cloud *c, const struct vs_vm *vm, size_t d,
                    struct cfs_object_list *out, size_t *cap)
{
    const struct vs_disk *disk = &vm->disks[d];
    struct cfs_object o = { 0 };
    struct vs_extent x;
    char label[600];
    int err;

    if (!disk->file)
        return 0; /* an RDM or a disk with no file: nothing to read */
    snprintf(label, sizeof label, "vms/%s disk %zu", vm->name, d + 1);
    if ((err = vs_extent_probe(c, disk->file, label, &x)))
        return err == -ENOMEM ? err : 0; /* logged; the other disks are still there */
    o.name = d ? cfs_printf("%s-disk%zu", vm->name, d + 1) : strdup(vm->name);
    o.id = d ? cfs_printf("%s-disk%zu", vm->moref, d + 1) : strdup(vm->moref);
    o.ext = strdup(x.ext);
    o.size = x.size;
    o.mtime = o.ctime = vm->mtime;
    o.hw.cpus = vm->info.vm.cpus;
    o.hw.memory_mb = vm->info.vm.memory_mb < 1u << 30 ? (unsigned)vm->info.vm.memory_mb : 0;
    o.hw.disk_gb = (unsigned)((disk->capacity >> 30) + !!(disk->capacity & ((1ull << 30) - 1)));
    err = o.name && o.id && o.ext ? 0 : -ENOMEM;
    if (!err)
        err = cfs_object_add_xattr(&o, "user.vsphere.moref", vm->moref);
    if (!err)
        err = cfs_object_add_xattr(&o, "user.vsphere.file", disk->file);
    if (!err && vm->power_state)
        err = cfs_object_add_xattr(&o, "user.vsphere.power_state", vm->power_state);
    if (!err && vm->info.vm.os_type)
        err = cfs_object_add_xattr(&o, "user.vsphere.guest_id", vm->info.vm.os_type);
    if (!err)
        err = cfs_object_add_hw(&o, &vm->info, d);
    if (!err)
        err = cfs_object_list_add(out, cap, &o);
    if (err)
        cfs_object_clear(&o);
    vs_extent_free(&x);
    return err;
}

static int list_vms(struct vs_cloud *c, struct cfs_object_list *out)
{
    struct vs_vm *vms = NULL;
    size_t n = 0, cap = 0;
    int err = vs_vms(c, &vms, &n);

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (!err && !vs_id_ok(vms[i].moref))
            cfs_log_warn("vsphere: %s: VM %s has an unusable id, skipped", c->base.name,
                         vms[i].name);
        else
            for (size_t d = 0; !err && d < vms[i].n_disks; d++)
                err = add_disk(c, &vms[i], d, out, &cap);
        vs_vm_free(&vms[i]);
    }
    free(vms);
    if (err)
        cfs_object_list_free(out);
    return err;
}

/* "libraries/<lib>" -> "<lib>", else NULL (a name may hold '/' itself). */
static const char *library_of(const char *dir)
{
    if (strncmp(dir, "libraries/", 10) != 0 || !dir[10])
        return NULL;
    return dir + 10;
}

static int vs_list(struct cfs_cloud *cloud, const char *dir, struct cfs_object_list *out)
{
    struct vs_cloud *c = (struct vs_cloud *)cloud;
    if (strcmp(dir, "libraries") == 0)
        return vs_list_libraries(c, out);
    if (library_of(dir))
        return vs_list_library(c, library_of(dir), out);
    if (strcmp(dir, "vms") != 0)
        return -ENOENT;
    return list_vms(c, out);
}

/* Disk number (0-based) of a listed object: its id is <moref>-disk<N>. */
static size_t disk_of(const struct cfs_object *obj, const char *moref)
{
    const char *p = obj->id + strlen(moref);
    return strncmp(p, "-disk", 5) == 0 ? (size_t)strtoul(p + 5, NULL, 10) - 1 : 0;
}

static int vs_open(struct cfs_cloud *cloud, const char *dir, const struct cfs_object *obj,
                   unsigned flags, struct cfs_source **out)
{
    struct vs_cloud *c = (struct vs_cloud *)cloud;
    const char *moref = cfs_object_xattr(obj, "user.vsphere.moref");
    const char *file = cfs_object_xattr(obj, "user.vsphere.file");
    char label[600], *state = NULL, *snap_file = NULL;
    struct vs_extent x;
    int err;

    (void)flags;
    if (library_of(dir) && !obj->is_dir)
        return vs_library_open(c, obj, out);
    if (strcmp(dir, "vms") != 0 || !moref || !file)
        return -ENOENT;
    snprintf(label, sizeof label, "vms/%s", obj->name);
    if ((err = vs_vm_state(c, moref, &state)))
        return err;
    bool running = strcmp(state, "poweredOff") != 0;
    free(state);
    if (running) {
        err = vs_snapshot_hold(c, moref, obj->name, disk_of(obj, moref), &snap_file);
        if (err)
            return err;
        file = snap_file;
    }
    err = vs_extent_probe(c, file, label, &x);
    if (!err && x.delta) {
        /* Its base would be the disk as of the oldest snapshot: not what
         * the user sees in vSphere. */
        cfs_log_error("vsphere: %s: %s: the disk%s is a delta (the VM has snapshots): reading "
                      "delta disks is not supported yet; delete or consolidate its snapshots",
                      c->base.name, label, running ? " as of the snapshot" : "");
        err = -ENOTSUP;
    }
    if (!err && x.size != obj->size) {
        cfs_log_error("vsphere: %s: %s: the disk is %llu bytes now, not %llu as listed",
                      c->base.name, label, (unsigned long long)x.size,
                      (unsigned long long)obj->size);
        err = -EIO;
    }
    if (!err)
        err = vs_extent_open(c, &x, label, out);
    vs_extent_free(&x);
    if (running) {
        struct cfs_source *inner = *out;
        if (!err && (err = vs_snapshot_source(c, moref, inner, out)))
            inner->ops->close(inner);
        if (err)
            vs_snapshot_release(c, moref);
        free(snap_file);
    }
    return err;
}

static int vs_can_put(struct cfs_cloud *cloud, const char *dir)
{
    char *id = NULL;
    bool subscribed = false;
    if (strcmp(dir, "libraries") == 0)
        return -EPERM; /* libraries are made by administrators, not by mkdir */
    if (!library_of(dir))
        return -EROFS;
    int err = vs_library_find((struct vs_cloud *)cloud, library_of(dir), &id, &subscribed);
    free(id);
    return err ? err : subscribed ? -EROFS : 0; /* a subscribed library mirrors another */
}

static int vs_put(struct cfs_cloud *cloud, const struct cfs_put *req)
{
    if (!library_of(req->dir))
        return -EPERM;
    return vs_library_put((struct vs_cloud *)cloud, library_of(req->dir), req);
}

static const char *const vs_dirs[] = { "vms", "libraries", NULL };

const struct cfs_provider vsphere_provider = {
    .type = "vsphere",
    .dirs = vs_dirs,
    /* A VM's disk leaves vSphere for OpenStack as qcow2 or raw most often. */
    .default_views = CFS_VIEWS_DEFAULT | (1u << CFS_VIEW_QCOW2) | (1u << CFS_VIEW_RAW),
    .create = vs_create,
    .destroy = vs_destroy,
    .list = vs_list,
    .open = vs_open,
    .can_put = vs_can_put,
    .sweep = vs_sweep,
    .put = vs_put,
};
