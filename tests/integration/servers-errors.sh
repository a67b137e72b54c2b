#!/bin/bash
# Opens of a server's files that cannot succeed fail precisely, with one
# log line naming the cause, and leave no snapshot behind:
# - a server in ERROR: EIO at once, Nova's fault message in the log;
# - a server Nova refuses to snapshot (409, a task running): EIO, Nova's message;
# - a snapshot that never becomes active: ETIMEDOUT after snapshot_timeout
#   (3 s here), the queued image deleted;
# - a snapshot Nova gives up on (the image deleted): EIO.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.lib"
trap 'curl -sf -X POST -H "Content-Type: application/json" -d "{\"task_state\": null}" "$CLOUDS_NOVA_CONTROL/servers/app-05" >/dev/null;
      nova_knobs_reset; delete_snapshots broken app-05 app-06 app-07; cleanup' EXIT
mount_servers -o snapshot_timeout=3
mkdir -p "$WORK/out"

# ERROR.
tok=$(os_token)
fault=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_NOVA_URL/servers/$(server_field broken id)" | json_get server fault message) ||
    fail "the Nova API shows no fault for broken"
timed 10 cp "$SERVERS/broken.vmdk" "$WORK/out/" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp of a server in ERROR succeeded"
grep -q 'Input/output error' "$WORK/err" || fail "cp of broken: $(cat "$WORK/err") (expected EIO)"
[ "$MS" -lt 3000 ] || fail "cp of broken took $MS ms"
[ "$(log_count 'server broken .* is in ERROR state')" = 1 ] || fail "expected one log line for broken: $(grep broken "$LOG")"
grep 'server broken .* is in ERROR state' "$LOG" | grep -qF "${fault:0:60}" || fail "the log line lacks Nova's fault message '$fault'"
[ "$(snapshot_count broken)" = 0 ] || fail "a snapshot of broken was made"

# 409: a task is running on app-05.
curl -sf -X POST -H 'Content-Type: application/json' -d '{"task_state": "image_snapshot"}' \
    "$CLOUDS_NOVA_CONTROL/servers/app-05" >/dev/null || fail "the emulator did not take the task state"
timed 10 cat "$SERVERS/app-05.qcow2" >/dev/null 2>"$WORK/err"
[ "$RC" != 0 ] && grep -q 'Input/output error' "$WORK/err" || fail "open of app-05 during a task: rc $RC, $(cat "$WORK/err")"
grep 'create snapshot: HTTP 409' "$LOG" | grep -q . || fail "no log line with Nova's 409: $(tail -3 "$LOG")"

# Never active: ETIMEDOUT within the bound, the queued image deleted.
nova_knobs '{"snapshot_never_active": {"app-06": true}}'
timed 20 cp "$SERVERS/app-06.qcow2" "$WORK/out/" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp of a snapshot that never becomes active succeeded"
grep -q 'Connection timed out' "$WORK/err" || fail "cp of app-06: $(cat "$WORK/err") (expected ETIMEDOUT)"
[ "$MS" -ge 2900 ] && [ "$MS" -lt 9000 ] || fail "the timeout of 3 s took $MS ms"
[ "$(log_count 'snapshot of app-06 not active within 3 s .*: deleted')" = 1 ] || fail "no log line for the timeout: $(grep app-06 "$LOG")"
[ "$(snapshot_count app-06)" = 0 ] || fail "the timed-out snapshot is still in Glance: $(glance_images | grep app-06)"
grep '"path":"/openstack/servers/app-06"' "$MNT/.cloudfs/status" | grep -q '"state":"failed"' ||
    fail "/.cloudfs/status: $(cat "$MNT/.cloudfs/status")"

# Nova fails the snapshot: the image disappears from Glance.
nova_knobs '{"snapshot_fail": {"app-07": true}}'
timed 20 cat "$SERVERS/app-07.vmdk" >/dev/null 2>"$WORK/err"
[ "$RC" != 0 ] && grep -q 'Input/output error' "$WORK/err" || fail "open of app-07 with a failing snapshot: rc $RC, $(cat "$WORK/err")"
grep -q 'snapshot of app-07 failed' "$LOG" || fail "no log line for app-07's failed snapshot: $(grep app-07 "$LOG")"
exit 0
