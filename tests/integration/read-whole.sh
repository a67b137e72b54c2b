#!/bin/bash
# Reading whole images through the mount gives the bytes that were uploaded:
# sha256 of every sample image equals the uploaded file's (the 2 GiB one too).
. "$(dirname "$0")/lib.sh"
mount_cloudfs

n=0
while IFS=$'\t' read -r cloud name id fmt cfmt size sha path; do
    [ "$cloud" = "openstack" ] || continue
    f="$MNT/openstack/images/by-id/$id.$fmt"
    [ "$(stat -c %s "$f")" = "$size" ] || fail "$name: size $(stat -c %s "$f"), expected $size"
    got=$(sha256sum <"$f" | cut -d' ' -f1) || fail "$name: read failed"
    [ "$got" = "$sha" ] || fail "$name: sha256 $got, expected $sha"
    n=$((n + 1))
done < <(grep -v '^#' "$CLOUDS_MANIFEST")
[ $n -gt 0 ] || fail "no images checked"
echo "$n images read and checked"
exit 0
