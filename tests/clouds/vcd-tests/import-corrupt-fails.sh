#!/bin/bash
# §5.3/§10.3 random bytes named .vmdk, and a qcow2 disguised as .vmdk, are stored
# (PUT 200) and fail the import: status -1, task error.
. "$(dirname "$0")/lib.sh"
login
head -c 1000000 /dev/urandom >"$W/r.vmdk"
make_ovf "$W/r.ovf" r.vmdk 1000000 8388608
upload "$NAME_PREFIX-rand" "$W/r.vmdk" "$W/r.ovf" r.vmdk
expect_failed "random bytes as a VMDK"
qemu-img create -q -f qcow2 "$W/q.vmdk" 8M || fail "qemu-img create qcow2"
make_ovf "$W/q.ovf" q.vmdk "$(stat -c %s "$W/q.vmdk")" 8388608
upload "$NAME_PREFIX-qcow" "$W/q.vmdk" "$W/q.ovf" q.vmdk
expect_failed "qcow2 as a VMDK"
# a streamOptimized VMDK cut short but declared at its cut length
make_disk "$W/s.vmdk" 4
head -c 70000 "$W/s.vmdk" >"$W/c.vmdk"
make_ovf "$W/c.ovf" c.vmdk 70000 "$CAPACITY"
upload "$NAME_PREFIX-cut" "$W/c.vmdk" "$W/c.ovf" c.vmdk
expect_failed "truncated streamOptimized VMDK"
exit 0
