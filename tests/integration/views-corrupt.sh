#!/bin/bash
# A converted view is checked against the image's digest like a native
# read (core/format/verify_source.c): with one byte flipped in every
# Glance response longer than 600000 bytes, cp of the .vmdk and of the
# .ova view fails with EIO and the log names the mismatch; the proxy clean again, the
# same cp gives a disk that qemu-img finds identical to the image.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img missing"
use_proxy

id=$(manifest openstack ext4 id)
orig=$(manifest openstack ext4 path)
[ -f "$orig" ] || skip "no local copy of the sample image"
for ext in vmdk ova; do
    # A fresh block cache: the clean read of the round before verified it.
    unmount_cloudfs
    rm -rf "$CLOUDFS_CACHE_DIR"
    mount_cloudfs -o clouds=t
    f=$MNT/t/images/ext4.$ext
    [ -f "$f" ] || fail "no $ext view: $(ls "$MNT/t/images" | head)"
    before=$(log_count "do not match the cloud's|differ from the image's own")
    proxy_ctl add mode=corrupt "match=$id/file" count=-1 after=600000 || fail "proxy rule"
    timed 60 cp "$f" "$WORK/bad.$ext" 2>"$WORK/err"
    [ $RC = 124 ] && fail "cp of the $ext view hangs"
    [ "$(proxy_applied)" -ge 1 ] || fail "the proxy corrupted nothing"
    [ $RC != 0 ] || fail "cp of the $ext view of a corrupted download succeeded"
    grep -q 'Input/output error' "$WORK/err" || fail "cp failed, but not with EIO: $(cat "$WORK/err")"
    [ "$(log_count "do not match the cloud's|differ from the image's own")" -gt "$before" ] ||
        fail "the log does not name the mismatch"
    proxy_ctl clear
    timed 60 cp "$f" "$WORK/good.$ext"
    [ $RC = 0 ] || fail "cp of the $ext view after the proxy was cleared: error $RC"
    disk=$WORK/good.vmdk
    if [ $ext = ova ]; then
        mkdir -p "$WORK/ova" && tar -xf "$WORK/good.ova" -C "$WORK/ova" || fail "the .ova is no tar"
        disk=$(ls "$WORK"/ova/*.vmdk)
    fi
    qemu-img compare -f vmdk -F qcow2 "$disk" "$orig" >/dev/null ||
        fail "the $ext view read again differs from the image (qemu-img compare)"
    echo "$ext: corrupted read failed, clean read right"
done
exit 0
