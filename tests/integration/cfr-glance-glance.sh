#!/bin/bash
# cp between two OpenStack clouds of the mount (two projects of one
# Glance) goes through copy_file_range, cloud to cloud: a qcow2 with
# properties (carried over) and the 2 GiB "big" raw (one call of its whole
# size); Glance's own hashes of the copies are the sources', no spool
# file ever holds data, and the block cache is not filled for a copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
mount_cfr
[ -d "$MNT/openstack2/images" ] || skip "no cloud openstack2"
src=cfrs$$ a=cfrq$$ b=cfrbig$$
trap 'os_delete_image openstack $src; os_delete_image openstack2 $a; os_delete_image openstack2 $b; cleanup' EXIT

# A source with properties a copy carries over.
id=$(glance_upload "$src" "$(manifest openstack ext4 path)" qcow2) || fail "cannot make the source image"
curl -sf -X PATCH -H "X-Auth-Token: $(os_token)" -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    -d '[{"op":"add","path":"/os_distro","value":"debian"},{"op":"add","path":"/hw_disk_bus","value":"scsi"}]' \
    "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null || fail "cannot set the source's properties"
wait_until 10 test -e "$MNT/openstack/images/$src.qcow2" || fail "the source is not listed"

spool_watch_start
cfr_cp "$MNT/openstack/images/$src.qcow2" "$MNT/openstack2/images/$a.qcow2"
big=$MNT/openstack/images/big.raw
[ -e "$big" ] && cfr_cp "$big" "$MNT/openstack2/images/$b.raw"
spool_watch_check
# A copy reads its source once: the block cache is not filled for it.
[ -z "$(find "$WORK/cache/blocks" -type f 2>/dev/null)" ] ||
    fail "the copies left block cache entries: $(ls "$WORK/cache/blocks" | head -3)"

tok2=$(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
img() { curl -sf -H "X-Auth-Token: $tok2" "$CLOUDS_GLANCE_URL/v2/images?name=$1" | json_get images 0; }
ia=$(img "$a") || fail "openstack2 has no image $a"
[ "$(echo "$ia" | json_get os_hash_value)" = "$(glance_image "$id" | json_get os_hash_value)" ] ||
    fail "$a: Glance's hash differs from the source's"
[ "$(echo "$ia" | json_get disk_format)" = qcow2 ] || fail "$a: disk_format is not qcow2"
# The source's sha512, checked on the way, stands for the copy's: hashed once.
grep -q "uploading /openstack2/images/$a.qcow2 as image .*the source's checked sha512 stands for it" "$LOG" ||
    fail "the copy hashed its bytes with sha512 again: $(grep "uploading /openstack2/images/$a" "$LOG")"
[ "$(echo "$ia" | json_get os_distro)" = debian ] || fail "$a: os_distro was not carried over"
[ "$(echo "$ia" | json_get hw_disk_bus)" = scsi ] || fail "$a: hw_disk_bus was not carried over"
if [ -e "$big" ]; then
    ib=$(img "$b") || fail "openstack2 has no image $b"
    [ "$(echo "$ib" | json_get os_hash_value)" = "$(getfattr --absolute-names --only-values -n user.glance.os_hash_value "$big")" ] ||
        fail "$b: Glance's hash differs from big's"
    [ "$(grep -c 'copy_file_range(' "$WORK/strace.$b.raw")" = 2 ] || fail "big: not one call and the end"
fi
no_spool_files
exit 0
