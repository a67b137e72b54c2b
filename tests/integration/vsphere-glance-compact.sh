#!/bin/bash
# A vSphere flat disk has no allocation map over /folder, so the .qcow2 the
# mount lists holds every cluster, zeros included. Copied into Glance it must
# not: the copy reads the disk once to find its zeros and uploads a qcow2 of
# the data alone, as qemu-img convert makes (issue 18: a 100 GiB thin disk
# with 10 GiB written is not a 100 GiB image). The image is the VM's disk
# (qemu-img compare), and the log says what the scan found.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/hw.lib"
. "$(dirname "$0")/vsphere.lib"
name=vsc$$
trap 'os_delete_image openstack $name; os_delete_image openstack $name-v; vs_cleanup' EXIT
vs_raw "$WORK/d.raw" 64 # 64 MiB, about 3 MiB of data
vs_vm "$name" "$WORK/d.raw"
mount_vs

listed=$(stat -c %s "$VMS/$name.qcow2")
[ "$listed" -gt $((64 << 20)) ] || fail "the listed .qcow2 ($listed bytes) is not the whole disk's"
cfr_cp "$VMS/$name.qcow2" "$MNT/openstack/images/$name.qcow2"
props=$(glance_props openstack "$name") || fail "no image $name in Glance"
size=$(sed -n 's/^size=//p' <<<"$props")
[ -n "$size" ] && [ "$size" -lt $((6 << 20)) ] ||
    fail "the image in Glance has $size bytes for about 3 MiB of data (listed view: $listed)"
tok=$(os_token)
id=$(sed -n 's/^id=//p' <<<"$props")
curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "$WORK/back.qcow2" ||
    fail "download of the new image failed"
qemu-img check -q "$WORK/back.qcow2" || fail "qemu-img check refuses the new image"
qemu-img compare -q "$WORK/back.qcow2" "$WORK/d.raw" || fail "the image in Glance is not the VM's disk"
grep -q "vms/$name.qcow2: 3 of 64 MiB hold data" "$WORK/cloudfs.log" ||
    fail "no log line of the scan: $(grep -i "hold data\|$name" "$WORK/cloudfs.log" | tail -3)"

# The same for a .vmdk view: a streamOptimized image of the data's grains.
cfr_cp "$VMS/$name.vmdk" "$MNT/openstack/images/$name-v.vmdk"
glance_props openstack "$name-v" >/dev/null || fail "no image $name-v in Glance"
[ "$(log_count "vms/$name.vmdk: 3 of 64 MiB hold data")" = 1 ] ||
    fail "the .vmdk copy did not scan the disk: $(grep "$name.vmdk" "$WORK/cloudfs.log" | tail -3)"
no_spool_files
exit 0
