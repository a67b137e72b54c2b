#!/bin/bash
# A vSphere VM into Glance is one cp (issue 18): cp …/vms/x.qcow2 images/
# goes cloud to cloud (copy_file_range, nothing spooled), the new image
# holds the VM's disk (qemu-img compare of what Glance serves), and the
# VM's hardware arrives as the properties Nova needs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/hw.lib"
. "$(dirname "$0")/vsphere.lib"
name=vsg$$
trap 'os_delete_image openstack $name; vs_cleanup' EXIT
vs_raw "$WORK/d.raw" 16
vs_vm "$name" "$WORK/d.raw" --controller pvscsi --nic vmxnet3 --firmware efi --cpus 2 \
    --memory 1024 --guest centos7_64Guest
mount_vs

cfr_cp "$VMS/$name.qcow2" "$MNT/openstack/images/$name.qcow2"
props=$(glance_props openstack "$name") || fail "no image $name in Glance"
want_prop "$props" disk_format qcow2
want_prop "$props" container_format bare
want_prop "$props" min_ram 1024
want_prop "$props" hw_disk_bus scsi
want_prop "$props" hw_scsi_model vmpvscsi
want_prop "$props" hw_vif_model vmxnet3
want_prop "$props" hw_firmware_type uefi
want_prop "$props" os_distro centos
want_prop "$props" os_version 7
tok=$(os_token)
id=$(sed -n 's/^id=//p' <<<"$props")
curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "$WORK/back.qcow2" ||
    fail "download of the new image failed"
qemu-img compare -q "$WORK/back.qcow2" "$WORK/d.raw" || fail "the image in Glance is not the VM's disk"
no_spool_files
exit 0
