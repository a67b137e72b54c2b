#!/bin/bash
# The OVF of an image follows its Glance properties (DESIGN.md §4): OS type,
# memory from min_ram, CPUs, NIC and disk bus, UEFI firmware; what cannot be
# mapped safely (a virtio-only guest) is a warning in the log and in
# user.cloudfs.warnings, and the .ovf still validates.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img missing"
validate=$TOP/../shared/schemas/validate
[ -x "$validate" ] || validate=/work/shared/schemas/validate

qemu-img create -q -f qcow2 "$WORK/hw.qcow2" 64M
name=hw-mapping-$$
id=$(glance_upload "$name" "$WORK/hw.qcow2" qcow2) || fail "upload"
delete_image() { curl -sf -X DELETE -H "X-Auth-Token: $(os_token)" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null; }
trap 'delete_image; cleanup' EXIT
curl -sf -X PATCH -H "X-Auth-Token: $(os_token)" \
    -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    -d '[{"op":"add","path":"/os_distro","value":"ubuntu"},
         {"op":"add","path":"/os_type","value":"linux"},
         {"op":"replace","path":"/min_ram","value":2048},
         {"op":"add","path":"/hw_cpu_cores","value":"2"},
         {"op":"add","path":"/hw_vif_model","value":"e1000"},
         {"op":"add","path":"/hw_disk_bus","value":"virtio"},
         {"op":"add","path":"/hw_firmware_type","value":"uefi"}]' \
    "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null || fail "PATCH properties"

mount_cloudfs -o views=ovf:vmdk
ovf=$MNT/openstack/images/by-id/$id.ovf
[ -f "$ovf" ] || fail "no .ovf view"
if [ -x "$validate" ]; then "$validate" ovf "$ovf" || fail "the .ovf does not validate"; fi
x() { xmllint --xpath "$1" "$ovf" 2>/dev/null; }
[ "$(x 'string(//*[local-name()="OperatingSystemSection"]/@*[local-name()="osType"])')" = ubuntu64Guest ] ||
    fail "osType: $(x 'string(//*[local-name()="OperatingSystemSection"]/@*[local-name()="osType"])')"
[ "$(x 'string(//*[local-name()="Item"][*[local-name()="ResourceType"]="4"]/*[local-name()="VirtualQuantity"])')" = 2048 ] ||
    fail "memory is not min_ram"
[ "$(x 'string(//*[local-name()="Item"][*[local-name()="ResourceType"]="3"]/*[local-name()="VirtualQuantity"])')" = 2 ] ||
    fail "CPUs are not hw_cpu_cores"
[ "$(x 'string(//*[local-name()="Item"][*[local-name()="ResourceType"]="10"]/*[local-name()="ResourceSubType"])')" = E1000 ] ||
    fail "NIC is not E1000"
x '//*[local-name()="Config"][@*[local-name()="key"]="firmware"]/@*[local-name()="value"]' | grep -q efi ||
    fail "no EFI firmware"
warnings=$(getfattr --absolute-names -n user.cloudfs.warnings --only-values "$ovf") ||
    fail "no user.cloudfs.warnings"
echo "$warnings" | grep -qi virtio || fail "the warning does not name virtio: $warnings"
grep -q "may not suit this guest.*virtio" "$LOG" || fail "no warning in the log"
exit 0
