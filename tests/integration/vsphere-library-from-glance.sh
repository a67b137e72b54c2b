#!/bin/bash
# OpenStack to vSphere is one cp: a Glance image with hardware properties
# (pvscsi, vmxnet3, 2 sockets of 2 cores, 3 GiB) copied as its .ova view
# into libraries/migrated/ goes cloud to cloud (copy_file_range, nothing
# spooled) and becomes an OVF item that vSphere itself deploys into a VM
# (the simulator's OVF deploy), whose devices are the image's hardware and
# whose listing in vms/ carries it back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/vsphere.lib"
name=g2l$$
trap 'os_delete_image openstack $name; vs_cleanup' EXIT
LIB_ITEMS+=("$name")
LIB_VMS+=("${name}vm")
id=$(glance_upload "$name" "$(manifest openstack ext4 path)" qcow2) || fail "cannot upload $name to Glance"
props='[{"op":"add","path":"/hw_disk_bus","value":"scsi"},
 {"op":"add","path":"/hw_scsi_model","value":"vmpvscsi"},
 {"op":"add","path":"/hw_vif_model","value":"vmxnet3"},
 {"op":"add","path":"/hw_cpu_sockets","value":"2"},
 {"op":"add","path":"/hw_cpu_cores","value":"2"},
 {"op":"replace","path":"/min_ram","value":3072}]'
curl -sf -X PATCH -H "X-Auth-Token: $(os_token)" -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    -d "$props" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null || fail "cannot set the properties of $name"
mount_vs -o list_ttl=1
dst=$MNT/vsphere/libraries/$LIB

cfr_cp "$MNT/openstack/images/$name.ova" "$dst/$name.ova"
no_spool_files
vmpy library-items "$LIB" | grep -q "^$name	ovf	" || fail "no OVF item $name in $LIB: $(vmpy library-items "$LIB")"
out=$(vmpy deploy "$LIB" "$name" "${name}vm" 2>&1) || fail "vSphere does not deploy item $name: $out"
devs=$(vmpy devices "${name}vm") || fail "vm.py devices"
grep -q "	ParaVirtualSCSIController	" <<<"$devs" || fail "the deployed VM has no pvscsi controller: $devs"
grep -q "	VirtualVmxnet3	" <<<"$devs" || fail "the deployed VM has no vmxnet3 NIC: $devs"
grep -q "	VirtualDisk	" <<<"$devs" || fail "the deployed VM has no disk: $devs"
qemu-img compare -q "$dst/$name.vmdk" "$(manifest openstack ext4 path)" ||
    fail "the item's disk read back is not the image's"
echo "cp of $name.ova made item $name; vSphere deployed ${name}vm on pvscsi + vmxnet3"
exit 0
