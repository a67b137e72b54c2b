#!/bin/bash
# §10.5 close_connection_on_put=K: the emulator drops the TCP connection in the middle
# of a disk PUT body; curl reports a transfer error (no HTTP status); bytesTransferred
# then tells where to resume, and the resumed upload completes.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 8
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
create "$NAME_PREFIX-close"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
u=$(file_link d.vmdk)
knobs '{"close_connection_on_put":1}'
tput "$u" "$W/d.vmdk"
[ "$CURL_RC" != 0 ] || fail "PUT with close_connection_on_put: expected a curl error, got exit 0 and HTTP $CODE"
case $CURL_RC in 52 | 55 | 56 | 18 | 92) ;; *) fail "PUT with close_connection_on_put: expected curl exit 52/55/56/18, got $CURL_RC (HTTP $CODE)" ;; esac
[ "$CODE" = 000 ] || fail "PUT with close_connection_on_put: expected no HTTP status, got $CODE"
knobs_reset
knobs "$FAST"
tpl
bt=$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")
[ "$bt" -lt "$size" ] || fail "bytesTransferred after a dropped connection: expected < $size, got $bt"
tail -c +$((bt + 1)) "$W/d.vmdk" >"$W/rest"
tput "$u" "$W/rest" -H "Content-Range: bytes $bt-$((size - 1))/$size"
expect "resumed PUT" 200 "$CODE"
wait_task "$TASK"
expect "task after the resumed upload" success "$TASK_STATUS"
exit 0
