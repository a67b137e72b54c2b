#!/bin/bash
# A VM that has snapshots runs on a delta disk (disk-000001.vmdk over
# disk.vmdk): it stays listed, with its base's size, but reading it fails
# with ENOTSUP and a log line saying why (delta disks are not decoded
# yet), instead of serving the base: the disk as of the oldest snapshot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
name=vsd$$
vs_raw "$WORK/base.raw" 8
qemu-img convert -O vmdk -o subformat=monolithicFlat "$WORK/base.raw" "$WORK/$name.vmdk"
cat >"$WORK/$name-000001.vmdk" <<DESC
# Disk DescriptorFile
version=1
CID=7a1b2c3d
parentCID=$(sed -n 's/^CID=//p' "$WORK/$name.vmdk")
createType="vmfsSparse"
parentFileNameHint="$name.vmdk"
RW 16384 VMFSSPARSE "$name-000001-delta.vmdk"
DESC
head -c 4096 /dev/zero >"$WORK/$name-000001-delta.vmdk"
cp "$WORK/$name-000001-delta.vmdk" "$WORK/$name-000001-flat.vmdk" # vcsim wants one to attach
"$PY" "$VM_PY" create "$name" >/dev/null || fail "vm.py create failed"
VS_VMS+=("$name")
"$PY" "$VM_PY" disk "$name" "$WORK/$name-000001.vmdk" "$WORK/$name-000001-flat.vmdk" \
    "$WORK/$name-000001-delta.vmdk" "$WORK/$name.vmdk" "$WORK/$name-flat.vmdk" \
    --capacity $((8 << 20)) >/dev/null ||
    fail "vm.py disk failed"
mount_vs
[ -f "$VMS/$name.raw" ] || fail "a VM on a delta disk is not listed: $(ls "$VMS" | grep "$name")"
[ "$(stat -c %s "$VMS/$name.raw")" = $((8 << 20)) ] || fail "its size is not the base's"
cat "$VMS/$name.raw" >/dev/null 2>"$WORK/err" && fail "a delta disk was read (as its base)"
grep -q "not supported" "$WORK/err" || fail "the read failed with '$(cat "$WORK/err")', want ENOTSUP"
grep -q "vms/$name: the disk is a delta" "$LOG" || fail "no log line naming the delta"
exit 0
