/* A VM's virtual hardware as the PropertyCollector gives it
 * (config.hardware.device and friends), read into what an OVF descriptor
 * would say of it (struct ovf_info), so that the .ovf view and a copy
 * into Glance map it with the tables vCD templates use (ovf_map.c,
 * ovf_glance.c). Controllers and NICs are named by their vim25 types. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vsphere.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* vim25 controller type -> CIM ResourceType and the ResourceSubType an
 * OVF export of vSphere writes for it. */
static const struct ctl_row {
    const char *type;
    int cim;
    const char *subtype;
} ctl_table[] = {
    { "ParaVirtualSCSIController", 6, "VirtualSCSI" },
    { "VirtualLsiLogicSASController", 6, "lsilogicsas" },
    { "VirtualLsiLogicController", 6, "lsilogic" },
    { "VirtualBusLogicController", 6, "buslogic" },
    { "VirtualAHCIController", 20, "vmware.sata.ahci" },
    { "VirtualIDEController", 5, NULL },
};

static const struct nic_row {
    const char *type, *subtype;
} nic_table[] = {
    { "VirtualVmxnet3", "VmxNet3" },      { "VirtualE1000", "E1000" },
    { "VirtualE1000e", "E1000e" },        { "VirtualPCNet32", "PCNet32" },
    { "VirtualVmxnet2", "VmxNet2" },      { "VirtualVmxnet", "VmxNet" },
    { "VirtualVmxnet3Vrdma", "VmxNet3" }, { "VirtualSriovEthernetCard", "SriovEthernetCard" },
};

struct controller {
    int key;
    const struct ctl_row *row; /* NULL: not a disk controller we know */
    char *type;                /* its vim25 type */
};

static long long num(xmlNodePtr n, const char *name, long long dflt)
{
    char *t = cfs_xml_text(cfs_xml_child(n, NULL, name)), *end;
    long long v = t ? strtoll(t, &end, 10) : dflt;
    if (t && (end == t || *end))
        v = dflt;
    free(t);
    return v;
}

xmlNodePtr vs_prop(xmlNodePtr objects, const char *path)
{
    for (xmlNodePtr ps = cfs_xml_child(objects, NULL, "propSet"); ps;
         ps = cfs_xml_next(ps, NULL, "propSet")) {
        char *name = cfs_xml_text(cfs_xml_child(ps, NULL, "name"));
        bool hit = name && strcmp(name, path) == 0;
        free(name);
        if (hit)
            return cfs_xml_child(ps, NULL, "val");
    }
    return NULL;
}

static char *prop_text(xmlNodePtr objects, const char *path)
{
    xmlNodePtr v = vs_prop(objects, path);
    return v ? cfs_xml_text(v) : NULL;
}

static bool is_controller(const char *type)
{
    return cfs_ends_with(type, "Controller");
}

static void disk_from(xmlNodePtr dev, struct vs_disk *d)
{
    long long bytes = num(dev, "capacityInBytes", -1), kb = num(dev, "capacityInKB", -1);
    d->key = (int)num(dev, "key", 0);
    /* 0 (unknown) for what no disk can be: over 2^53 bytes. */
    d->capacity = bytes > 0                    ? (uint64_t)bytes
                  : kb > 0 && kb < (1ll << 43) ? (uint64_t)kb * 1024
                                               : 0;
    if (d->capacity >> 53)
        d->capacity = 0;
    d->file = cfs_xml_text(cfs_xml_child(cfs_xml_child(dev, NULL, "backing"), NULL, "fileName"));
}

int vs_devices_disks(xmlNodePtr val, struct vs_disk *disks, size_t *n)
{
    *n = 0;
    for (xmlNodePtr dev = cfs_xml_child(val, NULL, NULL); dev;
         dev = cfs_xml_next(dev, NULL, NULL)) {
        char *type = vs_xsi_type(dev);
        if (type && !strcmp(type, "VirtualDisk") && *n < VS_MAX_DISKS)
            disk_from(dev, &disks[(*n)++]);
        free(type);
    }
    return 0;
}

/* The disks, each with its controller, and the first NIC. */
static int devices(xmlNodePtr val, struct vs_vm *vm)
{
    struct controller ctl[32];
    size_t n_ctl = 0;
    int err = 0;

    for (xmlNodePtr dev = cfs_xml_child(val, NULL, NULL); dev;
         dev = cfs_xml_next(dev, NULL, NULL)) {
        char *type = vs_xsi_type(dev);
        if (type && is_controller(type) && n_ctl < CFS_ARRAY_SIZE(ctl)) {
            struct controller *k = &ctl[n_ctl++];
            k->key = (int)num(dev, "key", -1);
            k->row = NULL;
            k->type = type, type = NULL;
            for (size_t i = 0; i < CFS_ARRAY_SIZE(ctl_table); i++)
                if (!strcmp(k->type, ctl_table[i].type))
                    k->row = &ctl_table[i];
        }
        free(type);
    }
    for (xmlNodePtr dev = cfs_xml_child(val, NULL, NULL); dev && !err;
         dev = cfs_xml_next(dev, NULL, NULL)) {
        char *type = vs_xsi_type(dev);
        if (!type)
            continue;
        for (size_t i = 0; !vm->info.vm.nic && i < CFS_ARRAY_SIZE(nic_table); i++)
            if (!strcmp(type, nic_table[i].type) &&
                !(vm->info.vm.nic = strdup(nic_table[i].subtype)))
                err = -ENOMEM;
        if (!strcmp(type, "VirtualDisk") && vm->n_disks < VS_MAX_DISKS &&
            vm->n_disks < OVF_MAX_ITEMS) {
            struct vs_disk *d = &vm->disks[vm->n_disks];
            struct ovf_disk *o = &vm->info.disks[vm->n_disks++];
            int on = (int)num(dev, "controllerKey", -1);
            disk_from(dev, d);
            o->capacity = d->capacity;
            for (size_t i = 0; i < n_ctl; i++) {
                if (ctl[i].key != on)
                    continue;
                /* An NVMe or unknown controller: what ovf_glance.c calls unknown. */
                o->controller = ctl[i].row ? ctl[i].row->cim : 6;
                const char *sub = ctl[i].row ? ctl[i].row->subtype : ctl[i].type;
                if (sub && !(o->controller_subtype = strdup(sub)))
                    err = -ENOMEM;
                break; /* keys are unique; a server repeating one gets its first */
            }
        }
        free(type);
    }
    vm->info.n_disks = vm->n_disks;
    for (size_t i = 0; i < n_ctl; i++)
        free(ctl[i].type);
    return err;
}

int vs_vm_parse(xmlNodePtr objects, struct vs_vm *vm)
{
    memset(vm, 0, sizeof *vm);
    vm->moref = cfs_xml_text(cfs_xml_child(objects, NULL, "obj"));
    vm->name = prop_text(objects, "name");
    vm->power_state = prop_text(objects, "runtime.powerState");
    if (!vm->moref || !vm->name)
        return -EPROTO;
    struct ovf_vm *hw = &vm->info.vm;
    long long v;
    char *t;
    if ((t = prop_text(objects, "config.hardware.numCPU")))
        hw->cpus = (v = atoll(t)) > 0 && v < 4096 ? (unsigned)v : 0;
    free(t);
    if ((t = prop_text(objects, "config.hardware.numCoresPerSocket")))
        hw->cores_per_socket = (v = atoll(t)) > 0 && v < 4096 ? (unsigned)v : 0;
    free(t);
    if ((t = prop_text(objects, "config.hardware.memoryMB")))
        hw->memory_mb = (v = atoll(t)) > 0 ? (uint64_t)v : 0;
    free(t);
    if ((t = prop_text(objects, "config.firmware")))
        hw->efi = !strcmp(t, "efi");
    free(t);
    if ((t = prop_text(objects, "config.bootOptions.efiSecureBootEnabled")))
        hw->secure_boot = !strcmp(t, "true");
    free(t);
    hw->os_type = prop_text(objects, "config.guestId");
    if ((t = prop_text(objects, "config.modified")))
        cfs_parse_iso8601(t, &vm->mtime);
    free(t);
    if (!(vm->info.name = strdup(vm->name)))
        return -ENOMEM;
    xmlNodePtr dev = vs_prop(objects, "config.hardware.device");
    return dev ? devices(dev, vm) : 0;
}

void vs_vm_free(struct vs_vm *vm)
{
    free(vm->moref);
    free(vm->name);
    free(vm->power_state);
    for (size_t i = 0; i < vm->n_disks; i++)
        free(vm->disks[i].file);
    ovf_info_free(&vm->info);
    memset(vm, 0, sizeof *vm);
}
