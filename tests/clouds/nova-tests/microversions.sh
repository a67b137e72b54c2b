#!/bin/bash
# Microversions: 2.1 by default (flavor {id, links}); 2.47+ (either header) embeds the flavor
# {vcpus, ram, disk, original_name, ...}; the answer names its version in OpenStack-API-Version
# and X-OpenStack-Nova-API-Version; "latest" = 2.96; 2.97 -> 406, "2.x" -> 400.
. "$(dirname "$0")/lib.sh"
web1=$(sid web1)
nova GET "/servers/$web1"
expect "default version" "compute 2.1" "$(hdr OpenStack-API-Version)"
expect "default: flavor keys" "id,links" "$(j '.server.flavor | keys | sort | join(",")')"
MV=2.46 nova GET "/servers/$web1"
expect "2.46: flavor keys" "id,links" "$(j '.server.flavor | keys | sort | join(",")')"
MV=2.47 nova GET "/servers/$web1"
expect "2.47: answer version" "compute 2.47" "$(hdr OpenStack-API-Version)"
expect "2.47: X-OpenStack-Nova-API-Version" 2.47 "$(hdr X-OpenStack-Nova-API-Version)"
expect "2.47: embedded flavor" "m1.small 1 2048 10" "$(j '.server.flavor | "\(.original_name) \(.vcpus) \(.ram) \(.disk)"')"
[ "$(j '.server.flavor | has("id")')" = false ] || fail "2.47: flavor still has an id"
nova GET /servers/detail -H 'X-OpenStack-Nova-API-Version: 2.60'
expect "legacy header 2.60" 2.60 "$(hdr X-OpenStack-Nova-API-Version)"
expect "legacy header 2.60: embedded flavors" 5 "$(j '[.servers[].flavor | select(.original_name)] | length')"
MV=latest nova GET "/servers/$web1"
expect "latest" "compute 2.96" "$(hdr OpenStack-API-Version)"
expect "latest: pinned_availability_zone present" true "$(j '.server | has("pinned_availability_zone")')"
MV=2.97 nova GET "/servers/$web1"
expect "2.97" 406 "$CODE"
expect_match "2.97 message" 'not supported by the API. Minimum is 2.1 and maximum is 2.96' "$(j '.computeFault.message')"
MV=2.x nova GET "/servers/$web1"
expect "2.x" 400 "$CODE"
exit 0
