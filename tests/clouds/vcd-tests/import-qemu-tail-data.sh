#!/bin/bash
# §5.3/§10.3, ref/formats.md §3.5 and §3.10: qemu-img's streamOptimized output has no
# end-of-stream marker (qemu writes none; qemu issue #1357: ESXi's stream reader rejects
# such a disk in an OVF until one zero sector is appended). A disk whose last grain
# holds data (every GPT disk: the backup GPT sits in the last sectors) therefore ends
# in grain data, and the import must fail (status -1, task error); the same file with
# the zero sector appended - what users of qemu-img do - imports (status 8).
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/g.vmdk" 8 streamOptimized 1
qemu-img check -q -f vmdk "$W/g.vmdk" || fail "qemu-img check of its own streamOptimized output failed"
out=$(qemu-img compare -f raw -F vmdk "$W/g.vmdk.raw" "$W/g.vmdk" 2>&1) || fail "qemu-img compare raw vs its VMDK: $out"
make_ovf "$W/g.ovf" g.vmdk "$(stat -c %s "$W/g.vmdk")" "$CAPACITY"
upload "$NAME_PREFIX-bare" "$W/g.vmdk" "$W/g.ovf" g.vmdk
[ "$TASK_STATUS" = error ] || fail "a VMDK without end-of-stream marker: expected task error, got $TASK_STATUS"
expect "template status" -1 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
xp "/_:Task/_:Error/@message" "$W/task.xml" | grep -qi 'end-of-stream' ||
    fail "the task error does not name the missing end-of-stream marker: $(xp "/_:Task/_:Error/@message" "$W/task.xml")"

# The fix users apply: sector-align (qemu already does) and append one zero sector.
head -c 512 /dev/zero >>"$W/g.vmdk"
out=$(qemu-img compare -f raw -F vmdk "$W/g.vmdk.raw" "$W/g.vmdk" 2>&1) || fail "qemu-img compare after the EOS sector: $out"
make_ovf "$W/g.ovf" g.vmdk "$(stat -c %s "$W/g.vmdk")" "$CAPACITY"
upload "$NAME_PREFIX-eos" "$W/g.vmdk" "$W/g.ovf" g.vmdk
[ "$TASK_STATUS" = success ] || fail "with the end-of-stream sector appended: expected task success, got $TASK_STATUS ($(xp "/_:Task/_:Error/@message" "$W/task.xml"))"
expect "template status" 8 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
exit 0
