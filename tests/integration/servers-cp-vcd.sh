#!/bin/bash
# cp of a server's .vmdk into a vCD catalog: the server is snapshotted, the
# snapshot's .vmdk view goes straight into the catalog (copy_file_range),
# the template is complete and its disk is the server's disk under
# qemu-img compare; its OVF has the flavor's vCPUs and memory (not the
# mount's ovf_cpus/ovf_memory). The wait shows in /.cloudfs/status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.lib"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
name=srv$$
trap 'vcd_remove migrated $name; vcd_knobs_reset; nova_knobs_reset; delete_snapshots web1; cleanup' EXIT
mount_servers -o ovf_cpus=3,ovf_memory=512
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
disk=$(server_field web1 disk_path)
[ -f "$disk" ] || fail "servers.tsv names no disk file for web1"
n0=$(snapshot_count web1)

cfr_cp "$SERVERS/web1.vmdk" "$MIGRATED/$name.vmdk"
check_imported migrated "$name" "$disk" qcow2
[ "$(snapshot_count web1)" = $((n0 + 1)) ] || fail "expected one new snapshot of web1, Glance has $(snapshot_count web1) (before: $n0)"

desc=$(vcd_template migrated "$name" descriptor)
"$PY" - "$desc" <<'PYEOF' || fail "the template's OVF lacks web1's flavor (1 vCPU, 2048 MiB)"
import sys, xml.etree.ElementTree as ET
RASD = "{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData}"
items = {}
for it in ET.parse(sys.argv[1]).iter():
    if it.tag.endswith("}Item"):
        items[it.findtext(RASD + "ResourceType")] = it
cpu, mem = items["3"], items["4"]
assert cpu.findtext(RASD + "VirtualQuantity") == "1", cpu.findtext(RASD + "VirtualQuantity")
assert mem.findtext(RASD + "VirtualQuantity") == "2048", mem.findtext(RASD + "VirtualQuantity")
assert mem.findtext(RASD + "AllocationUnits") in ("byte * 2^20", "MegaBytes"), mem.findtext(RASD + "AllocationUnits")
PYEOF

# The wait for the snapshot was a transfer of its own.
grep '"direction":"snapshot"' "$MNT/.cloudfs/status" | grep -q '"path":"/openstack/servers/web1".*"state":"done"' ||
    fail "/.cloudfs/status shows no finished snapshot of web1: $(cat "$MNT/.cloudfs/status")"
exit 0
