#!/bin/bash
# An OVA into Glance becomes bootable images (cloudfs(1)): written from
# local disk as NAME.ova, each of its disks becomes one bare image, NAME then
# NAME-disk2, in the cloud's upload_format (qcow2 by default), the guest of
# that disk (qemu-img compare of the bytes downloaded through Glance's API);
# cp of a vCD template's .ova goes through copy_file_range, no spool file
# holding data, and lands as a bare qcow2 image of the template's disk. The
# same OVA again: EEXIST without allow_delete, nothing changed; with it, both
# images are replaced by new ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/ova.lib"
P=gova-$$-$RANDOM
trap 'glance_delete_named "$P" "$P-disk2" "$P-g"; vcd_knobs_reset; cleanup' EXIT
make_ova "$P"
mount_cfr
dir=$MNT/openstack/images

timed 180 cp "$OVA" "$dir/$P.ova"
[ $RC = 0 ] || fail "cp of a local OVA into images/ failed (exit $RC)"
landed "$P" qcow2 bare "$WORK/ova/d1.vmdk" vmdk
landed "$P-disk2" qcow2 bare "$WORK/ova/d2.qcow2" qcow2
[ -z "$(glance_ids "$P-disk3")" ] || fail "an image for a third disk"
[ "$(log_count "upload of .*$P.ova: an OVA of 2 disks, each a bare image")" = 1 ] || fail "no log line for the unpacking"
[ -e "$dir/$P.qcow2" ] && [ -e "$dir/$P-disk2.qcow2" ] || fail "the listing does not show both images"
old="$(glance_ids "$P") $(glance_ids "$P-disk2")"
cp "$OVA" "$dir/$P.img" 2>"$WORK/err" && fail "the same OVA again was accepted"
grep -q "File exists" "$WORK/err" || fail "not EEXIST: $(cat "$WORK/err")"
[ "$(glance_ids "$P") $(glance_ids "$P-disk2")" = "$old" ] || fail "the refused copy changed the images"
unmount_cloudfs
mount_cfr -o allow_delete
timed 180 cp "$OVA" "$dir/$P.img"
[ $RC = 0 ] || fail "replacing with allow_delete failed (exit $RC)"
landed "$P" qcow2 bare
landed "$P-disk2" qcow2 bare
for id in $old; do
    glance_image "$id" "$TOK" >/dev/null && fail "the replaced image $id is still there"
done

gold=$MNT/vcloud/catalogs/golden
[ -d "$gold" ] || skip "this cloudfs has no vcloud provider"
src=$(ls "$gold"/*.ova | head -1)
spool_watch_start
cfr_cp "$src" "$dir/$P-g.ova"
spool_watch_check
no_spool_files
landed "$P-g" qcow2 bare "${src%.ova}.vmdk" vmdk
exit 0
