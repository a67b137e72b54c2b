#!/bin/bash
# §5.3/§10.3 (issue 5: "a full upload of a qemu-img-made streamOptimized VMDK") a
# streamOptimized VMDK from `qemu-img convert -o subformat=streamOptimized` whose last
# grain holds data (every GPT disk: the backup GPT sits in the last sectors) imports:
# qemu-img writes no end-of-stream marker after the last grain, and qemu-img itself
# reads and checks the file clean. Expected: status 8, task success.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/g.vmdk" 8 streamOptimized 1
qemu-img check -q -f vmdk "$W/g.vmdk" || fail "qemu-img check of its own streamOptimized output failed"
out=$(qemu-img compare -f raw -F vmdk "$W/g.vmdk.raw" "$W/g.vmdk" 2>&1) || fail "qemu-img compare raw vs its VMDK: $out"
make_ovf "$W/g.ovf" g.vmdk "$(stat -c %s "$W/g.vmdk")" "$CAPACITY"
upload "$NAME_PREFIX-gpt" "$W/g.vmdk" "$W/g.ovf" g.vmdk
[ "$TASK_STATUS" = success ] || fail "import of a qemu-img streamOptimized VMDK with data in its last grain: expected task success, got $TASK_STATUS ($(xp "/_:Task/_:Error/@message" "$W/task.xml"))"
expect "template status" 8 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
exit 0
