#!/bin/bash
# §4.5/§10.4 a disk in strictly sequential Content-Range pieces (1 MiB, last piece
# shorter): 200 each, bytesTransferred grows by each piece, the import runs after the
# last one and the template reaches status 8.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 8
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
create "$NAME_PREFIX-rng"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
u=$(file_link d.vmdk)
piece=100000
[ "$size" -gt $((2 * piece)) ] || fail "test disk too small ($size bytes) for three pieces"
off=0
while [ $off -lt "$size" ]; do
    end=$((off + piece - 1))
    [ $end -lt "$size" ] || end=$((size - 1))
    tail -c +$((off + 1)) "$W/d.vmdk" | head -c $((end - off + 1)) >"$W/piece"
    tput "$u" "$W/piece" -H "Content-Range: bytes $off-$end/$size"
    expect "PUT bytes $off-$end/$size" 200 "$CODE"
    off=$((end + 1))
    if [ $off -lt "$size" ]; then
        tpl
        expect "bytesTransferred after a piece" $off "$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")"
        expect "status between pieces" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
    fi
done
wait_task "$TASK"
expect "task after the last piece" success "$TASK_STATUS"
tpl
expect "template status" 8 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
exit 0
