#!/bin/bash
# §4.7/§10.3 deleting a finished template: DELETE vAppTemplate → 202 Task + Location,
# the task succeeds after delete_delay and the template and its catalog item answer
# 403; DELETE catalogItem → 204 and its template goes too; a failed (status -1)
# template can be deleted the same way.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
upload "$NAME_PREFIX-del1" "$W/d.vmdk" "$W/d.ovf" d.vmdk
expect "first upload" success "$TASK_STATUS"
knobs '{"delete_delay":0.4}'
api DELETE "$TPL"
expect "DELETE vAppTemplate" 202 "$CODE"
expect "root" Task "$(xp 'local-name(/*)')"
t=$(xp /_:Task/@href)
expect "Location of the 202" "$t" "$(hdr Location)"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.task\+xml; ?version=' "$(hdr Content-Type)"
wait_task "$t" 5
expect "delete task" success "$TASK_STATUS"
api GET "$TPL"
expect "template after its delete task" 403 "$CODE"
api GET "$ITEM"
expect "catalog item after the template's delete task" 403 "$CODE"
knobs '{"delete_delay":0}'

upload "$NAME_PREFIX-del2" "$W/d.vmdk" "$W/d.ovf" d.vmdk
api DELETE "$ITEM"
expect "DELETE catalogItem" 204 "$CODE"
expect "body length" 0 "$(body_len)"
for i in $(seq 20); do
    api GET "$TPL"
    [ "$CODE" = 403 ] && break
    sleep 0.1
done
expect "template after DELETE of its catalog item" 403 "$CODE"

head -c 100000 /dev/urandom >"$W/r.vmdk"
make_ovf "$W/r.ovf" r.vmdk 100000 8388608
upload "$NAME_PREFIX-del3" "$W/r.vmdk" "$W/r.ovf" r.vmdk
expect "status of the failed upload" -1 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
api DELETE "$TPL"
expect "DELETE a failed template" 202 "$CODE"
wait_task "$(xp /_:Task/@href)" 5
expect "delete task of a failed template" success "$TASK_STATUS"
api GET "$ITEM"
expect "catalog item of the deleted failed template" 403 "$CODE"
exit 0
