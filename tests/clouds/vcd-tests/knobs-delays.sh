#!/bin/bash
# §10.5 delays make the states observable: descriptor_delay=0.8 keeps the template in B
# (descriptor not processed) for 0.8 s; import_delay=1.0 keeps it in D (task running,
# Files listed, status 0) with Progress rising above 1 before success;
# enable_download_delay=0.8 keeps the enableDownload task running.
. "$(dirname "$0")/lib.sh"
knobs '{"descriptor_delay":0.8,"import_delay":1.0,"enable_download_delay":0.8}'
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-delay"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
sleep 0.4
tpl
expect "0.4 s into descriptor_delay=0.8: ovfDescriptorUploaded" false "$(xp /_:VAppTemplate/@ovfDescriptorUploaded "$W/tpl.xml")"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
tput "$(file_link d.vmdk)" "$W/d.vmdk"
expect "disk PUT" 200 "$CODE"
sleep 0.6
tpl
expect "0.6 s into import_delay=1.0: status" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
expect "D: task" running "$(xp '//_:Tasks/_:Task/@status' "$W/tpl.xml")"
expect "D: Files still listed" 2 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
p=$(xp '//_:Tasks/_:Task/_:Progress' "$W/tpl.xml")
[ "$p" -gt 1 ] && [ "$p" -lt 100 ] || fail "D: Progress halfway through the import: expected 2..99, got '$p'"
wait_task "$TASK" 5
expect "task" success "$TASK_STATUS"
api POST "$TPL/action/enableDownload"
expect "enableDownload" 202 "$CODE"
t=$(xp /_:Task/@href)
sleep 0.4
api GET "$t"
expect "0.4 s into enable_download_delay=0.8: task" running "$(xp /_:Task/@status)"
wait_task "$t" 5
expect "enableDownload task" success "$TASK_STATUS"
exit 0
