#!/bin/bash
# §10.4 Content-Range rules, each with the exact reason phrase and an empty body, and
# bytesTransferred untouched by a refused PUT: total -1 or * → 416 "Content-Range not
# satisfiable: Request invalid"; a start other than bytesTransferred → 416
# "Content-Range not satisifiable: Request must begin at the last byte stored" (sic);
# total != size → 416; end >= total → 416; end-start+1 != Content-Length → 400; a whole
# PUT when bytes are already stored → 416 "... must begin at the last byte stored".
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
create "$NAME_PREFIX-416"
tpl
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
u=$(file_link d.vmdk)
head -c 1000 "$W/d.vmdk" >"$W/p0"
tail -c +1001 "$W/d.vmdk" | head -c 1000 >"$W/p1"

bt() { tpl; xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml"; }
refused() { # WHAT CODE REASON BT
    expect "$1: status" "$2" "$CODE"
    expect "$1: reason phrase" "$3" "$REASON"
    expect "$1: body length" 0 "$(body_len)"
    expect "$1: bytesTransferred afterwards" "$4" "$(bt)"
}
INVALID="Content-Range not satisfiable: Request invalid"
BEGIN="Content-Range not satisifiable: Request must begin at the last byte stored"

tput "$u" "$W/p0" -H "Content-Range: bytes 0-999/-1"
refused "total -1" 416 "$INVALID" 0
tput "$u" "$W/p0" -H "Content-Range: bytes 0-999/*"
refused "total *" 416 "$INVALID" 0
tput "$u" "$W/p1" -H "Content-Range: bytes 1000-1999/$size"
refused "start 1000 with nothing stored" 416 "$BEGIN" 0
tput "$u" "$W/p0" -H "Content-Range: bytes 0-999/$((size + 1))"
expect "total != size: status" 416 "$CODE"
expect "total != size: bytesTransferred" 0 "$(bt)"
tput "$u" "$W/p0" -H "Content-Range: bytes 0-1000/$size"
expect "end-start+1 (1001) != Content-Length (1000): status" 400 "$CODE"
expect "end-start+1 != Content-Length: bytesTransferred" 0 "$(bt)"

tput "$u" "$W/p0" -H "Content-Range: bytes 0-999/$size"
expect "first piece 0-999" 200 "$CODE"
expect "bytesTransferred after the first piece" 1000 "$(bt)"
tput "$u" "$W/p0" -H "Content-Range: bytes 0-999/$size"
refused "the same piece again (replayed)" 416 "$BEGIN" 1000
tput "$u" "$W/p1" -H "Content-Range: bytes 1500-2499/$size"
refused "start 1500 with 1000 stored" 416 "$BEGIN" 1000
tput "$u" "$W/d.vmdk"
refused "whole PUT with 1000 stored" 416 "$BEGIN" 1000
head -c 1000 /dev/zero >"$W/z"
tput "$u" "$W/z" -H "Content-Range: bytes $((size - 500))-$((size + 499))/$size"
expect "end >= total: status" 416 "$CODE"
tput "$u" "$W/p1" -H "Content-Range: bytes 1000-1999/$size"
expect "second piece 1000-1999" 200 "$CODE"
expect "bytesTransferred after the second piece" 2000 "$(bt)"
tput "$u" "$W/p1" -H "Content-Range: bytes=1000-1999/$size"
expect "a malformed Content-Range (bytes=)" 416 "$CODE"
exit 0
