#!/bin/bash
# A VMware template's hardware travels into Glance (core/format/ovf_glance.c,
# cloudfs(1) "VMware to OpenStack"): an OVA made on vSphere (pvscsi, E1000e,
# UEFI, 4 vCPUs in sockets of 2, 2 GiB) put into a catalog, then only its
# .vmdk, and its .ova, copied into images/: each new image has the
# properties Nova's libvirt driver needs to start it on that hardware,
# read back through Glance's API, and no warnings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/hw.lib"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
name=hwv$$
trap 'vcd_remove migrated $name; os_delete_image openstack $name; os_delete_image openstack ${name}o; vcd_knobs_reset; cleanup' EXIT

vmware_ova "$WORK/$name.ova" "$name" VirtualSCSI E1000e efi ubuntu64Guest
cp "$WORK/$name.ova" "$MIGRATED/" || fail "cp of the VMware OVA into the catalog failed"
[ "$(vcd_template migrated "$name" status)" = 8 ] || fail "no complete template $name"

cfr_cp "$MIGRATED/$name.vmdk" "$MNT/openstack/images/$name.vmdk"
cfr_cp "$MIGRATED/$name.ova" "$MNT/openstack/images/${name}o.ova"
for image in "$name" "${name}o"; do
    props=$(glance_props openstack "$image") || fail "no image $image in Glance"
    want_prop "$props" min_ram 2048
    want_prop "$props" min_disk 1
    want_prop "$props" hw_cpu_sockets 2
    want_prop "$props" hw_cpu_cores 2
    want_prop "$props" hw_disk_bus scsi
    want_prop "$props" hw_scsi_model vmpvscsi
    want_prop "$props" hw_vif_model e1000e
    want_prop "$props" hw_firmware_type uefi
    want_prop "$props" os_type linux
    want_prop "$props" os_distro ubuntu
    grep -q '^cloudfs_warnings=' <<<"$props" && fail "warnings on a template whose hardware maps: $(grep '^cloudfs_warnings=' <<<"$props")"
done
[ "$(log_count "has no equivalent here")" = 0 ] || fail "a warning was logged: $(grep 'no equivalent' "$LOG")"
exit 0
