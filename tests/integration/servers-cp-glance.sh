#!/bin/bash
# cp of a server's disk into the second OpenStack cloud's images/: one
# snapshot of web1 (named web1-snapshot-<UTC time>, property
# cloudfs_snapshot_of, shown in images/ afterwards), copied straight from
# cloud to cloud; the new image holds web1's disk (qemu-img compare of a
# download) and has min_ram/min_disk of web1's flavor (m1.small: 2048 MiB,
# 10 GiB). After the open, stat gives the exact size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.lib"
. "$(dirname "$0")/cfr.lib"
name=srvcopy$$
trap 'os_delete_image openstack2 $name; nova_knobs_reset; delete_snapshots web1; cleanup' EXIT
mount_servers
disk=$(server_field web1 disk_path)
wid=$(server_field web1 id)
n0=$(snapshot_count web1)

cfr_cp "$SERVERS/web1.qcow2" "$MNT/openstack2/images/$name.qcow2"
[ "$(snapshot_count web1)" = $((n0 + 1)) ] || fail "expected one new snapshot of web1 (before $n0, now $(snapshot_count web1))"

# The snapshot: active, named and marked as the brief says, in images/ now.
tok=$(os_token)
snap=$(glance_images "$tok" | awk -F'\t' '$3 ~ /^web1-snapshot-/ { print $1 "\t" $3 }' | sort -k2 | tail -1)
sid=${snap%%$'\t'*}
sname=${snap#*$'\t'}
[[ $sname =~ ^web1-snapshot-[0-9]{8}T[0-9]{6}Z$ ]] || fail "snapshot name '$sname'"
rec=$(glance_image "$sid" "$tok")
[ "$(echo "$rec" | json_get status)" = active ] || fail "snapshot $sid is not active"
[ "$(echo "$rec" | json_get cloudfs_snapshot_of)" = "$wid" ] || fail "snapshot $sid lacks cloudfs_snapshot_of=$wid"
wait_until 5 test -f "$MNT/openstack/images/by-id/$sid.qcow2" ||
    ls "$MNT/openstack/images/" | grep -q "^$sname.qcow2$" ||
    fail "the snapshot is not in images/ of the mount"

# The copy: web1's disk, the flavor's minimums.
tok2=$(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
id=$(curl -sf -H "X-Auth-Token: $tok2" "$CLOUDS_GLANCE_URL/v2/images?name=$name" | json_get images 0 id) ||
    fail "no image $name in openstack2"
rec=$(glance_image "$id" "$tok2")
[ "$(echo "$rec" | json_get min_ram)" = 2048 ] || fail "min_ram of the copy: $(echo "$rec" | json_get min_ram)"
[ "$(echo "$rec" | json_get min_disk)" = 10 ] || fail "min_disk of the copy: $(echo "$rec" | json_get min_disk)"
[ "$(echo "$rec" | json_get disk_format)" = qcow2 ] || fail "disk_format of the copy"
curl -sf -H "X-Auth-Token: $tok2" -o "$WORK/copy.qcow2" "$CLOUDS_GLANCE_URL/v2/images/$id/file" ||
    fail "cannot download the copy"
qemu-img compare -q -f qcow2 -F qcow2 "$WORK/copy.qcow2" "$disk" || fail "the copy differs from web1's disk"
[ "$(stat -c %s "$SERVERS/web1.qcow2")" = "$(stat -c %s "$WORK/copy.qcow2")" ] ||
    fail "after the open, web1.qcow2 stats as $(stat -c %s "$SERVERS/web1.qcow2"), not the snapshot's size"
exit 0
