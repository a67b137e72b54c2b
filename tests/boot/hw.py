#!/usr/bin/python3
"""The virtual hardware a target cloud would give a migrated machine, as
QEMU devices, for tests/boot/boot.

  hw.py glance PROPS.json   from a Glance image's properties (a JSON object),
                            the way Nova's libvirt driver maps them
  hw.py ovf FILE.ovf        from a vCD template's OVF, the way ESXi reads it

prints one line:  machine=pc|q35 fw=bios|uefi disk=DEV nic=DEV wwn=0|1
where DEV is a QEMU device name (virtio-blk-pci, virtio-scsi-pci, pvscsi,
mptsas1068, lsi53c895a, megasas, ahci, ide; virtio-net-pci, vmxnet3,
e1000, e1000e, pcnet, rtl8139), or none:WHY when QEMU has no such device (then
the machine cannot be booted here, and nothing is claimed for it); wwn=1
when the disk has a world-wide name (a SAS address on mptsas1068): ESXi gives
every disk one, Nova never does (no <wwn> in the libvirt XML it writes, see
virt/libvirt/config.py LibvirtConfigGuestDisk), and on mptsas1068 that
decides whether Linux sees the disk at all (tests/boot/README.md).

Nova (python3-nova 26, the Zed release Debian 12 ships; paths under
/usr/lib/python3/dist-packages/nova):
- virt/libvirt/blockinfo.py get_disk_bus_for_device_type(): the disk bus is
  virt/osinfo.py HardwareProperties.disk_model, i.e. hw_disk_bus (else what
  libosinfo says for os_distro, when libosinfo is installed, which it is not
  on Debian's nova-compute by default), else for "qemu"/"kvm" a disk is
  "virtio" (virtio-blk).
- virt/libvirt/driver.py _get_guest_storage_config() adds the controller of
  _get_scsi_controller(): model hw_scsi_model when set, else no controller
  element, so libvirt picks its x86 default "lsilogic", which libvirt runs
  as QEMU's lsi53c895a. libvirt's model -> QEMU device: virtio-scsi ->
  virtio-scsi-pci, lsilogic -> lsi53c895a, lsisas1068 -> mptsas1068,
  lsisas1078 -> megasas, vmpvscsi -> pvscsi; buslogic QEMU does not have.
  Bus sata: libvirt adds an AHCI controller (QEMU "ahci"); ide: the
  machine's own PIIX IDE on pc (q35 has none: libvirt refuses it).
- virt/libvirt/vif.py LibvirtGenericVIFDriver.get_vif_model(): the NIC model
  is HardwareProperties.network_model (hw_vif_model), else "virtio" for
  qemu/kvm with [libvirt]use_virtio_for_bridges (default true); libvirt
  passes models through (virtio -> virtio-net-pci; e1000, e1000e, pcnet,
  rtl8139, vmxnet3 as they are).
- virt/libvirt/utils.py get_machine_type(): hw_machine_type, else
  [libvirt]hw_machine_type, else "pc" for x86_64 ("Nova's default for x86 is
  still 'pc'").
- virt/libvirt/driver.py _configure_guest_by_virt_type():
  hw_firmware_type=uefi boots a UEFI loader (OVMF), anything else BIOS.

ESXi (the reading of an OVF's VirtualHardwareSection):
- the disk's controller: rasd:ResourceType 6 (SCSI) with ResourceSubType
  lsilogic (LSI 53C1030: QEMU has none), lsilogicsas (LSI SAS1068:
  mptsas1068), VirtualSCSI (pvscsi), buslogic (QEMU has none); 5 (IDE: the
  PIIX4 of ESXi's 440BX board: QEMU's pc IDE); 20 (SATA,
  vmware.sata.ahci: AHCI; vmware.nvme.controller is NVMe, not booted
  here); the disk is the ResourceType 17 item whose Parent
  names its controller.
- NIC: ResourceType 10 with ResourceSubType VmxNet3, E1000 (82545EM, the
  e1000 driver as QEMU's 82540EM), E1000e (82574L: e1000e), PCNet32 (pcnet).
- firmware: <vmw:Config vmw:key="firmware" vmw:value="efi"/> boots EFI,
  else BIOS; the board is a 440BX: QEMU's pc.
"""
import json
import sys
import xml.etree.ElementTree as ET

NOVA_SCSI = {  # hw_scsi_model -> QEMU device (through libvirt's model names)
    "virtio-scsi": "virtio-scsi-pci",
    "lsilogic": "lsi53c895a",
    "lsisas1068": "mptsas1068",
    "lsisas1078": "megasas",
    "vmpvscsi": "pvscsi",
    "buslogic": "none:QEMU has no BusLogic",
    "ibmvscsi": "none:ibmvscsi is a POWER device",
}
NOVA_VIF = {
    "virtio": "virtio-net-pci",
    "e1000": "e1000",
    "e1000e": "e1000e",
    "pcnet": "pcnet",
    "rtl8139": "rtl8139",
    "ne2k_pci": "ne2k_pci",
    "vmxnet3": "vmxnet3",
}


def glance(props):
    machine = props.get("hw_machine_type") or "pc"
    fw = "uefi" if props.get("hw_firmware_type") == "uefi" else "bios"
    bus = props.get("hw_disk_bus") or "virtio"
    if bus == "virtio":
        disk = "virtio-blk-pci"
    elif bus == "scsi":
        model = props.get("hw_scsi_model")
        disk = NOVA_SCSI.get(model, "none:unknown hw_scsi_model") if model else "lsi53c895a"
    elif bus == "sata":
        disk = "ahci"
    elif bus == "ide":
        disk = "none:q35 has no IDE" if "q35" in machine else "ide"
    else:
        disk = "none:hw_disk_bus=%s" % bus
    vif = props.get("hw_vif_model") or "virtio"
    nic = NOVA_VIF.get(vif, "none:unknown hw_vif_model")
    return machine, fw, disk, nic, 0


RASD = "{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData}"
VMW = "{http://www.vmware.com/schema/ovf}"
ESXI_SCSI = {
    "lsilogic": "none:QEMU has no LSI 53C1030 (lsilogic)",
    "lsilogicsas": "mptsas1068",
    "virtualscsi": "pvscsi",
    "buslogic": "none:QEMU has no BusLogic",
}
ESXI_NIC = {"vmxnet3": "vmxnet3", "e1000": "e1000", "e1000e": "e1000e", "pcnet32": "pcnet"}


def ovf(path):
    root = ET.parse(path).getroot()
    items = {}
    order = []
    for it in root.iter():
        if not it.tag.endswith("}Item"):
            continue
        f = {c.tag[len(RASD):]: (c.text or "").strip() for c in it if c.tag.startswith(RASD)}
        items[f.get("InstanceID")] = f
        order.append(f)
    disks = [f for f in order if f.get("ResourceType") == "17"]
    ctl = items.get(disks[0].get("Parent")) if disks else None
    if ctl is None:
        disk = "none:no disk on a controller"
    elif ctl.get("ResourceType") == "6":
        sub = ctl.get("ResourceSubType", "lsilogic").lower()
        disk = ESXI_SCSI.get(sub, "none:SCSI %s" % sub)
    elif ctl.get("ResourceType") == "5":
        disk = "ide"
    elif ctl.get("ResourceType") == "20":
        sub = ctl.get("ResourceSubType", "").lower()
        disk = "none:NVMe is not in this harness" if "nvme" in sub else "ahci"
    else:
        disk = "none:controller type %s" % ctl.get("ResourceType")
    nics = [f for f in order if f.get("ResourceType") == "10"]
    sub = nics[0].get("ResourceSubType", "").lower() if nics else ""
    nic = ESXI_NIC.get(sub, "none:NIC %s" % (sub or "absent"))
    fw = "bios"
    for c in root.iter(VMW + "Config"):
        if c.get(VMW + "key") == "firmware" and c.get(VMW + "value") == "efi":
            fw = "uefi"
    return "pc", fw, disk, nic, 1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("glance", "ovf"):
        sys.exit("usage: hw.py glance PROPS.json | hw.py ovf FILE.ovf")
    if sys.argv[1] == "glance":
        with open(sys.argv[2]) as f:
            hw = glance(json.load(f))
    else:
        hw = ovf(sys.argv[2])
    print("machine=%s fw=%s disk=%s nic=%s wwn=%d" % hw)


if __name__ == "__main__":
    main()
