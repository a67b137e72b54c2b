#!/bin/bash
# cp and rsync -a of several images (by name, with the odd and duplicate
# names) into a local directory give the uploaded files byte for byte (cmp);
# a second rsync -a transfers no file (sizes and mtimes are stable).
. "$(dirname "$0")/lib.sh"
mount_cloudfs

dir=$MNT/openstack/images
t1=$(manifest openstack twin id | head -1)
files=(ext4.qcow2 ext4-compressed.qcow2 ext4-raw.raw "a／b.raw" "twin~${t1:0:8}.qcow2" filler-05.raw filler-20.raw)
declare -A src=(
    [ext4.qcow2]=$(manifest openstack ext4 path)
    [ext4-compressed.qcow2]=$(manifest openstack ext4-compressed path)
    [ext4-raw.raw]=$(manifest openstack ext4-raw path)
    [a／b.raw]=$(manifest openstack a/b path)
    ["twin~${t1:0:8}.qcow2"]=$(awk -F'\t' -v id="$t1" '$3 == id { print $8 }' "$CLOUDS_MANIFEST")
    [filler-05.raw]=$(manifest openstack filler-05 path)
    [filler-20.raw]=$(manifest openstack filler-20 path)
)
check() { # DIR: every file equals its source
    for f in "${files[@]}"; do
        cmp "$1/$f" "${src[$f]}" || fail "$1/$f differs from ${src[$f]}"
    done
}

mkdir "$WORK/cp" "$WORK/rsync"
timed 120 cp "${files[@]/#/$dir/}" "$WORK/cp/"
[ $RC = 0 ] || fail "cp failed (exit $RC)"
check "$WORK/cp"

timed 120 rsync -a --stats "${files[@]/#/$dir/}" "$WORK/rsync/" >"$WORK/stats1"
[ $RC = 0 ] || fail "rsync -a failed (exit $RC)"
check "$WORK/rsync"
grep -q "Number of regular files transferred: ${#files[@]}" "$WORK/stats1" ||
    fail "the first rsync: $(grep 'files transferred' "$WORK/stats1")"
for f in "${files[@]}"; do
    [ "$(stat -c %Y "$WORK/rsync/$f")" = "$(stat -c %Y "$dir/$f")" ] || fail "rsync -a did not keep $f's mtime"
done

timed 60 rsync -a --stats "${files[@]/#/$dir/}" "$WORK/rsync/" >"$WORK/stats2"
[ $RC = 0 ] || fail "the second rsync -a failed (exit $RC)"
grep -q 'Number of regular files transferred: 0' "$WORK/stats2" ||
    fail "the second rsync -a transferred files again: $(grep 'files transferred' "$WORK/stats2")"
exit 0
