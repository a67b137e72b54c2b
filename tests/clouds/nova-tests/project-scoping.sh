#!/bin/bash
# The token's project decides which servers exist: demo2 sees only other1, demo never sees it
# (GET and createImage 404 itemNotFound), demo2 gets 404 for web1; tenant_id = the project's id.
. "$(dirname "$0")/lib.sh"
T2=$(token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
[ -n "$T2" ] || fail "no token for $CLOUDS_USER2"
other=$(sid other1) web1=$(sid web1)
TOK=$T2 nova GET /servers/detail
expect "demo2's servers" other1 "$(j '[.servers[].name] | join(" ")')"
TOK=$T2 nova GET "/servers/$web1"
expect "demo2 GET web1" 404 "$CODE"
nova GET "/servers/$other"
expect "demo GET other1" 404 "$CODE"
expect "demo GET other1: message" "Instance $other could not be found." "$(j .itemNotFound.message)"
nova POST "/servers/$other/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "demo createImage on other1" 404 "$CODE"
expect "demo createImage on other1: error code" 404 "$(j .itemNotFound.code)"
nova GET "/servers?limit=5"
nova GET /servers/detail
[ "$(j '[.servers[] | select(.name == "other1")] | length')" = 0 ] || fail "other1 in demo's listing"
pid=$(curl -s -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$CLOUDS_KEYSTONE_URL/auth/tokens" | jq -r .token.project.id)
expect "tenant_id of demo's servers" "$pid" "$(j '[.servers[].tenant_id] | unique | join(" ")')"
exit 0
