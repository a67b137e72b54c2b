/* The hardware of the .ovf view, mapped from an image's properties
 * (DESIGN.md §4, ref/formats.md §5). What cannot be mapped safely becomes a
 * warning, never a silent guess; property values are untrusted and are
 * quoted in warnings only as short printable ASCII.
 *
 * Mapping (Glance property -> OVF):
 *   vmware_ostype=<id>Guest     vmw:osType as given (an image made on VMware)
 *   os_distro / os_type, os_version -> vmw:osType, CIM OsType (os_table)
 *   architecture other than x86 -> warning (ESXi runs x86-64 guests)
 *   hw_cpu_sockets * hw_cpu_cores * hw_cpu_threads -> vCPUs (default
 *       ovf_defaults.cpus); cores * threads > 1 -> vmw:CoresPerSocket
 *   min_ram (MiB) > 0 -> memory, else ovf_defaults.memory_mb; rounded up
 *       to 4 MiB as vSphere wants
 *   vmware_adaptertype, else hw_disk_bus + hw_scsi_model -> controller:
 *       scsi (default)  SCSI HBA (6): VirtualSCSI (pvscsi, paraVirtual;
 *                       the default) | lsilogicsas (lsisas1068) | lsilogic
 *                       | buslogic
 *       ide             IDE controller (5)
 *       sata            SATA AHCI (20, vmware.sata.ahci; vmx-10 and later)
 *       virtio, virtio-scsi, others -> warning, the default SCSI HBA
 *   hw_vif_model -> NIC (10) on network "VM Network": VmxNet3 (default)
 *       | E1000 | E1000e | PCNet32; virtio and others -> warning, default
 *   hw_firmware_type=uefi -> vmw:Config firmware=efi; with
 *       os_secure_boot=required also bootOptions.efiSecureBootEnabled
 *   Windows guests whose properties name no SCSI model or NIC get
 *       lsilogicsas and E1000e instead of a VirtualSCSI or lsilogic and
 *       VmxNet3 default: Windows since Vista has inbox drivers for those,
 *       while pvscsi and vmxnet3 come with VMware Tools, which a migrated
 *       image does not have yet.
 * Why VirtualSCSI by default (cloudfs(1), ovf_controller=): the Linux
 * cloud images that fill Glance carry its driver even in the smallest
 * kernels (Debian 12's cloud kernel has vmw_pvscsi, and neither mptspi,
 * mptsas nor ahci); VMware recommends it for current guests; and unlike
 * lsilogic (an LSI 53C1030, which QEMU lacks) tests/boot/ can boot it. */
#define _GNU_SOURCE
#include "ovf_map.h"
#include "ovf_warn.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CPUS   768u      /* vSphere 8 */
#define MAX_MEMORY 25165824u /* 24 TiB in MiB */

/* ---- guest OS table ----
 * vmw:osType by distribution and major version, newest first; a row
 * applies from its version on and needs the hardware version in which
 * vSphere learnt the id (vSphere API "since" of the id: 6.5 -> vmx-13,
 * 6.7 -> 14, 6.7 U1 -> 15, 7.0 -> 17, 7.0 U1 -> 18; 8.0 U1 -> 21, as a
 * vmx-20 target may be 8.0 without the update), so an older target never
 * sees an id it does not know. An unknown version takes
 * the newest row the hardware version allows. The CIM OsType codes are
 * those of CIM_OperatingSystem (govmomi's ovf package uses the same). */
struct os_row {
    const char *distro;
    unsigned from_version;
    const char *guest;
    unsigned short cim;
    unsigned min_hw;
};

static const struct os_row os_table[] = {
    { "ubuntu", 0, "ubuntu64Guest", 94, 4 },
    { "debian", 12, "debian12_64Guest", 96, 21 },
    { "debian", 11, "debian11_64Guest", 96, 17 },
    { "debian", 10, "debian10_64Guest", 96, 14 },
    { "debian", 9, "debian9_64Guest", 96, 13 },
    { "debian", 0, "debian8_64Guest", 96, 10 },
    { "centos", 9, "centos9_64Guest", 107, 18 },
    { "centos", 8, "centos8_64Guest", 107, 14 },
    { "centos", 7, "centos7_64Guest", 107, 13 },
    { "centos", 6, "centos6_64Guest", 107, 13 },
    { "centos", 0, "centos64Guest", 107, 7 },
    { "rhel", 9, "rhel9_64Guest", 80, 18 },
    { "rhel", 8, "rhel8_64Guest", 80, 14 },
    { "rhel", 7, "rhel7_64Guest", 80, 10 },
    { "rhel", 6, "rhel6_64Guest", 80, 7 },
    { "rhel", 0, "rhel5_64Guest", 80, 4 },
    { "rocky", 0, "rockylinux_64Guest", 101, 21 },
    { "rocky", 9, "rhel9_64Guest", 80, 18 },
    { "rocky", 0, "rhel8_64Guest", 80, 14 },
    { "rocky", 0, "rhel7_64Guest", 80, 10 },
    { "almalinux", 0, "almalinux_64Guest", 101, 21 },
    { "almalinux", 9, "rhel9_64Guest", 80, 18 },
    { "almalinux", 0, "rhel8_64Guest", 80, 14 },
    { "almalinux", 0, "rhel7_64Guest", 80, 10 },
    { "oraclelinux", 9, "oracleLinux9_64Guest", 109, 21 },
    { "oraclelinux", 8, "oracleLinux8_64Guest", 109, 14 },
    { "oraclelinux", 7, "oracleLinux7_64Guest", 109, 13 },
    { "oraclelinux", 6, "oracleLinux6_64Guest", 109, 13 },
    { "oraclelinux", 0, "oracleLinux64Guest", 109, 7 },
    { "fedora", 0, "fedora64Guest", 101, 7 },
    { "opensuse", 0, "opensuse64Guest", 83, 7 },
    { "sles", 15, "sles15_64Guest", 85, 14 },
    { "sles", 12, "sles12_64Guest", 85, 10 },
    { "sles", 11, "sles11_64Guest", 85, 7 },
    { "sles", 0, "sles64Guest", 85, 4 },
    { "freebsd", 13, "freebsd13_64Guest", 78, 18 },
    { "freebsd", 12, "freebsd12_64Guest", 78, 14 },
    { "freebsd", 11, "freebsd11_64Guest", 78, 14 },
    { "freebsd", 0, "freebsd64Guest", 78, 4 },
    { "coreos", 0, "coreos64Guest", 101, 11 },
    { "amazon", 0, "amazonlinux2_64Guest", 101, 15 },
    { "linux", 0, "otherLinux64Guest", 101, 4 },
    { "other", 0, "otherGuest64", 102, 4 },
};

/* os_distro values (Glance's metadefs and what images carry in practice). */
static const struct {
    const char *alias, *distro;
} distro_alias[] = {
    { "ubuntu", "ubuntu" },       { "debian", "debian" },
    { "centos", "centos" },       { "centos-stream", "centos" },
    { "rhel", "rhel" },           { "redhat", "rhel" },
    { "rocky", "rocky" },         { "rockylinux", "rocky" },
    { "almalinux", "almalinux" }, { "alma", "almalinux" },
    { "ol", "oraclelinux" },      { "oraclelinux", "oraclelinux" },
    { "oracle", "oraclelinux" },  { "fedora", "fedora" },
    { "opensuse", "opensuse" },   { "opensuse-leap", "opensuse" },
    { "sles", "sles" },           { "sled", "sles" },
    { "suse", "sles" },           { "freebsd", "freebsd" },
    { "coreos", "coreos" },       { "fcos", "coreos" },
    { "flatcar", "coreos" },      { "rhcos", "coreos" },
    { "amzn", "amazon" },         { "amazon", "amazon" },
    { "amazonlinux", "amazon" },  { "arch", "linux" },
    { "gentoo", "linux" },        { "alpine", "linux" },
    { "mandriva", "linux" },      { "mandrake", "linux" },
    { "mes", "linux" },           { "cirros", "linux" },
    { "linux", "linux" },
};

/* Windows by os_version (normalised: lower case, letters and digits and
 * dots only, a leading "windows", "server" or "win" dropped). A row
 * matches a version that starts with its key not followed by a digit. */
static const struct {
    const char *key, *guest;
    unsigned short cim;
    unsigned min_hw;
} win_table[] = {
    { "2025", "windows2022srvNext_64Guest", 102, 21 },
    { "2025", "windows2019srvNext_64Guest", 102, 18 },
    { "2022", "windows2019srvNext_64Guest", 102, 18 },
    { "2022", "windows9Server64Guest", 102, 10 },
    { "2019", "windows2019srv_64Guest", 102, 17 },
    { "2019", "windows9Server64Guest", 102, 10 },
    { "2016", "windows9Server64Guest", 102, 10 },
    { "2012r2", "windows8Server64Guest", 115, 8 },
    { "2012", "windows8Server64Guest", 112, 8 },
    { "2008r2", "windows7Server64Guest", 103, 4 },
    { "2008", "winLonghorn64Guest", 77, 4 },
    { "11", "windows11_64Guest", 102, 21 },
    { "11", "windows9_64Guest", 102, 10 },
    { "10", "windows9_64Guest", 102, 10 },
    { "8.1", "windows8_64Guest", 113, 8 },
    { "8", "windows8_64Guest", 113, 8 },
    { "7", "windows7_64Guest", 105, 4 },
    { "", "windows9_64Guest", 102, 10 }, /* any other version, or none */
    { "", "windows7_64Guest", 105, 4 },
};

static const char *prop(const struct ovf_params *p, const char *key)
{
    const char *v = p->prop ? p->prop(p->prop_ctx, key) : NULL;
    return v && *v ? v : NULL;
}

/* A whole decimal number in [1, max], or 0. */
static unsigned number(const char *s, unsigned max)
{
    unsigned long long v = 0;
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return 0;
    }
    return (unsigned)v;
}

/* ---- mapping ---- */

static const char *scsi_model(const char *v)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        { "lsilogic", "lsilogic" },       { "lsilogicsas", "lsilogicsas" },
        { "lsisas1068", "lsilogicsas" },  { "buslogic", "buslogic" },
        { "pvscsi", "VirtualSCSI" },      { "paravirtual", "VirtualSCSI" },
        { "virtualscsi", "VirtualSCSI" }, { "vmpvscsi", "VirtualSCSI" },
    };
    for (size_t i = 0; v && i < sizeof t / sizeof *t; i++)
        if (strcasecmp(v, t[i].in) == 0)
            return t[i].out;
    return NULL;
}

static const char *nic_model(const char *v)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        { "vmxnet3", "VmxNet3" },    { "virtualvmxnet3", "VmxNet3" }, { "e1000", "E1000" },
        { "virtuale1000", "E1000" }, { "e1000e", "E1000e" },          { "virtuale1000e", "E1000e" },
        { "pcnet", "PCNet32" },      { "virtualpcnet32", "PCNet32" },
    };
    for (size_t i = 0; v && i < sizeof t / sizeof *t; i++)
        if (strcasecmp(v, t[i].in) == 0)
            return t[i].out;
    return NULL;
}

static void map_windows(const char *version, struct ovf_hw *hw)
{
    char norm[32];
    size_t n = 0;
    for (const char *s = version ? version : ""; *s && n < sizeof norm - 1; s++)
        if (isalnum((unsigned char)*s) || *s == '.')
            norm[n++] = (char)tolower((unsigned char)*s);
    norm[n] = '\0';
    const char *v = norm;
    static const char *const prefixes[] = { "windows", "server", "win" };
    for (size_t i = 0; i < 3; i++)
        if (strncmp(v, prefixes[i], strlen(prefixes[i])) == 0)
            v += strlen(prefixes[i]);

    for (size_t i = 0; i < sizeof win_table / sizeof *win_table; i++) {
        size_t k = strlen(win_table[i].key);
        bool match = !k || (strncmp(v, win_table[i].key, k) == 0 && !isdigit((unsigned char)v[k]));
        if (match && hw->version >= win_table[i].min_hw) {
            hw->guest = win_table[i].guest;
            hw->cim = win_table[i].cim;
            return;
        }
    }
}

static void map_os(const struct ovf_params *p, struct ovf_hw *hw, struct ovf_warnings *w)
{
    const char *vmw = prop(p, "vmware_ostype"), *distro = prop(p, "os_distro");
    const char *type = prop(p, "os_type"), *arch = prop(p, "architecture");
    char s[48];

    if (arch && strcasecmp(arch, "x86_64") != 0 && strcasecmp(arch, "amd64") != 0 &&
        strcasecmp(arch, "i686") != 0 && strcasecmp(arch, "i386") != 0) {
        ovf_shown(arch, s);
        ovf_warn(w, "architecture=%s: ESXi runs x86 guests; this image will not boot there", s);
    }

    /* An image made on VMware says which guest it is. */
    if (vmw) {
        size_t n = strlen(vmw), i = 0;
        while (i < n && (isalnum((unsigned char)vmw[i]) || vmw[i] == '_'))
            i++;
        if (i == n && n <= 64 && n > 5 && strcmp(vmw + n - 5, "Guest") == 0) {
            hw->guest = vmw;
            hw->cim = strstr(vmw, "64") ? 102 : 1;
            return;
        }
        if (i == n && n <= 64 && strcmp(vmw, "otherGuest64") == 0) {
            hw->guest = vmw;
            hw->cim = 102;
            return;
        }
        ovf_shown(vmw, s);
        ovf_warn(w, "vmware_ostype=%s: not a guest id; guessing from os_distro and os_type", s);
    }

    const char *family = NULL;
    if (distro && strcasecmp(distro, "windows") == 0)
        family = "windows";
    for (size_t i = 0; distro && !family && i < sizeof distro_alias / sizeof *distro_alias; i++)
        if (strcasecmp(distro, distro_alias[i].alias) == 0)
            family = distro_alias[i].distro;
    if (!family && type && strcasecmp(type, "windows") == 0)
        family = "windows";
    if (!family && type && strcasecmp(type, "linux") == 0)
        family = "linux";
    if (!family)
        family = "other";

    const char *version = prop(p, "os_version");
    if (strcmp(family, "windows") == 0) {
        map_windows(version, hw);
        return;
    }
    unsigned major = 0;
    if (version) {
        const char *v = version;
        while (*v >= '0' && *v <= '9' && major < 100000)
            major = major * 10 + (unsigned)(*v++ - '0');
    }
    for (size_t i = 0; i < sizeof os_table / sizeof *os_table; i++) {
        const struct os_row *r = &os_table[i];
        if (strcmp(r->distro, family) == 0 && hw->version >= r->min_hw &&
            (!major || major >= r->from_version)) {
            hw->guest = r->guest;
            hw->cim = r->cim;
            return;
        }
    }
}

static void map_cpu_memory(const struct ovf_params *p, const struct ovf_defaults *d,
                           struct ovf_hw *hw, struct ovf_warnings *w)
{
    static const char *const keys[] = { "hw_cpu_sockets", "hw_cpu_cores", "hw_cpu_threads" };
    unsigned part[3];
    bool given = false, bad = false;
    char s[48];

    for (int i = 0; i < 3; i++) {
        const char *v = prop(p, keys[i]);
        part[i] = v ? number(v, MAX_CPUS) : 1;
        given |= v != NULL;
        if (!part[i]) {
            ovf_shown(v, s);
            ovf_warn(w, "%s=%s: not a number from 1 to %u", keys[i], s, MAX_CPUS);
            bad = true;
        }
    }
    unsigned long long total = (unsigned long long)part[0] * part[1] * part[2];
    if (given && !bad && total > MAX_CPUS) {
        ovf_warn(w, "hw_cpu_sockets * hw_cpu_cores * hw_cpu_threads = %llu: over %u vCPUs", total,
                 MAX_CPUS);
        bad = true;
    }
    hw->cpus = d->cpus;
    if (given && !bad) {
        hw->cpus = (unsigned)total;
        if (part[1] * part[2] > 1)
            hw->cores_per_socket = part[1] * part[2];
    }

    const char *ram = prop(p, "min_ram");
    hw->memory_mb = d->memory_mb;
    if (ram && strcmp(ram, "0") != 0) {
        unsigned mb = number(ram, MAX_MEMORY);
        if (mb)
            hw->memory_mb = mb;
        else {
            ovf_shown(ram, s);
            ovf_warn(w, "min_ram=%s: not a number of MiB up to %u; %u MiB it is", s, MAX_MEMORY,
                     d->memory_mb);
        }
    }
    hw->memory_mb = (hw->memory_mb + 3) / 4 * 4;
}

static void map_devices(const struct ovf_params *p, const char *default_scsi,
                        const char *default_nic, struct ovf_hw *hw, struct ovf_warnings *w)
{
    const char *bus = prop(p, "hw_disk_bus"), *model = prop(p, "hw_scsi_model");
    const char *adapter = prop(p, "vmware_adaptertype"), *vif = prop(p, "hw_vif_model");
    bool windows = strncmp(hw->guest, "win", 3) == 0;
    char s[48];

    hw->controller = 6;
    hw->scsi = default_scsi;
    if (windows &&
        (strcmp(default_scsi, "VirtualSCSI") == 0 || strcmp(default_scsi, "lsilogic") == 0))
        hw->scsi = "lsilogicsas";

    if (adapter) { /* the image was made on VMware: its own word wins */
        if (strcasecmp(adapter, "ide") == 0)
            hw->controller = 5;
        else if (scsi_model(adapter))
            hw->scsi = scsi_model(adapter);
        else {
            ovf_shown(adapter, s);
            ovf_warn(w, "vmware_adaptertype=%s: unknown; the disk is on %s SCSI", s, hw->scsi);
        }
    } else if (bus && strcasecmp(bus, "ide") == 0) {
        hw->controller = 5;
    } else if (bus && strcasecmp(bus, "sata") == 0) {
        hw->controller = 20;
        if (hw->version < 10) {
            ovf_warn(w,
                     "hw_disk_bus=sata: needs vmx-10 or later, not vmx-%02u; the disk is on "
                     "IDE",
                     hw->version);
            hw->controller = 5;
        }
    } else if (bus && strcasecmp(bus, "scsi") != 0) {
        ovf_shown(bus, s);
        ovf_warn(w,
                 "hw_disk_bus=%s: VMware has no such disk bus; the disk is on %s SCSI, which "
                 "the guest may have no driver for",
                 s, hw->scsi);
        bus = NULL; /* hw_scsi_model does not apply to what was not SCSI */
    }
    if (hw->controller == 6 && model && !adapter) {
        if (scsi_model(model)) {
            hw->scsi = scsi_model(model);
        } else if (bus) {
            ovf_shown(model, s);
            ovf_warn(w,
                     "hw_scsi_model=%s: VMware has no such SCSI controller; the disk is on %s, "
                     "which the guest may have no driver for",
                     s, hw->scsi);
        }
    }

    hw->nic = default_nic;
    if (windows && !vif && strcmp(default_nic, "VmxNet3") == 0)
        hw->nic = "E1000e";
    if (vif && nic_model(vif)) {
        hw->nic = nic_model(vif);
    } else if (vif) {
        ovf_shown(vif, s);
        ovf_warn(w,
                 "hw_vif_model=%s: VMware has no such NIC; the NIC is %s, which the guest may "
                 "have no driver for",
                 s, hw->nic);
    }

    const char *fw = prop(p, "hw_firmware_type");
    if (fw && strcasecmp(fw, "uefi") == 0) {
        hw->efi = true;
        const char *sb = prop(p, "os_secure_boot");
        if (sb && strcasecmp(sb, "required") == 0) {
            if (hw->version >= 13)
                hw->secure_boot = true;
            else
                ovf_warn(w, "os_secure_boot=required: needs vmx-13 or later, not vmx-%02u",
                         hw->version);
        }
    } else if (fw && strcasecmp(fw, "bios") != 0) {
        ovf_shown(fw, s);
        ovf_warn(w, "hw_firmware_type=%s: unknown; the VM boots with BIOS", s);
    }
}

int ovf_map_hardware(const struct ovf_params *p, struct ovf_hw *hw, char **warnings)
{
    static const struct ovf_defaults builtin = { 1, 1024, 13, "pvscsi", "vmxnet3" };
    struct ovf_defaults d = p->defaults ? *p->defaults : builtin;
    struct ovf_warnings w = { 0 };

    *warnings = NULL;
    *hw = (struct ovf_hw){ .guest = "otherGuest64", .cim = 102 };
    if (!d.cpus)
        d.cpus = builtin.cpus;
    if (!d.memory_mb)
        d.memory_mb = builtin.memory_mb;
    if (!d.hw_version)
        d.hw_version = builtin.hw_version;
    const char *default_scsi = scsi_model(d.scsi ? d.scsi : builtin.scsi);
    const char *default_nic = nic_model(d.nic ? d.nic : builtin.nic);
    if (!default_scsi || !default_nic || d.hw_version < 4 || d.hw_version > 99 ||
        d.cpus > MAX_CPUS || d.memory_mb > MAX_MEMORY)
        return -EINVAL;

    hw->version = d.hw_version;
    map_os(p, hw, &w);
    map_cpu_memory(p, &d, hw, &w);
    map_devices(p, default_scsi, default_nic, hw, &w);
    if (w.err) {
        free(w.text);
        return w.err;
    }
    *warnings = w.text;
    return 0;
}
