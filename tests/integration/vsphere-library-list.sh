#!/bin/bash
# libraries/ of a vsphere cloud (vcsim): one directory per content library,
# so the library up made (migrated) is listed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
mount_vsphere
out=$(ls "$MNT/vsphere/libraries/") || fail "ls libraries/ failed"
echo "$out" | grep -qx "$LIB" || fail "libraries/ shows '$out', not $LIB"
[ -d "$MNT/vsphere/libraries/$LIB" ] || fail "libraries/$LIB is not a directory"
ls "$MNT/vsphere/libraries/$LIB" >/dev/null || fail "ls libraries/$LIB failed"
echo "libraries/ lists $LIB"
