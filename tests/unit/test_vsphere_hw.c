/* A VM's hardware as a vCenter's PropertyCollector gives it
 * (core/cloud/vsphere/hardware.c): controllers, disks on them, the first
 * NIC, CPUs, memory, firmware and guest id, read into the OVF hardware
 * that the Glance properties are mapped from. */
#include "log.h"
#include "ovf_glance.h"
#include "unit.h"
#include "vsphere.h"

#define PS(name, type, val) \
    "<propSet><name>" name "</name><val xsi:type=\"" type "\">" val "</val></propSet>"
#define DEV(type, body) "<VirtualDevice xsi:type=\"" type "\">" body "</VirtualDevice>"

/* One property or device per line. */
/* clang-format off */
static const char answer[] =
    "<RetrievePropertiesExResponse xmlns=\"urn:vim25\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><returnval><objects>"
    "<obj type=\"VirtualMachine\">vm-42</obj>"
    PS("name", "xsd:string", "web1")
    PS("runtime.powerState", "VirtualMachinePowerState", "poweredOff")
    PS("config.hardware.numCPU", "xsd:int", "4")
    PS("config.hardware.numCoresPerSocket", "xsd:int", "2")
    PS("config.hardware.memoryMB", "xsd:int", "2048")
    PS("config.guestId", "xsd:string", "rhel8_64Guest")
    PS("config.firmware", "xsd:string", "efi")
    PS("config.bootOptions.efiSecureBootEnabled", "xsd:boolean", "true")
    "<propSet><name>config.hardware.device</name><val xsi:type=\"ArrayOfVirtualDevice\">"
    DEV("VirtualIDEController", "<key>200</key>")
    DEV("ParaVirtualSCSIController", "<key>1000</key><busNumber>0</busNumber>")
    DEV("VirtualAHCIController", "<key>15000</key>")
    DEV("VirtualDisk", "<key>2000</key><controllerKey>1000</controllerKey>"
        "<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\">"
        "<fileName>[ds1] web1/web1.vmdk</fileName></backing>"
        "<capacityInKB>16777216</capacityInKB>")
    DEV("VirtualE1000e", "<key>4000</key>")
    DEV("VirtualVmxnet3", "<key>4001</key>")
    DEV("VirtualDisk", "<key>2001</key><controllerKey>15000</controllerKey>"
        "<backing><fileName>[ds1] web1/web1_1.vmdk</fileName></backing>"
        "<capacityInBytes>1073741824</capacityInBytes>")
    "</val></propSet></objects></returnval></RetrievePropertiesExResponse>";
/* clang-format on */

static const char *prop(const struct ovf_glance *g, const char *key)
{
    for (size_t off = 0; off < g->props_len;) {
        const char *k = g->props + off, *v = k + strlen(k) + 1;
        if (!strcmp(k, key))
            return v;
        off = (size_t)(v - g->props) + strlen(v) + 1;
    }
    return "";
}

int main(void)
{
    cfs_log_open("/dev/null", CFS_LOG_ERROR);
    xmlDocPtr doc;
    CHECK(cfs_xml_read(answer, sizeof answer - 1, "test", 0, &doc, NULL) == 0);
    xmlNodePtr objects =
        cfs_xml_child(cfs_xml_child(xmlDocGetRootElement(doc), NULL, "returnval"), NULL, "objects");
    struct vs_vm vm;
    CHECK(vs_vm_parse(objects, &vm) == 0);
    CHECK_STR(vm.moref, "vm-42");
    CHECK_STR(vm.name, "web1");
    CHECK_STR(vm.power_state, "poweredOff");
    CHECK(vm.n_disks == 2 && vm.info.n_disks == 2);
    CHECK_STR(vm.disks[0].file, "[ds1] web1/web1.vmdk");
    CHECK(vm.disks[0].capacity == 16ull << 30 && vm.disks[1].capacity == 1ull << 30);
    CHECK(vm.info.disks[0].controller == 6);
    CHECK_STR(vm.info.disks[0].controller_subtype, "VirtualSCSI");
    CHECK(vm.info.disks[1].controller == 20);
    CHECK(vm.info.vm.cpus == 4 && vm.info.vm.cores_per_socket == 2 && vm.info.vm.memory_mb == 2048);
    CHECK(vm.info.vm.efi && vm.info.vm.secure_boot);
    CHECK_STR(vm.info.vm.nic, "E1000e"); /* the first NIC */
    CHECK_STR(vm.info.vm.os_type, "rhel8_64Guest");

    struct ovf_glance g;
    CHECK(ovf_glance_map(&vm.info, 0, &g) == 0);
    CHECK_STR(prop(&g, "hw_disk_bus"), "scsi");
    CHECK_STR(prop(&g, "hw_scsi_model"), "vmpvscsi");
    CHECK_STR(prop(&g, "hw_vif_model"), "e1000e");
    CHECK_STR(prop(&g, "hw_firmware_type"), "uefi");
    CHECK_STR(prop(&g, "os_secure_boot"), "required");
    CHECK_STR(prop(&g, "hw_cpu_sockets"), "2");
    CHECK_STR(prop(&g, "min_ram"), "2048");
    CHECK_STR(prop(&g, "min_disk"), "16");
    CHECK_STR(prop(&g, "os_distro"), "rhel");
    CHECK_STR(prop(&g, "os_version"), "8");
    ovf_glance_free(&g);
    CHECK(ovf_glance_map(&vm.info, 1, &g) == 0);
    CHECK_STR(prop(&g, "hw_disk_bus"), "sata");
    CHECK_STR(prop(&g, "min_disk"), "1");
    ovf_glance_free(&g);

    /* The disks alone (a snapshot's configuration). */
    struct vs_disk d[VS_MAX_DISKS];
    size_t n;
    CHECK(vs_devices_disks(vs_prop(objects, "config.hardware.device"), d, &n) == 0 && n == 2);
    CHECK_STR(d[1].file, "[ds1] web1/web1_1.vmdk");
    for (size_t i = 0; i < n; i++)
        free(d[i].file);
    vs_vm_free(&vm);

    /* An object without a name is no VM. */
    xmlDocPtr bad;
    static const char noname[] = "<objects xmlns=\"urn:vim25\"><obj>vm-1</obj></objects>";
    CHECK(cfs_xml_read(noname, sizeof noname - 1, "test", 0, &bad, NULL) == 0);
    CHECK(vs_vm_parse(xmlDocGetRootElement(bad), &vm) == -EPROTO);
    vs_vm_free(&vm);
    xmlFreeDoc(bad);
    xmlFreeDoc(doc);
    return UNIT_RESULT();
}
