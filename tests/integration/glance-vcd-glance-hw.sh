#!/bin/bash
# The round trip Glance -> vCD -> Glance gives back the hardware properties
# wherever VMware has an equivalent: an image of project demo with
# hw_disk_bus=scsi, hw_scsi_model=vmpvscsi, hw_vif_model=e1000e,
# hw_firmware_type=uefi, min_ram and a CPU topology is copied into a
# catalog as its .ova view and as its .vmdk view (ovf_map.c writes the
# OVF), then each template's .vmdk into project demo2 (ovf_glance.c reads
# it back): Glance's API shows the same values on the new images.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/hw.lib"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
name=hwrt$$
trap 'os_delete_image openstack $name; for v in ova vmdk; do vcd_remove migrated $name-$v; os_delete_image openstack2 $name-$v; done; vcd_knobs_reset; cleanup' EXIT

id=$(glance_upload "$name" "$(manifest openstack ext4 path)" qcow2) || fail "cannot upload $name to Glance"
orig='[{"op":"add","path":"/hw_disk_bus","value":"scsi"},
 {"op":"add","path":"/hw_scsi_model","value":"vmpvscsi"},
 {"op":"add","path":"/hw_vif_model","value":"e1000e"},
 {"op":"add","path":"/hw_firmware_type","value":"uefi"},
 {"op":"add","path":"/hw_cpu_sockets","value":"2"},
 {"op":"add","path":"/hw_cpu_cores","value":"3"},
 {"op":"add","path":"/os_type","value":"linux"},
 {"op":"add","path":"/os_distro","value":"debian"},
 {"op":"replace","path":"/min_ram","value":3072}]'
curl -sf -X PATCH -H "X-Auth-Token: $(os_token)" -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    -d "$orig" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null || fail "cannot set the properties of $name"

before=$(glance_props openstack "$name") || fail "no image $name in project demo"
vs=$(grep '^virtual_size=' <<<"$before" | cut -d= -f2)
for view in ova vmdk; do
    t=$name-$view
    cfr_cp "$MNT/openstack/images/$name.$view" "$MIGRATED/$t.$view"
    cfr_cp "$MIGRATED/$t.vmdk" "$MNT/openstack2/images/$t.vmdk"
    after=$(glance_props openstack2 "$t") || fail "no image $t in project demo2"
    for k in hw_disk_bus hw_scsi_model hw_vif_model hw_firmware_type hw_cpu_sockets hw_cpu_cores os_type os_distro min_ram; do
        v=$(grep "^$k=" <<<"$before" | cut -d= -f2-)
        [ -n "$v" ] || fail "the source image has no $k"
        want_prop "$after" "$k" "$v"
    done
    # The disk's size in GiB, rounded up, as the source's virtual size.
    want_prop "$after" min_disk $(((vs + (1 << 30) - 1) >> 30))
    grep -q '^cloudfs_warnings=' <<<"$after" && fail "warnings on a round trip of the .$view: $(grep '^cloudfs_warnings=' <<<"$after")"
done
exit 0
