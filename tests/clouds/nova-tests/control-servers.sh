#!/bin/bash
# The control API adds, changes and removes servers: a second `web1` in demo (two servers of one
# name, as Nova allows) shows in the listing; POST status=ERROR makes createImage 409; DELETE
# removes it again.
. "$(dirname "$0")/lib.sh"
id=$(ctl POST servers '{"project":"demo","name":"web1","flavor":"m1.medium","disk_from":"db1"}' | jq -r .id)
[ -n "$id" ] && [ "$id" != null ] || fail "POST /__emulator/servers did not add a server"
trap 'ctl DELETE "servers/$id" >/dev/null; cleanup' EXIT
nova GET "/servers/detail?name=^web1$"
expect "servers named web1" 2 "$(j '.servers | length')"
MV=2.47 nova GET "/servers/$id"
expect "the added server's flavor" "m1.medium 2 4096" "$(j '.server.flavor | "\(.original_name) \(.vcpus) \(.ram)"')"
ctl POST "servers/$id" '{"status":"ERROR","fault":"disk lost"}' >/dev/null || fail "POST status"
nova POST "/servers/$id/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "createImage after status ERROR" 409 "$CODE"
nova GET "/servers/$id"
expect "fault" "disk lost" "$(j .server.fault.message)"
ctl DELETE "servers/$id" >/dev/null || fail "DELETE the server"
nova GET "/servers/$id"
expect "GET after the control DELETE" 404 "$CODE"
exit 0
