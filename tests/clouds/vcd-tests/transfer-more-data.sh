#!/bin/bash
# §10.4 a PUT whose body exceeds the File's size → 400 "Client sent more data than
# expected", empty body (whole PUT and ranged PUT alike); the stored byte count is not
# beyond the size.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk $((size - 100)) "$CAPACITY"
create "$NAME_PREFIX-more"
tpl
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
expect "File size (ovf:size 100 below the real length)" $((size - 100)) "$(xp "//_:File[@name='d.vmdk']/@size" "$W/tpl.xml")"
u=$(file_link d.vmdk)
tput "$u" "$W/d.vmdk"
expect "whole PUT of $size bytes into a $((size - 100))-byte File: status" 400 "$CODE"
expect "reason phrase" "Client sent more data than expected" "$REASON"
expect "body length" 0 "$(body_len)"
tpl
b=$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")
[ "$b" -le $((size - 100)) ] || fail "bytesTransferred after the refused PUT: expected <= $((size - 100)), got $b"
exit 0
