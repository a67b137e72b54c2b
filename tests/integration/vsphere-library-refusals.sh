#!/bin/bash
# What libraries/ of a vsphere cloud refuses: a file created in libraries/
# itself (EPERM: libraries are made by administrators), a second item of a
# name the library has (EEXIST at close, asked before any byte is sent: the
# first item keeps its one .vmdk of its size), a file in a subscribed
# library (EROFS: it mirrors another) or in vms/ (read-only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
sub=sub$$
vmpy library-subscribe "$LIB" "$sub" >/dev/null || fail "cannot make a subscribed library"
LIB_LIBS+=("$sub")
mount_vsphere
dir=$MNT/vsphere/libraries/$LIB
out=$(touch "$MNT/vsphere/libraries/x.vmdk" 2>&1) && fail "a file was created in libraries/"
echo "$out" | grep -q "Operation not permitted" || fail "touch in libraries/: '$out', want EPERM"

t=d$$
LIB_ITEMS+=("$t")
head -c 1M /dev/urandom >"$WORK/a.raw" && truncate -s 8M "$WORK/a.raw"
head -c 2M /dev/urandom >"$WORK/b.raw" && truncate -s 8M "$WORK/b.raw"
timed 120 cp "$WORK/a.raw" "$dir/$t.raw"
[ "$RC" = 0 ] || fail "first cp of $t: exit $RC"
before=$("$PY" "$VM_PY" library-items "$LIB" | awk -F'\t' -v t="$t" '$1 == t')
# Another extension, the same item name: refused by the provider.
out=$(cp "$WORK/b.raw" "$dir/$t.img" 2>&1) && fail "a second item named $t was made"
echo "$out" | grep -q "File exists" || fail "second cp: '$out', want EEXIST"
after=$("$PY" "$VM_PY" library-items "$LIB" | awk -F'\t' -v t="$t" '$1 == t')
[ "$before" = "$after" ] || fail "item $t changed: '$before' then '$after'"
grep -q "already has an item named $t" "$LOG" || fail "no log line says why"
qemu-img compare -q -f raw "$WORK/a.raw" "$dir/$t.vmdk" || fail "$t.vmdk is not the first copy"

[ -d "$MNT/vsphere/libraries/$sub" ] || fail "the subscribed library $sub is not listed"
out=$(touch "$MNT/vsphere/libraries/$sub/s.vmdk" 2>&1) && fail "a file was created in subscribed library $sub"
echo "$out" | grep -q "Read-only file system" || fail "touch in $sub: '$out', want EROFS"
out=$(touch "$MNT/vsphere/vms/y.raw" 2>&1) && fail "a file was created in vms/"
echo "$out" | grep -q "Read-only file system" || fail "touch in vms/: '$out', want EROFS"
echo "refusals: EPERM in libraries/, EEXIST for a taken name, EROFS in a subscribed library, vms/ read-only"
