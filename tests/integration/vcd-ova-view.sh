#!/bin/bash
# An .ova (here the .ova view of a Glance image) copied into a catalog is
# unpacked: its own descriptor is used and its disk imported unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
id=$(manifest openstack ext4 id)
t=ova-$$
timed 120 cp "$MNT/openstack/images/by-id/$id.ova" "$MIGRATED/$t.ova"
[ "$RC" = 0 ] || fail "cp of an .ova into migrated/ exited $RC"
check_imported migrated "$t" "$(manifest openstack ext4 path)" qcow2
vcd_remove migrated "$t"
no_spool_left
echo ".ova imported"
