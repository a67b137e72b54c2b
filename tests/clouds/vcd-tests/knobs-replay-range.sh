#!/bin/bash
# §10.5 replay_range: a piece is stored but answered with 416 "Content-Range not
# satisifiable: Request must begin at the last byte stored" (a load balancer's replay);
# bytesTransferred shows it was stored; re-sending it gets the same 416 for real, and
# continuing from bytesTransferred completes the upload.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 4
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
create "$NAME_PREFIX-replay"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
u=$(file_link d.vmdk)
head -c 50000 "$W/d.vmdk" >"$W/p0"
knobs '{"replay_range":true}'
tput "$u" "$W/p0" -H "Content-Range: bytes 0-49999/$size"
expect "piece answered as a replay" 416 "$CODE"
expect "reason" "Content-Range not satisifiable: Request must begin at the last byte stored" "$REASON"
knobs_reset
knobs "$FAST"
tpl
expect "bytesTransferred after the replayed piece" 50000 "$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")"
tput "$u" "$W/p0" -H "Content-Range: bytes 0-49999/$size"
expect "the same piece re-sent" 416 "$CODE"
tail -c +50001 "$W/d.vmdk" >"$W/rest"
tput "$u" "$W/rest" -H "Content-Range: bytes 50000-$((size - 1))/$size"
expect "the rest from bytesTransferred" 200 "$CODE"
wait_task "$TASK"
expect "task" success "$TASK_STATUS"
exit 0
