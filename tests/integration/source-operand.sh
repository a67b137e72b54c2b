#!/bin/bash
# cloudfs SOURCE MOUNTPOINT, as mount.fuse3 runs it for mount(8) and fstab,
# mounts at MOUNTPOINT and ignores SOURCE (the clouds come from the
# configuration); a third operand is refused before anything is mounted.
. "$(dirname "$0")/lib.sh"
mkdir -p "$MNT" "$WORK/src"
cd "$WORK" || fail "no $WORK"
"$CLOUDFS" "$WORK/src" "$MNT" -f -o "log=$LOG,clouds=openstack" >>"$CFS_OUT" 2>&1 &
CFS_PID=$!
wait_until 10 mountpoint -q "$MNT" || fail "cloudfs SOURCE MOUNTPOINT did not mount MOUNTPOINT"
mountpoint -q "$WORK/src" && fail "SOURCE was mounted"
ls "$MNT/openstack/images" | grep -q '^ext4\.qcow2$' || fail "openstack/images lists no ext4.qcow2"
unmount_cloudfs

"$CLOUDFS" a "$WORK/src" "$MNT" -f -o "log=$LOG,clouds=openstack" >"$WORK/three.out" 2>&1 &&
    fail "three operands should be refused"
mountpoint -q "$MNT" || mountpoint -q "$WORK/src" && fail "mounted with three operands"
grep -q "too many operands" "$WORK/three.out" || fail "no message for three operands: $(cat "$WORK/three.out")"
echo "cloudfs SOURCE MOUNTPOINT mounts MOUNTPOINT; three operands are refused"
exit 0
