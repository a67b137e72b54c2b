#!/bin/bash
# The snapshot a killed mount took to read a running VM is removed by the
# next mount (core/cloud/vsphere/sweep.c): cloudfs's snapshots end their
# description with its marker (include/marker.h); at mount, one whose
# marker names a process of this host that is gone is removed (one log
# line), one of a live process and a user's own snapshot stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
host=$(hostname)
dead=$(sh -c 'echo $$')
marker() { echo "cloudfs-upload:v1:$host:$1:$(awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null || echo 1):$(date +%s)"; }
name=vsw$$
vs_raw "$WORK/d.raw" 4
vs_vm "$name" "$WORK/d.raw"
vmpy power "$name" on >/dev/null || fail "power on failed"
mount_vs
# cloudfs's own snapshot, while a file is open, carries this mount's marker.
exec 3<"$VMS/$name.raw" || fail "open of the running VM failed"
vmpy snapshots "$name" --list | grep -q "^cloudfs-[0-9]*	.*\\\\ncloudfs-upload:v1:$host:$CFS_PID:" ||
    fail "cloudfs's snapshot has not its marker: $(vmpy snapshots "$name" --list)"
exec 3<&-
unmount_cloudfs
[ "$(vmpy snapshots "$name")" = 0 ] || fail "the snapshot outlived its last file"

vmpy snapshot "$name" cloudfs-1 --description "taken by cloudfs
$(marker "$dead")" >/dev/null || fail "vm.py snapshot failed"
vmpy snapshot "$name" cloudfs-2 --description "taken by cloudfs
$(marker $$)" >/dev/null || fail "vm.py snapshot failed"
vmpy snapshot "$name" before-upgrade --description "the user's own" >/dev/null || fail "vm.py snapshot failed"
mount_vs
one_gone() { [ "$(vmpy snapshots "$name")" = 2 ]; }
wait_until 20 one_gone || fail "the sweep did not remove the dead mount's snapshot: $(vmpy snapshots "$name" --list)"
left=$(vmpy snapshots "$name" --list)
grep -q "^cloudfs-2	" <<<"$left" || fail "the snapshot of a live process was removed"
grep -q "^before-upgrade	" <<<"$left" || fail "the user's snapshot was removed"
wait_until 5 grep -q "removed snapshot cloudfs-1 of VM $name, left by cloudfs $dead on $host" "$LOG" ||
    fail "no log line for the removal: $(grep 'removed snapshot' "$LOG")"
exit 0
