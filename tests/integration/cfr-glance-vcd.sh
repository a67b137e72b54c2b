#!/bin/bash
# cp from Glance into a vCD catalog goes through copy_file_range, straight
# from cloud to cloud (fs/copy.c): the .vmdk view of a qcow2 image (sent as
# is) and the native qcow2 (converted by the vCD upload). cp's calls return
# the whole size, no spool file ever holds data, and the stored disks are
# the source's guest under qemu-img compare.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
qcow=$(manifest openstack ext4 path)
comp=$(manifest openstack ext4-compressed path)
a=cfra$$ b=cfrb$$
trap 'vcd_remove migrated $a; vcd_remove migrated $b; vcd_knobs_reset; cleanup' EXIT

spool_watch_start
cfr_cp "$MNT/openstack/images/ext4.vmdk" "$MIGRATED/$a.vmdk"
cfr_cp "$MNT/openstack/images/ext4-compressed.qcow2" "$MIGRATED/$b.qcow2"
spool_watch_check
check_imported migrated "$a" "$qcow" qcow2
check_imported migrated "$b" "$comp" qcow2
# The view went unchanged: the stored disk is the view's bytes.
[ "$(sha256_of "$(vcd_disk migrated "$a")")" = "$(sha256_of "$MNT/openstack/images/ext4.vmdk")" ] ||
    fail "the stored disk of $a is not the .vmdk view's bytes"
no_spool_files
exit 0
