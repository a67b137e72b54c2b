#!/bin/bash
# Through the mount, a Glance image stored as VMDK or as VHD reads back
# through every view identical to its source (qemu-img compare).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "qemu-utils missing"

qemu-img create -q -f qcow2 "$WORK/g.qcow2" 40M
qemu-io -f qcow2 -c "write -P 0x44 1M 2M" -c "write -P 0x55 39M 512k" "$WORK/g.qcow2" >/dev/null ||
    fail "qemu-io"
qemu-img convert -O vmdk -o subformat=streamOptimized "$WORK/g.qcow2" "$WORK/s.vmdk"
qemu-img convert -O vpc -o subformat=dynamic,force_size=on "$WORK/g.qcow2" "$WORK/d.vhd"
ids=()
delete_images() {
    for i in "${ids[@]}"; do
        curl -sf -X DELETE -H "X-Auth-Token: $(os_token)" "$CLOUDS_GLANCE_URL/v2/images/$i" >/dev/null
    done
}
trap 'delete_images; cleanup' EXIT
vid=$(glance_upload "fmt-vmdk-$$" "$WORK/s.vmdk" vmdk) || fail "upload vmdk"
ids+=("$vid")
hid=$(glance_upload "fmt-vhd-$$" "$WORK/d.vhd" vhd) || fail "upload vhd"
ids+=("$hid")

mount_cloudfs -o views=all
d=$MNT/openstack/images/by-id
for v in raw vhd qcow2; do
    qemu-img compare -q -f qcow2 -F "$([ $v = vhd ] && echo vpc || echo $v)" "$WORK/g.qcow2" "$d/$vid.$v" ||
        fail "the VMDK image's .$v view differs"
done
for v in raw vmdk qcow2; do
    qemu-img compare -q -f qcow2 -F "$v" "$WORK/g.qcow2" "$d/$hid.$v" || fail "the VHD image's .$v view differs"
done
[ -f "$d/$vid.ovf" ] && fail "a stored VMDK has an .ovf that could point at a monolithicSparse disk"
tar -tf "$d/$vid.ova" | grep -qx "$vid.vmdk" || fail "the VMDK image's .ova lacks its disk"
exit 0
