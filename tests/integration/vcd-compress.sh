#!/bin/bash
# vmdk_compress=fast: cp of a Glance qcow2 into a vCD catalog converts it to
# a streamOptimized VMDK whose grains are DEFLATE-compressed (core/format/
# vmdk_zip.c): the template imports (status 8), its stored disk is the
# guest under qemu-img compare, and the emulator received fewer bytes than
# for the same copy with vmdk_compress=none (its put_bytes counter).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
qcow=$(manifest openstack ext4 path)
a=zipa$$ b=zipb$$
trap 'vcd_remove migrated $a; vcd_remove migrated $b; vcd_knobs_reset; cleanup' EXIT

put_bytes() {
    curl -sf "$CLOUDS_VCD_CONTROL/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["put_bytes"])'
}
# copy NAME MODE: the bytes the emulator received for the copy.
copy() {
    local before after
    mount_vcd -o "vmdk_compress=$2"
    [ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
    before=$(put_bytes)
    timed 120 cp "$MNT/openstack/images/ext4.qcow2" "$MIGRATED/$1.qcow2" || fail "cp with vmdk_compress=$2"
    after=$(put_bytes)
    unmount_cloudfs
    echo $((after - before))
}

zipped=$(copy "$a" fast)
stored=$(copy "$b" none)
check_imported migrated "$a" "$qcow" qcow2
check_imported migrated "$b" "$qcow" qcow2
disk=$(vcd_disk migrated "$a")
"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import vmdkcheck; r = vmdkcheck.stream_check(sys.argv[2]); sys.exit(r and print(r) or (0 if r is None else 1))' \
    "$TOP/tests/clouds/lib/vcd" "$disk" || fail "$a: the emulator's stream check refuses the stored disk"
if [ "$zipped" -le 0 ] || [ "$zipped" -ge "$stored" ]; then
    fail "vmdk_compress=fast sent $zipped bytes, none $stored: not fewer"
fi
echo "put_bytes: fast $zipped, none $stored" >&2
exit 0
