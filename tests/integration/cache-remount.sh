#!/bin/bash
# The on-disk block cache (cache_size=, cache_dir/blocks), with requests
# counted by the fault proxy: after a whole read of an image, a second view
# of it (.vmdk) makes no data request; after a remount with the same
# cache_dir a read makes none either; a cache file corrupted between mounts
# is refetched (a GET of /file) and the read is still byte-identical.
. "$(dirname "$0")/lib.sh"
use_proxy
read -r id size sha < <(awk -F'\t' '$1 == "openstack" && $2 == "ext4" { print $3, $6, $7 }' "$CLOUDS_MANIFEST")
[ -n "$id" ] || fail "no ext4 sample image"
cache=$WORK/cache
opts=clouds=t,cache_dir=$cache,cache_size=256,views=vmdk
f=$MNT/t/images/by-id/$id.qcow2
file_gets() { proxy_recent | grep -c "^GET /v2/images/$id/file" || true; }
has_manifest() { [ -n "$(find "$cache/blocks" -type f -name '*.m')" ]; }

mount_cloudfs -o "$opts"
[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ] || fail "first read: wrong sha256"
# The chunks are served once they hashed to the image's digest (a manifest).
wait_until 10 has_manifest || fail "no manifest in $cache/blocks: $(ls "$cache/blocks" | head)"
[ "$(file_gets)" -ge 1 ] || fail "the first read made no GET of /file"
proxy_ctl clear stats=1
cat "$MNT/t/images/by-id/$id.vmdk" >/dev/null || fail "reading the .vmdk view failed"
[ "$(file_gets)" = 0 ] || fail "the .vmdk view after the native read made data requests: $(proxy_recent | grep /file | head -3)"
unmount_cloudfs

proxy_ctl clear stats=1
mount_cloudfs -o "$opts"
[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ] || fail "read after remount: wrong sha256"
[ "$(file_gets)" = 0 ] || fail "the read after a remount made data requests: $(proxy_recent | grep /file | head -3)"
unmount_cloudfs

# Flip a byte in the middle of one cache file.
victim=$(find "$cache/blocks" -type f ! -name '*.m' | sort | head -1)
[ -n "$victim" ] || fail "no cache file"
half=$(($(stat -c %s "$victim") / 2))
b=$(dd if="$victim" bs=1 skip=$half count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "\\$(printf %03o $(((b + 1) % 256)))" | dd of="$victim" bs=1 seek=$half conv=notrunc 2>/dev/null
proxy_ctl clear stats=1
mount_cloudfs -o "$opts"
[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ] || fail "read with a corrupt cache file: wrong sha256"
[ "$(file_gets)" -ge 1 ] || fail "the corrupt cache file was not refetched"
grep -q "corrupt: dropped, refetched" "$LOG" || fail "no log line about the corrupt entry"
echo "$size bytes: second view and remount read from the cache; a corrupt entry refetched"
exit 0
