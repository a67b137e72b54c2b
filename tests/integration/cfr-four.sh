#!/bin/bash
# Four cp between clouds of the mount at once, each through copy_file_range
# and straight from cloud to cloud: two Glance images into a vCD catalog,
# one into the other OpenStack project, a vCD template into Glance. Every
# result is its source's, and no spool file ever holds data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
[ -d "$MNT/openstack2/images" ] || skip "no cloud openstack2"
a=cfr4a$$ b=cfr4b$$ c=cfr4c$$ d=cfr4d$$
trap 'vcd_remove migrated $a; vcd_remove migrated $b; os_delete_image openstack2 $c; os_delete_image openstack $d; vcd_knobs_reset; cleanup' EXIT
img=$MNT/openstack/images
gold=$(ls "$MNT/vcloud/catalogs/golden/"*.vmdk | head -1)

spool_watch_start
cfr_cp "$img/ext4.vmdk" "$MIGRATED/$a.vmdk" &
p1=$!
cfr_cp "$img/ext4-compressed.qcow2" "$MIGRATED/$b.qcow2" &
p2=$!
cfr_cp "$img/ext4-raw.raw" "$MNT/openstack2/images/$c.raw" &
p3=$!
cfr_cp "$gold" "$img/$d.vmdk" &
p4=$!
for p in $p1 $p2 $p3 $p4; do wait $p || fail "a copy failed (see above)"; done
spool_watch_check
# All four ran at the same time: each started before any ended.
first_done=$(grep -n 'upload of .*/cfr4[abcd][0-9]*\.[a-z0-9]*: done' "$LOG" | head -1 | cut -d: -f1)
starts=$(head -n "$first_done" "$LOG" | grep -c 'upload of .*/cfr4[abcd].*copied from')
[ "$starts" = 4 ] || echo "note: only $starts of the copies had started when the first ended"

check_imported migrated "$a" "$(manifest openstack ext4 path)" qcow2
check_imported migrated "$b" "$(manifest openstack ext4-compressed path)" qcow2
[ "$(sha256_of "$MNT/openstack2/images/$c.raw")" = "$(manifest openstack ext4-raw sha256)" ] || fail "$c differs"
[ "$(sha256_of "$img/$d.vmdk")" = "$(sha256_of "$gold")" ] || fail "$d differs from $gold"
no_spool_files
exit 0
