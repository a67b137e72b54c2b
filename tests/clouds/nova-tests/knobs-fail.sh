#!/bin/bash
# snapshot_fail: after snapshot_delay the image is deleted from Glance (Nova's clean-up of a
# failed snapshot) and the server's task_state goes back to null; as an object it hits only the
# servers named (web1 fails, app-02 succeeds).
. "$(dirname "$0")/lib.sh"
knobs '{"snapshot_fail":{"web1":true},"snapshot_delay":3}' # observable under load
web1=$(sid web1)
snapshot "$web1" "$NAME_PREFIX-fail"
bad=$IMAGE
expect "right after createImage" queued "$(image_field "$bad" status)"
snapshot "$(sid app-02)" "$NAME_PREFIX-ok"
wait_image "$bad" 404 10
wait_image "$IMAGE" active 10
for i in $(seq 20); do [ "$(task_state "$web1")" = null ] && break; sleep 0.1; done
expect "web1 task_state" null "$(task_state "$web1")"
expect "emulator's record" failed "$(ctl GET state | jq -r --arg i "$bad" '.snapshots[] | select(.image_id == $i) | .phase')"
knobs '{"snapshot_fail":true}'
snapshot "$(sid app-04)" "$NAME_PREFIX-fail2"
wait_image "$IMAGE" 404 10
exit 0
