#!/bin/bash
# A sparse source (the .raw view of a qcow2 image: st_blocks counts only
# its data). coreutils >= 9.2 copies it with one copy_file_range per data
# extent (SEEK_DATA, SEEK_HOLE) then an ftruncate to the size; cfr-calls.py
# makes those calls here, and the copy goes direct: the image made is the
# view's bytes. cp 9.1 reads and writes sparse files itself (no
# copy_file_range): through the spool, still identical; cp --sparse=never
# copies each extent with copy_file_range and writes zeros over the holes:
# direct too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
mount_cfr -o views=raw:vmdk
[ -d "$MNT/openstack2/images" ] || skip "no cloud openstack2"
src=$MNT/openstack/images/ext4.raw
size=$(stat -c %s "$src")
[ $(($(stat -c %b "$src") * 512)) -lt "$size" ] || fail "the .raw view is not sparse"
a=cfrx$$ b=cfrn$$ c=cfrc$$
trap 'for n in $a $b $c; do os_delete_image openstack2 $n; done; cleanup' EXIT
dst=$MNT/openstack2/images
want=$(sha256_of "$src")

spool_watch_start
out=$("$TOP/tests/integration/cfr-calls.py" extents "$src" "$dst/$a.raw") || fail "extent copy: $out"
calls=$(echo "$out" | awk '/^calls/ { print $2 }')
[ "$calls" -gt 1 ] || fail "one call only: the source has no holes? ($out)"
echo "$out" | grep -q "close 0$" || fail "extent copy: $out"
grep -qF "upload of /openstack2/images/$a.raw: $size bytes to openstack2/images, copied from /openstack/images/ext4.raw" "$LOG" ||
    fail "the extent copy did not go direct"
CFR_HOLES=1 cfr_cp "$src" "$dst/$b.raw" --sparse=never
spool_watch_check
[ "$(sha256_of "$dst/$a.raw")" = "$want" ] || fail "$a differs from the view"
[ "$(sha256_of "$dst/$b.raw")" = "$want" ] || fail "$b differs from the view"

# Plain cp 9.x: whatever path it takes, the copy is identical.
cp "$src" "$dst/$c.raw" || fail "plain cp of a sparse source"
[ "$(sha256_of "$dst/$c.raw")" = "$want" ] || fail "$c differs from the view"
no_spool_files
exit 0
