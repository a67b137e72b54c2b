#!/bin/bash
# An upload into libraries/<lib> whose source breaks midway (a Glance image
# whose every response the fault proxy resets after 1 MiB, copied straight
# from the mount) fails: cp exits non-zero, the log says why, and the
# library is left without the item (the update session is failed and the
# half-made item deleted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
use_proxy
mount_vsphere -o clouds=t:vsphere,retries=0
dir=$MNT/vsphere/libraries/$LIB
id=$(manifest openstack ext4-raw id)
[ -n "$id" ] || skip "no ext4-raw sample image"
src=$MNT/t/images/by-id/$id.raw
[ -f "$src" ] || fail "no $src"
t=f$$
LIB_ITEMS+=("$t")
proxy_ctl add mode=reset "match=$id/file" count=1000 after=$((1 << 20)) || fail "proxy rule"
timed 300 cp "$src" "$dir/$t.raw" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp succeeded although every read of the source broke"
[ "$(proxy_applied)" -ge 1 ] || fail "the proxy broke no response"
items=$("$PY" "$VM_PY" library-items "$LIB") || fail "vm.py library-items"
echo "$items" | awk -F'\t' -v t="$t" '$1 == t {found = 1} END {exit !found}' &&
    fail "the failed upload left item $t: $items"
grep -E "error.*upload of /vsphere/libraries/$LIB/$t\.raw" "$LOG" >/dev/null ||
    fail "no error line names the upload of $t.raw: $(grep "$t" "$LOG")"
ls "$dir" | grep -q "^$t\." && fail "$t is listed after the failed upload"
grep "f$$" "$LOG" | tail -4
echo "a broken upload: cp fails ($(head -c 100 "$WORK/err")), no item left"
