#!/bin/bash
# An OVA made on vSphere written into images/ from local disk (the write
# path: spooled, uploaded at close) carries its VM's hardware as a copied
# vCD template does (fs/pending_upload.c, core/format/ova_glance.c): the
# image has the properties of cloudfs(1) "VMware to OpenStack", read back
# through Glance's API; a Flexible NIC draws the one warning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib" # os_delete_image
. "$(dirname "$0")/hw.lib"
mount_vcd
name=hwo$$
trap 'os_delete_image openstack $name; vcd_knobs_reset; cleanup' EXIT

vmware_ova "$WORK/$name.ova" "$name" lsilogicsas Flexible efi windows9Server64Guest
cp "$WORK/$name.ova" "$MNT/openstack/images/" || fail "cp of the OVA into images/ failed"
grep -qF "upload of /openstack/images/$name.ova: done" "$LOG" || fail "no upload of $name.ova through the spool"
props=$(glance_props openstack "$name") || fail "no image $name in Glance"
want_prop "$props" min_ram 2048
want_prop "$props" hw_cpu_sockets 2
want_prop "$props" hw_cpu_cores 2
want_prop "$props" hw_disk_bus scsi
want_prop "$props" hw_scsi_model lsisas1068
want_prop "$props" hw_vif_model pcnet
want_prop "$props" hw_firmware_type uefi
want_prop "$props" os_type windows
want_prop "$props" os_distro windows
n=$(log_count "upload of /openstack/images/$name.ova: the source's hardware has no equivalent here: NIC Flexible")
[ "$n" = 1 ] || fail "$n log lines of the NIC's warning, want 1: $(grep 'no equivalent' "$LOG")"
exit 0
