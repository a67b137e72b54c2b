#!/bin/bash
# A qcow2 with compressed clusters: once the image is verified in the block
# cache, its decompressed clusters are cached too (under the image's digest
# and the decoder's tag). After a remount its views read identical to the
# image (qemu-img compare) with no data request, and a corrupt decoded
# entry is decoded again, never served.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-utils missing"
use_proxy
read -r id path < <(awk -F'\t' '$1 == "openstack" && $2 == "ext4-compressed" { print $3, $8 }' "$CLOUDS_MANIFEST")
[ -n "$id" ] || fail "no ext4-compressed sample image"
cache=$WORK/cache
opts=clouds=t,cache_dir=$cache,views=raw:vmdk
d=$MNT/t/images/by-id
file_gets() { proxy_recent | grep -c "^GET /v2/images/$id/file" || true; }
entries() { find "$cache/blocks" -type f ! -name '*.m' | wc -l; }
has_manifest() { [ -n "$(find "$cache/blocks" -type f -name '*.m')" ]; }

# The image's own chunks, verified; then a view decodes from them and keeps
# what it decoded.
mount_cloudfs -o "$opts"
cat "$d/$id.qcow2" >/dev/null || fail "reading the image"
wait_until 10 has_manifest || fail "the image was not verified in the cache"
before=$(entries)
qemu-img compare -q -f qcow2 -F raw "$path" "$d/$id.raw" || fail "the .raw view differs"
unmount_cloudfs
after=$(entries)
[ "$after" -gt "$before" ] || fail "no decoded chunks were cached ($before entries, then $after)"

proxy_ctl clear stats=1
mount_cloudfs -o "$opts"
cp "$d/$id.vmdk" "$WORK/v.vmdk" || fail "cp of the .vmdk view"
qemu-img compare -q -f qcow2 -F vmdk "$path" "$WORK/v.vmdk" || fail "the .vmdk view differs"
qemu-img compare -q -f qcow2 -F raw "$path" "$d/$id.raw" || fail "the .raw view differs after remount"
[ "$(file_gets)" = 0 ] || fail "views after a remount made data requests: $(proxy_recent | grep /file | head -3)"
unmount_cloudfs

# Every decoded entry (named by another key than the image's manifest)
# gets a byte changed.
image=$(basename "$(find "$cache/blocks" -type f -name '*.m' | head -1)" .m)
n=0
for f in "$cache"/blocks/*-*; do
    case $f in */"$image"-*) continue ;; esac
    half=$(($(stat -c %s "$f") / 2))
    b=$(dd if="$f" bs=1 skip=$half count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "\\$(printf %03o $(((b + 1) % 256)))" | dd of="$f" bs=1 seek=$half conv=notrunc 2>/dev/null
    n=$((n + 1))
done
# (the remount's views may have added a few more)
[ "$n" -ge $((after - before)) ] || fail "$n decoded entries found, $((after - before)) expected"
mount_cloudfs -o "$opts"
qemu-img compare -q -f qcow2 -F raw "$path" "$d/$id.raw" || fail "the .raw view differs with corrupt decoded entries"
unmount_cloudfs
grep -q "corrupt: dropped, refetched" "$LOG" || fail "no log line about the corrupt entries"
echo "decoded chunks: $((after - before)) entries; served after remount with no request; corrupt ones decoded again"
exit 0
