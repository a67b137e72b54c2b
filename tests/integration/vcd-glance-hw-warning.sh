#!/bin/bash
# A VMware template on hardware QEMU has no equivalent for (an LSI Logic
# parallel controller, a VmxNet2 NIC) copied into Glance: the best chance
# is written (hw_disk_bus=sata, hw_vif_model=e1000, no hw_scsi_model),
# one log line says why, and the new image's file shows it as
# user.cloudfs.warnings (kept as the Glance property cloudfs_warnings),
# which its views do not take for their own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/hw.lib"
command -v getfattr >/dev/null || skip "getfattr missing (package attr)"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
name=hww$$
trap 'vcd_remove migrated $name; os_delete_image openstack $name; vcd_knobs_reset; cleanup' EXIT

vmware_ova "$WORK/$name.ova" "$name" lsilogic VmxNet2 bios rhel7_64Guest
cp "$WORK/$name.ova" "$MIGRATED/" || fail "cp of the VMware OVA into the catalog failed"

cfr_cp "$MIGRATED/$name.vmdk" "$MNT/openstack/images/$name.vmdk"
props=$(glance_props openstack "$name") || fail "no image $name in Glance"
want_prop "$props" hw_disk_bus sata
want_prop "$props" hw_vif_model e1000
want_prop "$props" os_distro rhel
want_prop "$props" os_version 7
grep -q '^hw_scsi_model=' <<<"$props" && fail "hw_scsi_model on a disk moved to SATA: $(grep '^hw_scsi_model=' <<<"$props")"
grep -q '^hw_firmware_type=' <<<"$props" && fail "hw_firmware_type on a BIOS guest"
n=$(log_count "upload of /openstack/images/$name.vmdk: the source's hardware has no equivalent here: .*lsilogic.*VmxNet2")
[ "$n" = 1 ] || fail "$n log lines of the warning, want 1: $(grep 'no equivalent' "$LOG")"
grep -q '^cloudfs_warnings=.*53C1030' <<<"$props" || fail "no cloudfs_warnings property: $props"
w=$(getfattr --absolute-names --only-values -n user.cloudfs.warnings "$MNT/openstack/images/$name.vmdk" 2>&1) ||
    fail "no user.cloudfs.warnings on the new image's file: $w"
grep -q 'lsilogic' <<<"$w" && grep -q 'VmxNet2' <<<"$w" || fail "user.cloudfs.warnings says: $w"
# The image's .ova view has warnings of its own (its OVF's: none here), not
# the migration's.
ova=$MNT/openstack/images/$name.ova
[ -f "$ova" ] || fail "no .ova view of the new image"
w=$(getfattr --absolute-names --only-values -n user.cloudfs.warnings "$ova" 2>&1) && fail "the .ova view shows warnings: $w"
getfattr --absolute-names -d -m - "$ova" 2>/dev/null | grep -q '^user.cloudfs.warnings=' && fail "listxattr of the .ova view names the image's warnings"
exit 0
