#!/bin/bash
# rm and stored times in images/ (DESIGN.md §1): rm of an image is EACCES
# without allow_delete; touch -d stores the time (the property
# cloudfs_mtime), shown by stat on the file and its views, also after a
# remount; rsync -a of local files into images/ a second time transfers
# nothing (same size, same mtime); with allow_delete, rm of a view deletes
# the image and every file of it goes.
. "$(dirname "$0")/lib.sh"

TOK=$(os_token)
[ -n "$TOK" ] || fail "no Keystone token"
P=gmt-$$-$RANDOM
trap 'delete_named; cleanup' EXIT

images() {
    curl -sf -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images?name=$1" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
delete_named() {
    for n in "$P-a" "$P-s1" "$P-s2"; do
        for id in $(images "$n"); do
            curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$id"
        done
    done
}

qcow=$(manifest openstack ext4-compressed path)
dir=$MNT/openstack/images
mount_cloudfs

timed 60 cp "$qcow" "$dir/$P-a.qcow2"
[ $RC = 0 ] || fail "cp into images/ failed (exit $RC)"
id=$(images "$P-a")
[ -n "$id" ] || fail "no image $P-a"

# --- rm without allow_delete
rm -f "$dir/$P-a.qcow2" 2>"$WORK/err" && fail "rm without allow_delete succeeded"
grep -q "Permission denied" "$WORK/err" || fail "rm: not EACCES: $(cat "$WORK/err")"
[ "$(images "$P-a")" = "$id" ] || fail "the image went away"

# --- touch -d stores the time
touch -d '2020-01-02 03:04:05.25' "$dir/$P-a.qcow2" || fail "touch -d failed"
want=1577934245
for f in "$P-a.qcow2" "$P-a.vmdk" "by-id/$id.qcow2"; do
    [ "$(stat -c %Y "$dir/$f")" = $want ] || fail "stat of $f says $(stat -c %Y "$dir/$f"), not $want"
done
[ "$(glance_image "$id" "$TOK" | json_get cloudfs_mtime)" = 1577934245.250000000 ] ||
    fail "Glance does not hold the time"
unmount_cloudfs
mount_cloudfs
[ "$(stat -c %Y "$dir/$P-a.qcow2")" = $want ] || fail "the time is lost after a remount"
[ "$(stat -c %y "$dir/$P-a.qcow2")" = "2020-01-02 03:04:05.250000000 +0000" ] ||
    fail "stat after a remount: $(stat -c %y "$dir/$P-a.qcow2")"

# --- rsync -a twice: the second transfers nothing
mkdir "$WORK/src"
cp "$qcow" "$WORK/src/$P-s1.qcow2"
cp "$(manifest openstack ext4-raw path)" "$WORK/src/$P-s2.raw"
touch -d '2019-03-04 05:06:07.123456789' "$WORK/src/$P-s1.qcow2"
timed 120 rsync -a --stats "$WORK/src/" "$dir/" >"$WORK/stats1"
[ $RC = 0 ] || fail "the first rsync -a failed (exit $RC)"
grep -q 'Number of regular files transferred: 2' "$WORK/stats1" ||
    fail "the first rsync: $(grep 'files transferred' "$WORK/stats1")"
for f in "$P-s1.qcow2" "$P-s2.raw"; do
    [ "$(stat -c '%s %y' "$dir/$f")" = "$(stat -c '%s %y' "$WORK/src/$f")" ] ||
        fail "$f: $(stat -c '%s %y' "$dir/$f") in the mount, $(stat -c '%s %y' "$WORK/src/$f") here"
done
timed 60 rsync -a --stats "$WORK/src/" "$dir/" >"$WORK/stats2"
[ $RC = 0 ] || fail "the second rsync -a failed (exit $RC)"
grep -q 'Number of regular files transferred: 0' "$WORK/stats2" ||
    fail "the second rsync -a transferred again: $(grep 'files transferred' "$WORK/stats2")"

# --- allow_delete: rm of a view deletes the image
unmount_cloudfs
mount_cloudfs -o allow_delete
rm "$dir/$P-a.vmdk" || fail "rm with allow_delete failed"
[ -z "$(images "$P-a")" ] || fail "the image is still in Glance"
ls "$dir" | grep -q "^$P-a\." && fail "files of the removed image are still listed"
[ "$(log_count "removed $P-a \($id\) from openstack")" = 1 ] || fail "no single log line for the removal"
exit 0
