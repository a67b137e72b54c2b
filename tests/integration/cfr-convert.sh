#!/bin/bash
# The target's name chooses the format on the copy_file_range path too: cp
# of a vCD template's .vmdk into images/ as NAME.qcow2, and of a Glance qcow2
# image as NAME.raw, converts while it streams from the source view, cloud
# to cloud: no spool file ever holds data. The new images' disk_format is
# the name's; their bytes, downloaded through Glance's API, are that format
# and the source's guest (qemu-img compare).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
mount_cfr
gold=$MNT/vcloud/catalogs/golden
[ -d "$gold" ] || skip "this cloudfs has no vcloud provider"
src=$(ls "$gold"/*.vmdk | head -1)
name=cfrc$$
trap 'os_delete_image openstack $name; os_delete_image openstack $name-r; vcd_knobs_reset; cleanup' EXIT
tok=$(os_token)

# landed NAME FORMAT SRC SRCFMT: image NAME is FORMAT, the guest of SRC.
landed() {
    local id img got=$WORK/got
    id=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=$1" | json_get images 0 id) ||
        fail "Glance has no image $1"
    img=$(glance_image "$id" "$tok")
    [ "$(echo "$img" | json_get disk_format)" = "$2" ] || fail "$1: disk_format $(echo "$img" | json_get disk_format), want $2"
    [ "$(echo "$img" | json_get container_format)" = bare ] || fail "$1 is not bare"
    curl -sf -H "X-Auth-Token: $tok" -o "$got" "$CLOUDS_GLANCE_URL/v2/images/$id/file" || fail "cannot download $1"
    [ "$(qemu-img info --output=json -f "$2" "$got" | json_get format)" = "$2" ] || fail "$1 is not $2"
    qemu-img compare -q -f "$4" -F "$2" "$3" "$got" || fail "$1: not the guest of $3"
    rm -f "$got"
}

spool_watch_start
cfr_cp "$src" "$MNT/openstack/images/$name.qcow2"
q=$(sample_file openstack ext4)
cfr_cp "$q" "$MNT/openstack/images/$name-r.raw"
spool_watch_check
no_spool_files
landed "$name" qcow2 "$src" vmdk
landed "$name-r" raw "$q" qcow2
[ "$(log_count "upload of .*$name.qcow2: vmdk converted to qcow2 while it is sent")" = 1 ] ||
    fail "no log line for the conversion"
exit 0
