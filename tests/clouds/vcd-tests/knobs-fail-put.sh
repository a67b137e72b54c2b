#!/bin/bash
# §10.5 fail_put_after_bytes=N (code 500, reason "Error persisting client data"): a PUT
# that goes past byte N of a file gets 500 with that reason and an empty body; what was
# stored is reported in bytesTransferred (<= N) and the client can resume from there to
# a complete import. fail_put_code/fail_put_reason change the answer.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 4
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
create "$NAME_PREFIX-fput"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
u=$(file_link d.vmdk)
knobs '{"fail_put_after_bytes":100000}'
tput "$u" "$W/d.vmdk"
expect "PUT past fail_put_after_bytes" 500 "$CODE"
expect "reason phrase" "Error persisting client data" "$REASON"
expect "body length" 0 "$(body_len)"
tpl
bt=$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")
[ "$bt" -le 100000 ] || fail "bytesTransferred after the failed PUT: expected <= 100000, got $bt"
knobs_reset
knobs "$FAST"
tail -c +$((bt + 1)) "$W/d.vmdk" >"$W/rest"
tput "$u" "$W/rest" -H "Content-Range: bytes $bt-$((size - 1))/$size"
expect "resumed PUT from bytesTransferred $bt" 200 "$CODE"
wait_task "$TASK"
expect "task after the resumed upload" success "$TASK_STATUS"

create "$NAME_PREFIX-fpc"
tpl
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
knobs '{"fail_put_after_bytes":0,"fail_put_code":503,"fail_put_reason":"Service Unavailable Now"}'
tput "$(file_link d.vmdk)" "$W/d.vmdk"
expect "PUT with fail_put_code=503" 503 "$CODE"
expect "reason with fail_put_reason" "Service Unavailable Now" "$REASON"
exit 0
