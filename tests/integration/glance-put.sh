#!/bin/bash
# Writing into images/ makes a Glance image (DESIGN.md §5): cp of a local
# qcow2 and raw gives active images with the content's disk_format and the
# checksums Glance computed equal to the files' own (md5, sha512), read
# back byte for byte; an extension that disagrees with the content is
# EINVAL and leaves nothing; a name that exists is EEXIST, and replaced
# with allow_delete (new image made, old one gone); user.glance.* set with
# cp --preserve=xattr or rsync -X become properties.
. "$(dirname "$0")/lib.sh"

TOK=$(os_token)
[ -n "$TOK" ] || fail "no Keystone token"
P=gput-$$-$RANDOM # names of this run's images
trap 'delete_named; cleanup' EXIT

# images NAME: the ids of the images named NAME, any status.
images() {
    local esc
    esc=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")
    curl -sf -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images?name=$esc" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
delete_named() {
    for n in "$P-q" "$P-r" "$P-bad" "$P-x1" "$P-x2"; do
        for id in $(images "$n"); do
            curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$id"
        done
    done
}
field() { glance_image "$1" "$TOK" | json_get "$2"; }

qcow=$(manifest openstack ext4 path)
raw=$(manifest openstack ext4-raw path)
dir=$MNT/openstack/images
mount_cloudfs

# --- a qcow2 and a raw disk
timed 120 cp "$qcow" "$dir/$P-q.qcow2"
[ $RC = 0 ] || fail "cp of a qcow2 into images/ failed (exit $RC)"
timed 120 cp "$raw" "$dir/$P-r.raw"
[ $RC = 0 ] || fail "cp of a raw disk into images/ failed (exit $RC)"
for x in "q qcow2 $qcow" "r raw $raw"; do
    set -- $x
    id=$(images "$P-$1")
    [ "$(echo "$id" | wc -w)" = 1 ] || fail "expected one image $P-$1, found: $id"
    [ "$(field "$id" status)" = active ] || fail "image $P-$1 is not active"
    [ "$(field "$id" disk_format)" = "$2" ] || fail "image $P-$1 has disk_format $(field "$id" disk_format)"
    [ "$(field "$id" container_format)" = bare ] || fail "image $P-$1 is not bare"
    [ "$(field "$id" checksum)" = "$(md5sum <"$3" | cut -d' ' -f1)" ] || fail "$P-$1: Glance's md5 differs"
    [ "$(field "$id" os_hash_value)" = "$(sha512sum <"$3" | cut -d' ' -f1)" ] ||
        fail "$P-$1: Glance's os_hash_value differs"
    [ -z "$(field "$id" cloudfs_upload 2>/dev/null)" ] || fail "$P-$1 still carries the upload marker"
    [ "$(sha256_of "$dir/$P-$1.$2")" = "$(sha256_of "$3")" ] || fail "$P-$1.$2 reads back different"
done
[ "$(log_count "uploading .*$P-q.qcow2 as image $P-q")" = 1 ] || fail "no start line in the log"
[ "$(log_count "$P-q.qcow2 is image .* after .* MiB/s")" = 1 ] || fail "no end line in the log"

# --- the extension says qcow2, the content is raw
cp "$raw" "$dir/$P-bad.qcow2" 2>"$WORK/err" && fail "a raw disk named .qcow2 was accepted"
grep -q "Invalid argument" "$WORK/err" || fail "not EINVAL: $(cat "$WORK/err")"
[ "$(log_count "$P-bad.qcow2 holds a raw disk")" = 1 ] || fail "no log line for the mismatch"
[ -z "$(images "$P-bad")" ] || fail "the refused upload left an image"
ls "$dir" | grep -q "^$P-bad" && fail "the refused file is still listed"

# --- an existing name: EEXIST without allow_delete
old=$(images "$P-q")
cp "$raw" "$dir/$P-q.img" 2>"$WORK/err" && fail "a duplicate name was accepted"
grep -q "File exists" "$WORK/err" || fail "not EEXIST: $(cat "$WORK/err")"
[ "$(images "$P-q")" = "$old" ] || fail "the duplicate changed the images named $P-q"

# --- properties from user.glance.* (cp --preserve=xattr, rsync -X)
cp "$raw" "$WORK/x1.raw" && cp "$raw" "$WORK/x2.raw" || fail "no room in $WORK"
setfattr -n user.glance.os_distro -v gputos "$WORK/x1.raw" || skip "no user xattrs on $WORK"
setfattr -n user.glance.hw_disk_bus -v scsi "$WORK/x1.raw"
setfattr -n user.glance.os_distro -v gputos2 "$WORK/x2.raw"
timed 120 cp --preserve=xattr "$WORK/x1.raw" "$dir/$P-x1.raw"
[ $RC = 0 ] || fail "cp --preserve=xattr failed (exit $RC)"
timed 120 rsync -aX "$WORK/x2.raw" "$dir/$P-x2.raw"
[ $RC = 0 ] || fail "rsync -aX failed (exit $RC)"
id=$(images "$P-x1")
[ "$(field "$id" os_distro)" = gputos ] || fail "os_distro from cp --preserve=xattr is missing"
[ "$(field "$id" hw_disk_bus)" = scsi ] || fail "hw_disk_bus from cp --preserve=xattr is missing"
[ "$(field "$(images "$P-x2")" os_distro)" = gputos2 ] || fail "os_distro from rsync -X is missing"
[ "$(getfattr --absolute-names --only-values -n user.glance.os_distro "$dir/$P-x1.raw")" = gputos ] ||
    fail "the mount does not show the property"

# --- allow_delete: the same name is replaced, new image first
unmount_cloudfs
mount_cloudfs -o allow_delete
timed 120 cp "$raw" "$dir/$P-q.img"
[ $RC = 0 ] || fail "replacing with allow_delete failed (exit $RC)"
new=$(images "$P-q")
[ "$(echo "$new" | wc -w)" = 1 ] || fail "expected one image $P-q after the replace: $new"
[ "$new" != "$old" ] || fail "the image was not replaced"
[ "$(field "$new" disk_format)" = raw ] || fail "the new image is not raw"
curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$old" |
    grep -q 404 || fail "the replaced image $old is still there"
[ -e "$dir/$P-q.raw" ] && [ ! -e "$dir/$P-q.qcow2" ] || fail "the listing does not show the replacement"
[ "$(log_count "replaced image $old")" = 1 ] || fail "no log line for the replaced image"
exit 0
