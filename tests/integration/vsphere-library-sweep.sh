#!/bin/bash
# Items that killed uploads left half-made in a content library are
# removed at the next mount (core/cloud/vsphere/sweep.c): an upload creates
# its item with its marker as the description and clears it once the item
# is complete. Made here as a killed upload leaves them: an item whose
# marker names a process of this host that is gone (removed, one log
# line), one whose marker names a live process (a running upload: kept),
# and an item cloudfs completed (its marker cleared: kept).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
host=$(hostname)
dead=$(sh -c 'echo $$')
marker() { # PID: the marker an upload of that process would write
    local start
    start=$(awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null || echo 12345)
    echo "cloudfs-upload:v1:$host:$1:$start:$(date +%s)"
}
d=dead$$ l=live$$ c=done$$
LIB_ITEMS+=("$d" "$l" "$c")
vmpy library-item-create "$LIB" "$l" "$(marker $$)" >/dev/null || fail "cannot make item $l"
mount_vsphere
head -c 1M /dev/urandom >"$WORK/c.raw" && truncate -s 4M "$WORK/c.raw"
cp "$WORK/c.raw" "$MNT/vsphere/libraries/$LIB/$c.raw" || fail "cp into the library failed"
desc=$(vmpy library-item-description "$LIB" "$c")
[[ $desc == "copied by cloudfs from /vsphere/libraries/$LIB/$c.raw" ]] ||
    fail "a complete item's description is '$desc', not what it was copied from"
unmount_cloudfs
vmpy library-item-create "$LIB" "$d" "$(marker "$dead")" >/dev/null || fail "cannot make item $d"

# The next mount sweeps: the dead upload's item goes, the others stay.
gone() { ! vmpy library-items "$LIB" | grep -q "^$d	"; }
mount_vsphere
wait_until 20 gone || fail "the remount did not remove the half-made item $d"
wait_until 5 grep -q "removed item $d of library $LIB, left half-made by the upload of cloudfs $dead on $host" "$LOG" ||
    fail "no log line for the removal: $(grep -i 'removed item' "$LOG")"
items=$(vmpy library-items "$LIB")
grep -q "^$l	" <<<"$items" || fail "the item of a live upload was removed"
grep -q "^$c	" <<<"$items" || fail "a complete item was removed"
[ "$(log_count "removed item")" = 1 ] || fail "not one removal: $(grep 'removed item' "$LOG")"
exit 0
