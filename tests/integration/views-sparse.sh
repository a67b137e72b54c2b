#!/bin/bash
# A .raw view is sparse: st_blocks counts only the data, SEEK_DATA/SEEK_HOLE
# find the holes, and cp --sparse=always makes a sparse copy equal to the guest.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img missing"
mount_cloudfs -o views=raw:vmdk

id=$(manifest openstack ext4 id)
path=$(manifest openstack ext4 path)
f=$MNT/openstack/images/by-id/$id.raw
size=$(stat -c %s "$f")
blocks=$(stat -c %b "$f")
[ $((blocks * 512)) -lt "$size" ] || fail ".raw view is not sparse: $blocks blocks for $size bytes"
$PY - "$f" <<'PYEOF' || fail "SEEK_DATA/SEEK_HOLE"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
data = os.lseek(fd, 0, os.SEEK_DATA)
hole = os.lseek(fd, data, os.SEEK_HOLE)
assert 0 <= data < hole <= size, (data, hole, size)
# every hole reads as zeros
pos, holes = 0, 0
while pos < size:
    try:
        h = os.lseek(fd, pos, os.SEEK_HOLE)
    except OSError:
        break
    if h >= size:
        break
    try:
        d = os.lseek(fd, h, os.SEEK_DATA)
    except OSError:
        d = size
    chunk = os.pread(fd, min(d - h, 1 << 20), h)
    assert chunk == bytes(len(chunk)), "hole at %d is not zeros" % h
    holes += 1
    pos = d
assert holes > 0
PYEOF
cp --sparse=always "$f" "$WORK/copy.raw" || fail "cp"
qemu-img compare -q -f qcow2 -F raw "$path" "$WORK/copy.raw" || fail "the sparse copy differs"
[ "$(stat -c %b "$WORK/copy.raw")" -lt $((size / 512)) ] || fail "the copy is not sparse"
exit 0
