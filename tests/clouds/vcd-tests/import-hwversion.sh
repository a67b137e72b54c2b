#!/bin/bash
# §5.2/§10.3 vmx-NN above the VDC's maximum (max_hw_version, default 19) fails the
# import after the full upload; vmx-19 imports; with max_hw_version=10 vmx-13 fails.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d20.ovf" d.vmdk "$size" "$CAPACITY" 20
upload "$NAME_PREFIX-hw20" "$W/d.vmdk" "$W/d20.ovf" d.vmdk
expect_failed "vmx-20 with the default maximum 19"
make_ovf "$W/d19.ovf" d.vmdk "$size" "$CAPACITY" 19
upload "$NAME_PREFIX-hw19" "$W/d.vmdk" "$W/d19.ovf" d.vmdk
expect "vmx-19: task" success "$TASK_STATUS"
expect "vmx-19: status" 8 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
knobs '{"max_hw_version":10}'
make_ovf "$W/d13.ovf" d.vmdk "$size" "$CAPACITY" 13
upload "$NAME_PREFIX-hw13" "$W/d.vmdk" "$W/d13.ovf" d.vmdk
expect_failed "vmx-13 with max_hw_version=10"
exit 0
