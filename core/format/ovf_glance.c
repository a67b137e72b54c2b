/* A VMware VM's hardware (its OVF descriptor, ovf_reader.c) as the Glance
 * properties Nova's libvirt driver reads: the reverse of ovf_map.c, so a
 * vCD template copied into Glance starts on the hardware its guest has
 * drivers for. Every value written is one Glance's metadata definitions
 * and Nova's enums accept (tests/unit/test_ovf_glance.c checks them all
 * through ovf_glance_values). What QEMU has no equivalent for becomes the
 * best chance and a warning saying why, never a silent guess.
 *
 * Mapping (OVF -> Glance), documented in cloudfs(1):
 *   memory (ResourceType 4)          min_ram, MiB
 *   the disk's capacity              min_disk, GiB rounded up
 *   vCPUs, vmw:CoresPerSocket        hw_cpu_sockets = vCPUs / cores,
 *                                    hw_cpu_cores = cores (1 when absent)
 *   the disk's controller            bus_table below
 *   the first NIC's ResourceSubType  nic_table below
 *   vmw:Config firmware=efi          hw_firmware_type=uefi; with
 *       bootOptions.efiSecureBootEnabled=true also os_secure_boot=required
 *       and hw_machine_type=q35 (Nova refuses secure boot on x86 machines
 *       other than q35, and its default is pc)
 *   vmw:osType                       os_type, os_distro (os_version where
 *                                    the id has one: debian12_64Guest) */
#define _GNU_SOURCE
#include "ovf_glance.h"
#include "ovf_warn.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Why lsilogic and buslogic land on SATA: QEMU emulates neither chip, and
 * AHCI is the controller a guest most likely has a driver for that every
 * machine type Nova uses (pc and q35; q35 has no IDE) offers: ahci is in
 * every current Linux kernel package and Windows has storahci inbox since
 * 8 / 2012 (msahci since 7). A guest whose initramfs holds only the
 * drivers of its VMware hardware (dracut's host-only default) boots on
 * none of them until ahci (or virtio) is added to it. */
#define NO_QEMU_HBA                                                                               \
    "the disk is on SATA (AHCI) instead, the controller a guest most likely has a driver for; "   \
    "a guest whose initramfs holds only its VMware drivers will not find its disk until ahci or " \
    "virtio is added to it"

static const struct bus_row {
    int type;            /* CIM ResourceType of the controller */
    const char *subtype; /* its ResourceSubType; NULL: any */
    const char *bus, *scsi_model;
    const char *why; /* no equivalent: the warning's reason */
} bus_table[] = {
    { 6, "VirtualSCSI", "scsi", "vmpvscsi", NULL },
    { 6, "lsilogicsas", "scsi", "lsisas1068", NULL },
    { 6, "lsilogic", "sata", NULL,
      "controller lsilogic (LSI 53C1030): QEMU has none (libvirt's lsilogic is a 53C895A, "
      "which needs another guest driver); " NO_QEMU_HBA },
    { 6, "buslogic", "sata", NULL, "controller buslogic: QEMU has no BusLogic; " NO_QEMU_HBA },
    { 20, NULL, "sata", NULL, NULL },
    { 5, NULL, "ide", NULL, NULL },
    { 6, NULL, "sata", NULL, "an unknown SCSI controller: " NO_QEMU_HBA },
};

static const struct nic_row {
    const char *subtype, *model, *why;
} nic_table[] = {
    { "VmxNet3", "vmxnet3", NULL },
    { "E1000", "e1000", NULL },
    { "E1000e", "e1000e", NULL },
    { "PCNet32", "pcnet", NULL },
    { "Flexible", "pcnet",
      "NIC Flexible: QEMU has no vmxnet; it is pcnet, the PCnet32 a Flexible adapter shows "
      "until VMware Tools' driver takes it over" },
    { "VmxNet2", "e1000", "NIC VmxNet2: QEMU has no vmxnet; it is e1000, which guests have" },
    { "VmxNet", "e1000", "NIC VmxNet: QEMU has no vmxnet; it is e1000, which guests have" },
    { NULL, "e1000", "an unknown NIC: it is e1000, which guests have" },
};

/* vmw:osType by prefix (case-sensitive, as VMware spells them), first
 * match wins; os_distro in the libosinfo vocabulary Glance names. */
static const struct os_row {
    const char *prefix, *os_type, *distro;
    bool versioned; /* digits after the prefix are the major version */
} os_table[] = {
    { "windows", "windows", "windows", false },
    { "win", "windows", "windows", false },
    { "ubuntu", "linux", "ubuntu", false },
    { "debian", "linux", "debian", true },
    { "centos", "linux", "centos", true },
    { "rhel", "linux", "rhel", true },
    { "redhat", "linux", "rhel", false },
    { "rockylinux", "linux", "rocky", false },
    { "almalinux", "linux", "almalinux", false },
    { "oracleLinux", "linux", "ol", true },
    { "fedora", "linux", "fedora", false },
    { "opensuse", "linux", "opensuse", false },
    { "sles", "linux", "sles", true },
    { "sled", "linux", "sled", true },
    { "mandriva", "linux", "mandriva", false },
    { "mandrake", "linux", "mandrake", false },
    { "freebsd", NULL, "freebsd", true },
    { "other", "linux", NULL, false }, /* otherLinux64Guest, other3xLinuxGuest ... */
    { "", "linux", NULL, false },      /* any other id naming Linux */
};

struct out {
    char *props;
    size_t len;
    struct ovf_warnings w;
    int err;
};

static void put(struct out *o, const char *key, const char *value)
{
    size_t k = strlen(key) + 1, v = strlen(value) + 1;
    char *p = o->err ? NULL : realloc(o->props, o->len + k + v);
    if (!p) {
        o->err = -ENOMEM;
        return;
    }
    memcpy(p + o->len, key, k);
    memcpy(p + o->len + k, value, v);
    o->props = p;
    o->len += k + v;
}

static void put_u64(struct out *o, const char *key, uint64_t value)
{
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)value);
    put(o, key, b);
}

static const struct bus_row *bus_of(const struct ovf_disk *d)
{
    for (size_t i = 0; i < sizeof bus_table / sizeof *bus_table; i++) {
        const struct bus_row *r = &bus_table[i];
        if (r->type == d->controller &&
            (!r->subtype ||
             (d->controller_subtype && strcasecmp(r->subtype, d->controller_subtype) == 0)))
            return r;
    }
    return NULL;
}

/* Why lsilogicsas warns unless the guest is Windows: Nova gives disks no
 * WWN (no <wwn> in the libvirt XML it writes), and on QEMU's SAS1068
 * (mptsas1068) Linux's mptsas driver brings the adapter up but shows no
 * disk without one; ESXi gives every disk a SAS address (tests/boot/). */
#define SAS_NO_WWN                                                                                \
    "controller lsilogicsas: it is lsisas1068, but Nova gives disks no WWN, without which "       \
    "Linux's mptsas finds no disk on QEMU's SAS1068; a Linux guest boots once ahci or virtio is " \
    "in its initramfs and hw_disk_bus is set to match"

static void map_disk(const struct ovf_info *info, size_t disk, bool q35, bool windows,
                     struct out *o)
{
    const struct ovf_disk *d = disk < info->n_disks ? &info->disks[disk] : NULL;
    const struct bus_row *r = d ? bus_of(d) : NULL;
    char s[48];

    if (d && d->capacity)
        put_u64(o, "min_disk", (d->capacity + (1ull << 30) - 1) >> 30);
    if (!r)
        return; /* no controller found: Nova's default */
    const char *bus = r->bus;
    if (r->why && !r->subtype && d->controller_subtype) {
        ovf_shown(d->controller_subtype, s);
        ovf_warn(&o->w, "controller %s: %s", s, r->why);
    } else if (r->why) {
        ovf_warn(&o->w, "%s", r->why);
    }
    if (q35 && strcmp(bus, "ide") == 0) {
        ovf_warn(&o->w,
                 "an IDE disk on a secure-boot VM: q35, which Nova needs for secure boot, has no "
                 "IDE; the disk is on SATA (AHCI)");
        bus = "sata";
    }
    put(o, "hw_disk_bus", bus);
    if (r->scsi_model && strcmp(bus, "scsi") == 0) {
        put(o, "hw_scsi_model", r->scsi_model);
        if (strcmp(r->scsi_model, "lsisas1068") == 0 && !windows)
            ovf_warn(&o->w, SAS_NO_WWN);
    }
}

static void map_nic(const char *nic, struct out *o)
{
    char s[48];
    if (!nic)
        return;
    for (size_t i = 0; i < sizeof nic_table / sizeof *nic_table; i++) {
        const struct nic_row *r = &nic_table[i];
        if (r->subtype && strcasecmp(r->subtype, nic) != 0)
            continue;
        if (r->why && !r->subtype) {
            ovf_shown(nic, s);
            ovf_warn(&o->w, "NIC %s: %s", s, r->why);
        } else if (r->why) {
            ovf_warn(&o->w, "%s", r->why);
        }
        put(o, "hw_vif_model", r->model);
        return;
    }
}

static void map_os(const char *guest, struct out *o)
{
    if (!guest)
        return;
    for (size_t i = 0; i < sizeof os_table / sizeof *os_table; i++) {
        const struct os_row *r = &os_table[i];
        size_t n = strlen(r->prefix);
        if (strncmp(guest, r->prefix, n) != 0)
            continue;
        /* The catch-alls only for ids naming Linux. */
        if ((!*r->prefix || strcmp(r->prefix, "other") == 0) && !strcasestr(guest, "linux"))
            return;
        if (r->os_type)
            put(o, "os_type", r->os_type);
        if (r->distro)
            put(o, "os_distro", r->distro);
        /* "rhel9_64Guest", "centos6Guest": 9, 6; "centos64Guest" is 64-bit. */
        size_t k = n;
        while (isdigit((unsigned char)guest[k]) && k - n < 4)
            k++;
        bool bits = k - n == 2 && strncmp(guest + n, "64", 2) == 0 && guest[k] == 'G';
        if (r->versioned && k > n && !bits && (guest[k] == '_' || guest[k] == 'G')) {
            char v[8];
            snprintf(v, sizeof v, "%.*s", (int)(k - n), guest + n);
            put(o, "os_version", v);
        }
        return;
    }
}

int ovf_glance_map(const struct ovf_info *info, size_t disk, struct ovf_glance *g)
{
    const struct ovf_vm *vm = &info->vm;
    struct out o = { 0 };
    bool q35 = vm->efi && vm->secure_boot;

    memset(g, 0, sizeof *g);
    if (vm->memory_mb && vm->memory_mb <= INT32_MAX)
        put_u64(&o, "min_ram", vm->memory_mb);
    if (vm->cpus) {
        unsigned cores = vm->cores_per_socket;
        if (cores && vm->cpus % cores != 0) {
            ovf_warn(&o.w,
                     "%u vCPUs in sockets of %u cores: not whole sockets; %u sockets of 1 core",
                     vm->cpus, cores, vm->cpus);
            cores = 1;
        }
        if (!cores)
            cores = 1;
        put_u64(&o, "hw_cpu_sockets", vm->cpus / cores);
        put_u64(&o, "hw_cpu_cores", cores);
    }
    map_disk(info, disk, q35, vm->os_type && strncmp(vm->os_type, "win", 3) == 0, &o);
    map_nic(vm->nic, &o);
    if (vm->efi)
        put(&o, "hw_firmware_type", "uefi");
    if (q35) {
        put(&o, "os_secure_boot", "required");
        put(&o, "hw_machine_type", "q35");
    }
    map_os(vm->os_type, &o);
    if (o.err || o.w.err) {
        free(o.props);
        free(o.w.text);
        return o.err ? o.err : o.w.err;
    }
    g->props = o.props;
    g->props_len = o.len;
    g->warnings = o.w.text;
    return 0;
}

void ovf_glance_free(struct ovf_glance *g)
{
    free(g->props);
    free(g->warnings);
    memset(g, 0, sizeof *g);
}

void ovf_glance_values(void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
    for (size_t i = 0; i < sizeof bus_table / sizeof *bus_table; i++) {
        fn(ctx, "hw_disk_bus", bus_table[i].bus);
        if (bus_table[i].scsi_model)
            fn(ctx, "hw_scsi_model", bus_table[i].scsi_model);
    }
    fn(ctx, "hw_disk_bus", "sata"); /* IDE on q35 */
    for (size_t i = 0; i < sizeof nic_table / sizeof *nic_table; i++)
        fn(ctx, "hw_vif_model", nic_table[i].model);
    fn(ctx, "hw_firmware_type", "uefi");
    fn(ctx, "os_secure_boot", "required");
    fn(ctx, "hw_machine_type", "q35");
    for (size_t i = 0; i < sizeof os_table / sizeof *os_table; i++) {
        if (os_table[i].os_type)
            fn(ctx, "os_type", os_table[i].os_type);
        if (os_table[i].distro)
            fn(ctx, "os_distro", os_table[i].distro);
    }
}
