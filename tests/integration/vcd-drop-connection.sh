#!/bin/bash
# The connection drops in the middle of the disk: cloudfs resumes from the
# server's bytesTransferred and the template is still complete and equal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
id=$(manifest openstack ext4 id)
puts() { # transfer PUTs the emulator has answered so far
    curl -sf "$CLOUDS_VCD_CONTROL/stats" | "$PY" -c '
import json, sys
print(sum(v for k, v in json.load(sys.stdin)["requests"].items() if k.startswith("PUT")))'
}
n0=$(puts)
vcd_knobs '{"close_connection_on_put": 1000000}'
t=drop-$$
timed 120 cp "$MNT/openstack/images/by-id/$id.vmdk" "$MIGRATED/$t.vmdk"
[ "$RC" = 0 ] || fail "cp exited $RC after a dropped connection"
check_imported migrated "$t" "$(manifest openstack ext4 path)" qcow2
n=$(($(puts) - n0))
[ "$n" -ge 3 ] || fail "only $n PUTs: the drop did not happen or was not resumed"
vcd_remove migrated "$t"
echo "resumed after a dropped connection ($n PUTs)"
