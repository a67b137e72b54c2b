#!/bin/bash
# Concurrent readers: six sha256sum at once, on different images and on the
# same image three times (twice by the same path, once by its by-id path, so
# that two separate opens and two kernel inodes stream it together); every
# sum equals the uploaded file's, and none takes 30 s (a 128 MiB image
# reads in about a second here).
. "$(dirname "$0")/lib.sh"
mount_cloudfs

dir=$MNT/openstack/images
readers=(
    "ext4-raw $dir/ext4-raw.raw"
    "ext4-raw $dir/ext4-raw.raw"
    "ext4-raw $(sample_file openstack ext4-raw)"
    "ext4 $dir/ext4.qcow2"
    "ext4-compressed $(sample_file openstack ext4-compressed)"
    "a/b $dir/a／b.raw"
)
ls "$dir" >/dev/null || fail "listing failed"
pids=()
for i in "${!readers[@]}"; do
    read -r name f <<<"${readers[$i]}"
    (timed 30 sha256sum "$f" >"$WORK/sum.$i" 2>"$WORK/err.$i"
     [ $RC != 124 ] || echo "no answer within 30 s" >>"$WORK/err.$i"
     exit $RC) &
    pids+=($!)
done
BG_PIDS+=("${pids[@]}")
for i in "${!readers[@]}"; do
    read -r name f <<<"${readers[$i]}"
    wait "${pids[$i]}" || fail "reader $i ($f) failed: $(cat "$WORK/err.$i")"
    got=$(cut -d' ' -f1 "$WORK/sum.$i")
    want=$(manifest openstack "$name" sha256)
    [ "$got" = "$want" ] || fail "reader $i ($f): sha256 $got, expected $want"
done
echo "${#readers[@]} concurrent readers, all sums right"
exit 0
