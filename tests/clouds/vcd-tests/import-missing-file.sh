#!/bin/bash
# §5.2/§10.3 a Disk whose ovf:fileRef names no References/File is a bad descriptor:
# status -1, task error (state F), no upload link for it.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
FILEREF=file9 make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-miss"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_task "$TASK" 5
tpl
expect_failed "Disk with ovf:fileRef to a missing File"
exit 0
