#!/bin/bash
# A VM disk that is a hosted sparse VMDK on the datastore (monolithicSparse,
# as Workstation and qemu-img write it; streamOptimized, as an OVF import
# leaves it) is shown as <vm>.vmdk, the file itself, and read through the
# VMDK decoder for the .raw and .qcow2 views: qemu-img says they hold the
# disk's bytes. (vcsim attaches a disk only if a <name>-flat.vmdk sits
# beside it, so the test puts an empty one there; cloudfs never reads it.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
name=vsp$$
vs_raw "$WORK/d.raw" 16
"$PY" "$VM_PY" create "$name" >/dev/null || fail "vm.py create failed"
VS_VMS+=("$name")
for sub in monolithicSparse streamOptimized; do
    f=$WORK/$name-$sub.vmdk
    qemu-img convert -f raw -O vmdk -o subformat=$sub "$WORK/d.raw" "$f" || fail "qemu-img $sub"
    : >"$WORK/$name-$sub-flat.vmdk"
    "$PY" "$VM_PY" disk "$name" "$f" "$WORK/$name-$sub-flat.vmdk" --capacity $((16 << 20)) >/dev/null ||
        fail "vm.py disk ($sub) failed"
done
mount_vs
for pair in "$name:monolithicSparse" "$name-disk2:streamOptimized"; do
    n=${pair%%:*} sub=${pair#*:}
    [ -f "$VMS/$n.vmdk" ] || fail "no $n.vmdk: $(ls "$VMS" | grep "$name")"
    cmp "$VMS/$n.vmdk" "$WORK/$name-$sub.vmdk" || fail "$n.vmdk is not the datastore's $sub file"
    cmp "$VMS/$n.raw" "$WORK/d.raw" || fail "$n.raw (decoded from $sub) differs from the disk"
    qemu-img compare -q "$VMS/$n.qcow2" "$WORK/d.raw" || fail "$n.qcow2 (from $sub) differs from the disk"
done
exit 0
