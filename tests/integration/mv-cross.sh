#!/bin/bash
# mv into another cloud is EXDEV to rename(), so mv copies and unlinks.
# Without allow_delete the unlink is refused: mv fails saying so (one log
# line), the copy is made and the source stays. With allow_delete it is a
# move: the copy exists, the source image is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
P=mvx-$$-$RANDOM
trap 'os_delete_image openstack $P; os_delete_image openstack2 $P; os_delete_image openstack2 $P-2; cleanup' EXIT
ids() { # CLOUD NAME: the ids of the images of that name
    local tok
    if [ "$1" = openstack2 ]; then tok=$(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
    else tok=$(os_token); fi
    curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=$2" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
qemu-img create -q -f qcow2 "$WORK/a.qcow2" 8M || fail "qemu-img create failed"
id=$(glance_upload "$P" "$WORK/a.qcow2" qcow2) || fail "cannot create image $P"
src=$MNT/openstack/images/$P.qcow2

mount_cloudfs
mv "$src" "$MNT/openstack2/images/" 2>"$WORK/err" && fail "mv without allow_delete succeeded"
grep -q "cannot remove.*Permission denied" "$WORK/err" || fail "mv does not report the refused unlink: $(cat "$WORK/err")"
[ -n "$(ids openstack2 "$P")" ] || fail "the copy into openstack2 was not made"
[ "$(ids openstack "$P")" = "$id" ] || fail "the source image changed without allow_delete"
[ "$(log_count "$P.qcow2: not removed: the mount has no allow_delete option")" = 1 ] ||
    fail "no single log line of the refused unlink: $(grep "$P" "$LOG" | grep -v upload)"
unmount_cloudfs

mount_cloudfs -o allow_delete
mv "$src" "$MNT/openstack2/images/$P-2.qcow2" 2>"$WORK/err" || fail "mv with allow_delete failed: $(cat "$WORK/err")"
[ -z "$(ids openstack "$P")" ] || fail "the source image is still in openstack"
[ -n "$(ids openstack2 "$P-2")" ] || fail "openstack2 has no image $P-2"
[ -e "$src" ] && fail "$src is still listed"
qemu-img compare -q -f qcow2 -F qcow2 "$WORK/a.qcow2" "$MNT/openstack2/images/$P-2.qcow2" ||
    fail "the moved image differs"
[ "$(log_count "$P.qcow2: removed $P \($id\) from openstack")" = 1 ] || fail "no single log line of the removal"
exit 0
