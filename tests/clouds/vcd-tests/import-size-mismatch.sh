#!/bin/bash
# §4.5/§10.3 a size that disagrees with the bytes sent fails: ovf:size 1000 bytes above
# the real length → the PUT of the real file is taken (200), bytesTransferred < size,
# no import (task still running, status 0) and, with transfer_idle_timeout=1, the task
# ends in error TIMEDOUT and the template in status -1.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk $((size + 1000)) "$CAPACITY"
create "$NAME_PREFIX-short"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
tput "$(file_link d.vmdk)" "$W/d.vmdk"
expect "PUT of fewer bytes than ovf:size" 200 "$CODE"
sleep 0.6      # import_delay is 0.2: an import would be over
tpl
expect "status with bytes missing" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
expect "bytesTransferred" "$size" "$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")"
expect "task with bytes missing" running "$(xp '//_:Tasks/_:Task/@status' "$W/tpl.xml")"
expect "Progress with bytes missing" 1 "$(xp '//_:Tasks/_:Task/_:Progress' "$W/tpl.xml")"
knobs '{"transfer_idle_timeout":1}'
sleep 1.5
wait_task "$TASK" 5
tpl
expect_failed "upload left short"
expect "minorErrorCode of the idle upload" TIMEDOUT "$(xp '/_:Task/_:Error/@minorErrorCode' "$W/task.xml")"
exit 0
