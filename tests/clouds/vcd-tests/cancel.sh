#!/bin/bash
# §4.7/§10.3 [X] POST task/…/action/cancel in state A and in state C → 204; the task
# ends with cancelRequested="true" and status canceled; the template and the catalog
# item are gone (403) after cancel_delay (knob: 0.5 s — still there right after).
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
for st in A C; do
    knobs '{"cancel_delay":0.5}'
    create "$NAME_PREFIX-cx$st"
    tpl
    TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
    if [ $st = C ]; then
        put_descriptor "$W/d.ovf"
        wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
    fi
    api POST "$TASK/action/cancel"
    expect "cancel in $st" 204 "$CODE"
    expect "cancel body length" 0 "$(body_len)"
    api GET "$TPL"
    expect "template right after the cancel (cancel_delay 0.5 s)" 200 "$CODE"
    wait_task "$TASK" 5
    expect "task status after cancel in $st" canceled "$TASK_STATUS"
    expect "cancelRequested" true "$(xp /_:Task/@cancelRequested "$W/task.xml")"
    sleep 0.7
    api GET "$TPL"
    expect "template after cancel in $st" 403 "$CODE"
    api GET "$ITEM"
    expect "catalog item after cancel in $st" 403 "$CODE"
    query catalogItem "format=records&filter=name==$NAME_PREFIX-cx$st"
    expect "query records after cancel" 0 "$(xn '//_:CatalogItemRecord')"
done
exit 0
