#!/bin/bash
# snapshot_upload_rate makes the upload slow enough to see Glance's `saving` between queued and
# active; snapshot_delay keeps it queued for that long first.
. "$(dirname "$0")/lib.sh"
knobs '{"snapshot_delay":1.0,"snapshot_upload_rate":4}'
snapshot "$(sid web1)" "$NAME_PREFIX-slow"
sleep 0.5
expect "0.5 s into snapshot_delay=1" queued "$(image_field "$IMAGE" status)"
wait_image "$IMAGE" saving 5
expect "task_state while saving" image_uploading "$(task_state "$(sid web1)")"
wait_image "$IMAGE" active 10
exit 0
