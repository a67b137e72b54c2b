#!/bin/bash
# libfuse's own max_read= (smaller FUSE reads) and -s (one thread) mount and
# serve the same bytes: libfuse fails a mount whose init() does not repeat
# max_read, which cloudfs once did not.
. "$(dirname "$0")/lib.sh"
read -r id sha < <(awk -F'\t' '$1 == "openstack" && $2 == "ext4" { print $3, $7 }' "$CLOUDS_MANIFEST")
[ -n "$id" ] || fail "no ext4 sample image"
f=$MNT/openstack/images/by-id/$id.qcow2
for opts in "max_read=131072" "max_read=65536 -s"; do
    # shellcheck disable=SC2086 # -s is an argument of its own
    mount_cloudfs -o $opts
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ] || fail "-o $opts: wrong sha256"
    unmount_cloudfs
done
echo "max_read=131072, and max_read=65536 with -s: same bytes"
exit 0
