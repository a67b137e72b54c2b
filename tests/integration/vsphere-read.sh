#!/bin/bash
# A powered-off vSphere VM's disks read through vms/ (core/cloud/vsphere/):
# the first disk as <vm>.raw (its flat extent, ranged GETs on the
# datastore's /folder) and as the .vmdk and .qcow2 views, the second as
# <vm>-disk2; qemu-img, not cloudfs, says they hold the uploaded bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
name=vsr$$
vs_raw "$WORK/d1.raw" 24
vs_raw "$WORK/d2.raw" 8
vs_vm "$name" "$WORK/d1.raw" --controller pvscsi
vs_vm "$name" "$WORK/d2.raw"
mount_vs

for f in "$name".raw "$name".vmdk "$name".qcow2 "$name".ova "$name".ovf "$name"-disk2.raw; do
    [ -f "$VMS/$f" ] || fail "no $f in vms/: $(ls "$VMS" | grep "$name")"
done
[ "$(stat -c %s "$VMS/$name.raw")" = $((24 << 20)) ] || fail "$name.raw is $(stat -c %s "$VMS/$name.raw") bytes, not 24 MiB"
cmp "$VMS/$name.raw" "$WORK/d1.raw" || fail "$name.raw differs from the uploaded disk"
cmp "$VMS/$name-disk2.raw" "$WORK/d2.raw" || fail "$name-disk2.raw differs from the second disk"
for v in vmdk qcow2; do
    qemu-img compare -q "$VMS/$name.$v" "$WORK/d1.raw" || fail "qemu-img: the .$v view differs from the disk"
    [ "$(stat -c %s "$VMS/$name.$v")" = "$(cat "$VMS/$name.$v" | wc -c)" ] || fail "the .$v view's size is not its length"
done
qemu-img check -q "$VMS/$name.qcow2" || fail "qemu-img check of the .qcow2 view failed"
# Ranged reads in the middle: what the datastore has there.
cmp <(dd if="$VMS/$name.raw" bs=4k skip=3070 count=5 status=none) \
    <(dd if="$WORK/d1.raw" bs=4k skip=3070 count=5 status=none) || fail "a read at 12 MiB differs"
[ "$(log_count "snapshot")" = 0 ] || fail "a powered-off VM was snapshotted: $(grep snapshot "$LOG")"
exit 0
