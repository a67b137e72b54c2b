#!/bin/bash
# Names, sizes, times and modes: the two `twin` images of project demo are
# twin~<first 8 of id>.qcow2 (no plain twin.qcow2), `a/b` is a／b.raw (U+FF0F),
# every image has by-id/<uuid>.<disk_format>, openstack2's single twin is a
# plain twin.qcow2; sizes equal Glance's, mtime equals Glance's created_at;
# files are read-only (writing, creating, removing fail; the bytes stay).
. "$(dirname "$0")/lib.sh"
mount_cloudfs -o views=none # the stored files only; views.sh names views

dir=$MNT/openstack/images
ls "$dir" >"$WORK/ls" || fail "listing failed"

twins=$(awk -F'\t' '$1 == "openstack" && $2 == "twin" { print $3 }' "$CLOUDS_MANIFEST")
[ "$(echo "$twins" | wc -l)" = 2 ] || fail "the manifest should hold two twins in openstack"
for id in $twins; do
    grep -qxF "twin~${id:0:8}.qcow2" "$WORK/ls" || fail "twin~${id:0:8}.qcow2 not listed"
done
grep -qxF twin.qcow2 "$WORK/ls" && fail "an unmarked twin.qcow2 is listed next to the marked twins"
[ "$(grep -c '^twin.*\.qcow2$' "$WORK/ls")" = 2 ] || fail "twin entries: $(grep '^twin' "$WORK/ls" | tr '\n' ' ')"

grep -qxF 'a／b.raw' "$WORK/ls" || fail "a/b is not listed as a／b.raw"
[ -f "$dir/a／b.raw" ] || fail "a／b.raw cannot be looked up"
[ -e "$dir/a" ] && fail "a/b shows as a directory a"

ls "$MNT/openstack2/images" >"$WORK/ls2" || fail "listing of openstack2 failed"
grep -qxF twin.qcow2 "$WORK/ls2" || fail "openstack2's only twin is not the plain twin.qcow2: $(tr '\n' ' ' <"$WORK/ls2")"
grep -q '^twin~' "$WORK/ls2" && fail "openstack2's single twin is marked"

# Every image by id and by name: size and mtime from Glance itself.
for cloud in openstack openstack2; do
    if [ $cloud = openstack ]; then tok=$(os_token); else
        tok=$(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2"); fi
    [ -n "$tok" ] || fail "no token for $cloud"
    n=0
    while IFS=$'\t' read -r c name id fmt _; do
        [ "$c" = $cloud ] || continue
        f=$MNT/$cloud/images/by-id/$id.$fmt
        glance_image "$id" "$tok" >"$WORK/img.json" || fail "$name: Glance does not answer for $id"
        gsize=$(json_get size <"$WORK/img.json")
        created=$(json_get created_at <"$WORK/img.json")
        [ "$(stat -c %s "$f")" = "$gsize" ] || fail "$f: size $(stat -c %s "$f"), Glance says $gsize"
        [ "$(stat -c %Y "$f")" = "$(date -d "$created" +%s)" ] ||
            fail "$f: mtime $(stat -c %y "$f"), Glance's created_at is $created"
        [ "$(stat -c %a "$f")" = 400 ] || fail "$f: mode $(stat -c %a "$f"), expected 400"
        # the same file under its name
        if [ "$name" = twin ] && [ $cloud = openstack ]; then nf=$dir/twin~${id:0:8}.$fmt
        else nf=$MNT/$cloud/images/${name//\//／}.$fmt; fi
        [ "$(stat -c %s:%Y "$nf")" = "$(stat -c %s:%Y "$f")" ] || fail "$nf and $f differ in size or mtime"
        n=$((n + 1))
    done < <(grep -v '^#' "$CLOUDS_MANIFEST")
    [ "$(ls "$MNT/$cloud/images/by-id" | wc -l)" = $n ] || fail "$cloud: by-id lists $(ls "$MNT/$cloud/images/by-id" | wc -l), the manifest $n"
done

# Read-only.
f=$dir/ext4.qcow2
sum=$(sha256_of "$f") || fail "reading $f failed"
(echo x >"$f") 2>/dev/null && fail "writing to $f succeeded"
(echo x >>"$f") 2>/dev/null && fail "appending to $f succeeded"
truncate -s 0 "$f" 2>/dev/null && fail "truncating $f succeeded"
touch "$dir/by-id/new-file.raw" 2>/dev/null && fail "creating a file in by-id/ succeeded"
rm -f "$f" 2>/dev/null && [ ! -e "$f" ] && fail "removing $f succeeded"
mkdir "$dir/newdir" 2>/dev/null && fail "mkdir succeeded"
mv "$f" "$dir/by-id/renamed.qcow2" 2>/dev/null && fail "moving into by-id/ succeeded"
[ "$(sha256_of "$f")" = "$sum" ] || fail "$f changed"
exit 0
