#!/bin/bash
# §4.7/§10.3 DELETE of the template or of its catalog item while the upload task runs
# → 400 Error BUSY_ENTITY; nothing is deleted; after a cancel the item goes.
. "$(dirname "$0")/lib.sh"
login
create "$NAME_PREFIX-busy"
tpl
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
api DELETE "$TPL"
expect "DELETE template with a running task" 400 "$CODE"
expect "minorErrorCode" BUSY_ENTITY "$(xp /_:Error/@minorErrorCode)"
expect_match "message" 'busy' "$(xp /_:Error/@message)"
api DELETE "$ITEM"
expect "DELETE catalog item with a running task" 400 "$CODE"
expect "minorErrorCode" BUSY_ENTITY "$(xp /_:Error/@minorErrorCode)"
api GET "$TPL"
expect "template after the refused DELETEs" 200 "$CODE"
query vAppTemplate "format=records&filter=name==$NAME_PREFIX-busy"
expect "isBusy in the query record" true "$(xp //_:VAppTemplateRecord/@isBusy)"
expect "query status of an upload in progress" UNRESOLVED "$(xp //_:VAppTemplateRecord/@status)"
api POST "$TASK/action/cancel"
expect "cancel" 204 "$CODE"
wait_task "$TASK" 5
for i in $(seq 20); do
    api GET "$ITEM"
    [ "$CODE" = 403 ] && break
    sleep 0.1
done
expect "catalog item after the cancel" 403 "$CODE"
exit 0
