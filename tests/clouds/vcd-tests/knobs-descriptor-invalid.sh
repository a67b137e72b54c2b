#!/bin/bash
# §10.5 descriptor_invalid_reason=TEXT: a good descriptor is rejected (state F) and the
# task's Error message carries TEXT.
. "$(dirname "$0")/lib.sh"
login
knobs '{"descriptor_invalid_reason":"vt knob: descriptor refused"}'
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-dinv"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
put_descriptor "$W/d.ovf"
expect "descriptor PUT (checked later)" 200 "$CODE"
wait_task "$TASK" 5
tpl
expect_failed "descriptor_invalid_reason"
expect_match "task Error message" 'vt knob: descriptor refused' "$(xp '/_:Task/_:Error/@message' "$W/task.xml")"
exit 0
