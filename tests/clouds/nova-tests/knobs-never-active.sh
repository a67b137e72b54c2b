#!/bin/bash
# snapshot_never_active (for web1 only): the image stays queued (no upload), the server stays in
# task_state image_uploading (another createImage -> 409) until the image is deleted; db1 is
# snapshotted normally meanwhile.
. "$(dirname "$0")/lib.sh"
knobs '{"snapshot_never_active":{"web1":true}}'
web1=$(sid web1)
snapshot "$web1" "$NAME_PREFIX-never"
held=$IMAGE
snapshot "$(sid db1)" "$NAME_PREFIX-db1"
wait_image "$IMAGE" active 10
sleep 1.5
expect "the held image after 1.8 s" queued "$(image_field "$held" status)"
expect "web1 task_state" image_uploading "$(task_state "$web1")"
expect "emulator's record" never_active "$(ctl GET state | jq -r --arg i "$held" '.snapshots[] | select(.image_id == $i) | .phase')"
nova POST "/servers/$web1/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "createImage while held" 409 "$CODE"
glance DELETE "/v2/images/$held"
expect "deleting the queued image" 204 "$CODE"
for i in $(seq 30); do [ "$(task_state "$web1")" = null ] && break; sleep 0.1; done
expect "web1 task_state after the delete" null "$(task_state "$web1")"
exit 0
