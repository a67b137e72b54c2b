#!/bin/bash
# §5.1/§10.3 a descriptor in the OVF 2.x namespace (…/envelope/2) is accepted by the PUT
# (200: checked asynchronously) and then fails: status -1, task error, no disk File.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY" 13 http://schemas.dmtf.org/ovf/envelope/2
create "$NAME_PREFIX-ovf2"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
wait_task "$TASK" 5
tpl
expect_failed "OVF 2 descriptor"
expect "disk Files of a rejected descriptor" 0 "$(xn "//_:File[@name='d.vmdk']" "$W/tpl.xml")"
# not XML at all
create "$NAME_PREFIX-nxml"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
echo 'this is not an OVF' >"$W/bad.ovf"
put_descriptor "$W/bad.ovf"
wait_task "$TASK" 5
tpl
expect_failed "a descriptor that is not XML"
exit 0
