#!/bin/bash
# mv of an image's file within images/ renames the Glance image: the same
# id, no upload, every view follows (x.vmdk becomes y.vmdk), one log line.
# Renames that cannot be made fail and leave the image as it was: onto
# another image's name (EEXIST), from by-id/ (EPERM); to another extension
# it is a conversion (EXDEV: mv copies, converting to the name's format,
# and its unlink is refused without allow_delete).
. "$(dirname "$0")/lib.sh"

TOK=$(os_token)
[ -n "$TOK" ] || fail "no Keystone token"
P=mvg-$$-$RANDOM
trap 'for n in "$P-a" "$P-b" "$P-c" "$P-x"; do for id in $(ids "$n"); do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$id"; done; done
      cleanup' EXIT
ids() {
    curl -sf -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images?name=$1" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
qemu-img create -q -f qcow2 "$WORK/a.qcow2" 8M || fail "qemu-img create failed"
id=$(glance_upload "$P-a" "$WORK/a.qcow2" qcow2) || fail "cannot create image $P-a"
idc=$(glance_upload "$P-c" "$WORK/a.qcow2" qcow2) || fail "cannot create image $P-c"
dir=$MNT/openstack/images
mount_cloudfs
qemu-img compare -q -f qcow2 -F vmdk "$WORK/a.qcow2" "$dir/$P-a.vmdk" || fail "$P-a.vmdk is not the image's disk"

mv "$dir/$P-a.vmdk" "$dir/$P-b.vmdk" 2>"$WORK/err" || fail "mv within images/ failed: $(cat "$WORK/err")"
[ "$(glance_image "$id" "$TOK" | json_get name)" = "$P-b" ] || fail "Glance's image $id is not named $P-b"
[ -z "$(ids "$P-a")" ] || fail "an image named $P-a is left"
[ "$(ids "$P-b")" = "$id" ] || fail "images named $P-b: $(ids "$P-b" | tr '\n' ' '), want only $id"
[ "$(log_count "upload of")" = 0 ] || fail "the rename uploaded: $(grep 'upload of' "$LOG" | head -2)"
[ "$(log_count "renamed $P-a \($id\) to $P-b")" = 1 ] || fail "no single log line of the rename: $(grep -i renam "$LOG")"
for v in qcow2 vmdk ova; do
    [ -e "$dir/$P-a.$v" ] && fail "$P-a.$v is still listed"
    [ -f "$dir/$P-b.$v" ] || fail "$P-b.$v is not listed"
done
qemu-img compare -q -f qcow2 -F vmdk "$WORK/a.qcow2" "$dir/$P-b.vmdk" || fail "the renamed view is not the image's disk"

# Onto another image's name: EEXIST, nothing changes.
mv -T "$dir/$P-b.qcow2" "$dir/$P-c.qcow2" 2>"$WORK/err" && fail "mv onto $P-c.qcow2 succeeded"
[ "$(glance_image "$id" "$TOK" | json_get name)" = "$P-b" ] || fail "a failed mv renamed the image"
[ "$(glance_image "$idc" "$TOK" | json_get status)" = active ] || fail "a failed mv changed $P-c"
# Another extension is a conversion, not a rename: EXDEV (mv copies, the
# copy converts the qcow2 to raw, mv's unlink is refused: mv fails), the
# image keeps its name and id.
mv "$dir/$P-b.qcow2" "$dir/$P-x.raw" 2>"$WORK/err" && fail "mv to another extension succeeded without allow_delete"
grep -q "keeps the extension" "$LOG" || fail "no log line says why .raw was not a rename"
[ "$(glance_image "$id" "$TOK" | json_get name)" = "$P-b" ] || fail "mv to .raw renamed the image"
x=$(ids "$P-x")
[ "$(echo "$x" | wc -w)" = 1 ] || fail "mv to .raw: expected one copy $P-x, found: $x"
[ "$x" != "$id" ] && [ "$(glance_image "$x" "$TOK" | json_get disk_format)" = raw ] ||
    fail "mv to .raw: the copy is not a new raw image"
# by-id/: EPERM.
mv "$dir/by-id/$id.qcow2" "$dir/by-id/x.qcow2" 2>"$WORK/err" && fail "mv within by-id/ succeeded"
grep -q "not permitted" "$WORK/err" || fail "mv within by-id/: not EPERM: $(cat "$WORK/err")"
[ "$(glance_image "$id" "$TOK" | json_get name)" = "$P-b" ] || fail "a refused mv renamed the image"
exit 0
