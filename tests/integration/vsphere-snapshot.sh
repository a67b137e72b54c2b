#!/bin/bash
# A powered-on VM is read from a snapshot that the open takes (memory and
# quiescing off) and the last close removes: while two files of the VM
# are open the VM has one snapshot, the bytes are the disk's, and once
# both are closed it has none again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
name=vss$$
vs_raw "$WORK/d.raw" 16
vs_vm "$name" "$WORK/d.raw" --controller lsilogicsas
"$PY" "$VM_PY" power "$name" on >/dev/null || fail "power on failed"
mount_vs
snaps() { "$PY" "$VM_PY" snapshots "$name"; }
no_snaps() { [ "$(snaps)" = 0 ]; }

[ "$(getfattr --absolute-names --only-values -n user.vsphere.power_state "$VMS/$name.raw")" = poweredOn ] ||
    fail "the VM is not listed as powered on"
[ "$(snaps)" = 0 ] || fail "the VM has snapshots before any open"
exec 3<"$VMS/$name.raw" || fail "open of a running VM's disk failed"
exec 4<"$VMS/$name.qcow2" || fail "a second open of the running VM failed"
[ "$(snaps)" = 1 ] || fail "$(snaps) snapshots while two files are open, want 1"
cmp - "$WORK/d.raw" <&3 || fail "the running VM's disk differs from its bytes"
exec 3<&-
[ "$(snaps)" = 1 ] || fail "the snapshot went while a file was still open"
exec 4<&-
wait_until 10 no_snaps || fail "the snapshot is still there after the last close: $(snaps)"
[ "$(log_count "snapshot cloudfs-")" = 1 ] || fail "not one snapshot taken: $(grep -c 'snapshot cloudfs-' "$LOG")"
grep -q "removed" "$LOG" || fail "no log line for the snapshot's removal"
exit 0
