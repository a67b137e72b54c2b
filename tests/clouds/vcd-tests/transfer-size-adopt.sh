#!/bin/bash
# §10.3/§10.4 a reference without ovf:size → File size -1; a ranged PUT adopts the total
# of its Content-Range as the size; a whole PUT into another size -1 File adopts its
# length; both uploads then complete (status 8).
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 4
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "" "$CAPACITY"

create "$NAME_PREFIX-adr"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
expect "File size without ovf:size" -1 "$(xp "//_:File[@name='d.vmdk']/@size" "$W/tpl.xml")"
u=$(file_link d.vmdk)
head -c 100000 "$W/d.vmdk" >"$W/p0"
tput "$u" "$W/p0" -H "Content-Range: bytes 0-99999/$size"
expect "first piece into a size -1 File" 200 "$CODE"
tpl
expect "File size adopted from Content-Range" "$size" "$(xp "//_:File[@name='d.vmdk']/@size" "$W/tpl.xml")"
tail -c +100001 "$W/d.vmdk" >"$W/p1"
tput "$u" "$W/p1" -H "Content-Range: bytes 100000-$((size - 1))/$size"
expect "last piece" 200 "$CODE"
wait_task "$TASK"
expect "task (ranged, size adopted)" success "$TASK_STATUS"

create "$NAME_PREFIX-adw"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
tput "$(file_link d.vmdk)" "$W/d.vmdk"
expect "whole PUT into a size -1 File" 200 "$CODE"
wait_task "$TASK"
expect "task (whole PUT, size adopted)" success "$TASK_STATUS"
expect "control state: adopted size" "$size" "$(tstate "$NAME_PREFIX-adw" 'files[] | select(.name == "d.vmdk") | .size')"
exit 0
