#!/bin/bash
# The target's name chooses the format (cloudfs(1)): a file written into
# images/ as NAME.raw, NAME.vmdk, NAME.qcow2 or NAME.vhd holding a disk of
# another format (qcow2, VMDK, VHD) is converted from the spool at close and
# lands in that format: Glance's disk_format says so, and the image's bytes,
# downloaded through Glance's API, are that format (qemu-img info) and the
# same guest (qemu-img compare). .img keeps the content's format, bytes
# unchanged; raw content under a non-raw name stays EINVAL and leaves nothing.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img missing"

TOK=$(os_token)
[ -n "$TOK" ] || fail "no Keystone token"
P=gconv-$$-$RANDOM
trap 'delete_named; cleanup' EXIT

images() {
    curl -sf -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images?name=$1" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
delete_named() {
    for n in r v q h i bad; do
        for id in $(images "$P-$n"); do
            curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$id"
        done
    done
}
field() { glance_image "$1" "$TOK" | json_get "$2"; }

qcow=$(manifest openstack ext4 path)
raw=$(manifest openstack ext4-raw path)
qemu-img convert -f qcow2 -O vmdk "$qcow" "$WORK/in.vmdk" || fail "qemu-img cannot make a VMDK"
dir=$MNT/openstack/images
mount_cloudfs

# check NAME SRC SRCFMT FORMAT QEMUFMT: image NAME is active, bare, FORMAT,
# its bytes (through the API) read by qemu-img as QEMUFMT are SRC's guest.
check() {
    local id got
    id=$(images "$1")
    [ "$(echo "$id" | wc -w)" = 1 ] || fail "expected one image $1, found: $id"
    [ "$(field "$id" status)" = active ] || fail "$1 is not active"
    [ "$(field "$id" disk_format)" = "$4" ] || fail "$1 has disk_format $(field "$id" disk_format), want $4"
    [ "$(field "$id" container_format)" = bare ] || fail "$1 is not bare"
    got=$WORK/$1.got
    curl -sf -H "X-Auth-Token: $TOK" -o "$got" "$CLOUDS_GLANCE_URL/v2/images/$id/file" || fail "cannot download $1"
    [ "$(md5sum <"$got" | cut -d' ' -f1)" = "$(field "$id" checksum)" ] || fail "$1: Glance's checksum is not its bytes'"
    [ "$(qemu-img info --output=json -f "$5" "$got" | json_get format)" = "$5" ] || fail "$1 is not $5"
    qemu-img compare -q -f "$3" -F "$5" "$2" "$got" || fail "$1: not the same guest as $2"
    rm -f "$got"
}

for x in "r.raw $qcow qcow2 raw raw" "v.vmdk $qcow qcow2 vmdk vmdk" \
    "q.qcow2 $WORK/in.vmdk vmdk qcow2 qcow2" "h.vhd $qcow qcow2 vhd vpc"; do
    set -- $x
    timed 120 cp "$2" "$dir/$P-$1"
    [ $RC = 0 ] || fail "cp of a $3 disk as $P-$1 failed (exit $RC)"
    check "$P-${1%%.*}" "$2" "$3" "$4" "$5"
    [ "$(log_count "upload of .*$P-$1: $3 converted to $4 while it is sent")" = 1 ] ||
        fail "no log line for the conversion of $P-$1"
done
[ -e "$dir/$P-r.raw" ] && [ -e "$dir/$P-q.qcow2" ] || fail "the listing does not show the converted images"

# .img: the content's format, the bytes as they were
timed 120 cp "$qcow" "$dir/$P-i.img"
[ $RC = 0 ] || fail "cp of a qcow2 as .img failed (exit $RC)"
id=$(images "$P-i")
[ "$(field "$id" disk_format)" = qcow2 ] || fail ".img: disk_format $(field "$id" disk_format), want qcow2"
[ "$(field "$id" checksum)" = "$(md5sum <"$qcow" | cut -d' ' -f1)" ] || fail ".img: the bytes changed"
[ "$(log_count "upload of .*$P-i.img: .* converted")" = 0 ] || fail ".img was converted"

# raw content under a non-raw name: EINVAL, nothing left
for ext in qcow2 vmdk vhd; do
    cp "$raw" "$dir/$P-bad.$ext" 2>"$WORK/err" && fail "a raw disk named .$ext was accepted"
    grep -q "Invalid argument" "$WORK/err" || fail "raw as .$ext: not EINVAL: $(cat "$WORK/err")"
    [ "$(log_count "$P-bad.$ext holds a raw disk")" = 1 ] || fail "no log line for raw as .$ext"
done
[ -z "$(images "$P-bad")" ] || fail "a refused upload left an image"
exit 0
