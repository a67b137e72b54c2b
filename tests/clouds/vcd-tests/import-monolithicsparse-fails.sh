#!/bin/bash
# §5.3/§10.3 a monolithicSparse VMDK (qemu-img's default subformat) uploads fine (every
# PUT 200, all bytes stored) and fails only in the import: status -1, task error with
# an Error child, query FAILED_CREATION, Files kept.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 4 default
head -c 4 "$W/d.vmdk" | grep -q KDMV || fail "qemu-img's default VMDK has no KDMV magic"
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
upload "$NAME_PREFIX-sparse" "$W/d.vmdk" "$W/d.ovf" d.vmdk
expect_failed "monolithicSparse disk"
expect "Files kept in F" 2 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
expect "bytes stored" "$size" "$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")"
exit 0
