#!/bin/bash
# prefetch_memory= bounds the read-ahead of all downloads together: with
# room for one ring (4 MiB), a second image read while the first one's
# download holds it is served by range requests, and both read right.
# Below 4 MiB the mount is refused.
. "$(dirname "$0")/lib.sh"
mapfile -t imgs < <(awk -F'\t' '$1 == "openstack" && $6 > 4194304 && $6 < 1e9 { print $3 "." $4, $7 }' "$CLOUDS_MANIFEST" | head -2)
[ "${#imgs[@]}" = 2 ] || fail "need two sample images over 4 MiB"
read -r id1 sha1 <<<"${imgs[0]}"
read -r id2 sha2 <<<"${imgs[1]}"

"$CLOUDFS" "$MNT" -o prefetch_memory=3 2>"$WORK/err" && fail "prefetch_memory=3 mounted"
grep -q "prefetch_memory must be at least 4" "$WORK/err" || fail "no message: $(cat "$WORK/err")"

mount_cloudfs -o prefetch_memory=4,log_level=debug
f1=$MNT/openstack/images/by-id/$id1
f2=$MNT/openstack/images/by-id/$id2
exec 3<"$f1"
head -c 1048576 <&3 >/dev/null || fail "reading the first image"
[ "$(sha256sum <"$f2" | cut -d' ' -f1)" = "$sha2" ] || fail "second image: wrong sha256"
grep -q "prefetch memory in use: range read" "$LOG" || fail "the second image did not fall back to range reads"
exec 3<&-
[ "$(sha256sum <"$f1" | cut -d' ' -f1)" = "$sha1" ] || fail "first image: wrong sha256"
unmount_cloudfs
echo "one 4 MiB ring: the second reader used range requests; both images right"
exit 0
