#!/bin/bash
# vms/ of a vSphere cloud lists every VM of the datacenter with a disk,
# and its hardware as the VM has it: user.cloudfs.props.* in Glance's
# names (the table of vCD templates, cloudfs(1) "VMware to OpenStack"),
# and an .ovf view that says pvscsi, VmxNet3, UEFI, 4 vCPUs in sockets of
# 2 and 2 GiB, and validates against the OVF schema.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
validate=$TOP/../shared/schemas/validate
[ -x "$validate" ] || validate=/work/shared/schemas/validate
name=vsl$$
vs_raw "$WORK/d.raw" 8
vs_vm "$name" "$WORK/d.raw" --controller pvscsi --nic vmxnet3 --firmware efi --cpus 4 \
    --cores-per-socket 2 --memory 2048 --guest ubuntu64Guest
vs_vm "${name}b" "$WORK/d.raw" --controller ahci --nic e1000e --cpus 1 --memory 512 --guest windows9_64Guest
mount_vs

ls "$VMS" >"$WORK/ls" || fail "ls vms/ failed"
for f in "$name".raw "$name".vmdk "$name".ovf "${name}b".raw; do
    grep -qxF "$f" "$WORK/ls" || fail "no $f in vms/: $(tr '\n' ' ' <"$WORK/ls")"
done
attr() { getfattr --only-values -n "user.$2" "$VMS/$1" 2>/dev/null; }
want_attr() {
    [ "$(attr "$1" "$2")" = "$3" ] || fail "$1: user.$2 is '$(attr "$1" "$2")', want '$3'"
}
want_attr "$name.raw" vsphere.power_state poweredOff
want_attr "$name.raw" vsphere.guest_id ubuntu64Guest
want_attr "$name.raw" cloudfs.props.hw_disk_bus scsi
want_attr "$name.raw" cloudfs.props.hw_scsi_model vmpvscsi
want_attr "$name.raw" cloudfs.props.hw_vif_model vmxnet3
want_attr "$name.raw" cloudfs.props.hw_firmware_type uefi
want_attr "$name.raw" cloudfs.props.hw_cpu_sockets 2
want_attr "$name.raw" cloudfs.props.hw_cpu_cores 2
want_attr "$name.raw" cloudfs.props.min_ram 2048
want_attr "$name.raw" cloudfs.props.os_distro ubuntu
want_attr "${name}b.raw" cloudfs.props.hw_disk_bus sata
want_attr "${name}b.raw" cloudfs.props.hw_vif_model e1000e
want_attr "${name}b.raw" cloudfs.props.os_type windows
[ -z "$(attr "$name.raw" cloudfs.warnings)" ] || fail "warnings on hardware that maps: $(attr "$name.raw" cloudfs.warnings)"

ovf=$WORK/$name.ovf
cp "$VMS/$name.ovf" "$ovf" || fail "reading the .ovf view failed"
grep -q '<rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>' "$ovf" || fail "the .ovf has no pvscsi controller"
grep -q '<rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>' "$ovf" || fail "the .ovf has no VmxNet3 NIC"
grep -q 'firmware" vmw:value="efi"\|vmw:key="firmware" vmw:value="efi"' "$ovf" || fail "the .ovf is not UEFI: $(grep -i firmware "$ovf")"
grep -q '<vmw:CoresPerSocket[^>]*>2</vmw:CoresPerSocket>' "$ovf" || fail "the .ovf has no 2 cores per socket"
grep -q '<rasd:VirtualQuantity>4</rasd:VirtualQuantity>' "$ovf" || fail "the .ovf has not 4 vCPUs"
grep -q '<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>' "$ovf" || fail "the .ovf has not 2048 MB"
if [ -x "$validate" ]; then "$validate" ovf "$ovf" || fail "the .ovf does not validate"; fi
exit 0
