#!/bin/bash
# Views of images whose names are hard for the formats: a '"' (a VMDK
# descriptor quotes its file name) and a name of 200 bytes (a tar member
# name holds 100): every view opens and equals the source.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "qemu-utils missing"

qemu-img create -q -f qcow2 "$WORK/o.qcow2" 8M
qemu-io -f qcow2 -c "write -P 0x66 1M 64k" "$WORK/o.qcow2" >/dev/null || fail "qemu-io"
long=$(printf 'l%.0s' $(seq 200))
ids=()
trap 'for i in "${ids[@]}"; do curl -sf -X DELETE -H "X-Auth-Token: $(os_token)" "$CLOUDS_GLANCE_URL/v2/images/$i" >/dev/null; done; cleanup' EXIT
q=$(glance_upload 'my \"gold\" image' "$WORK/o.qcow2" qcow2) || fail "upload"
ids+=("$q")
l=$(glance_upload "$long" "$WORK/o.qcow2" qcow2) || fail "upload"
ids+=("$l")

mount_cloudfs
for id in "$q" "$l"; do
    d=$MNT/openstack/images/by-id
    qemu-img compare -q -f qcow2 -F vmdk "$WORK/o.qcow2" "$d/$id.vmdk" || fail "$id: .vmdk"
    mkdir -p "$WORK/x" && (cd "$WORK/x" && tar -xf "$d/$id.ova") || fail "$id: .ova"
    qemu-img compare -q -f qcow2 -F vmdk "$WORK/o.qcow2" "$WORK/x/"*.vmdk || fail "$id: the .ova's disk"
    rm -rf "$WORK/x"
done
f=$(ls "$MNT/openstack/images" | grep '^my .*gold.* image\.vmdk$') || fail "no listed .vmdk for the quoted name"
[ -s "$MNT/openstack/images/$f" ] || fail "the quoted name's .vmdk is empty"
ls "$MNT/openstack/images" | grep -q "^l\{180,\}.*\.ova$" || fail "no .ova for the long name"
exit 0
