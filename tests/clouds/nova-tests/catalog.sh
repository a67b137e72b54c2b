#!/bin/bash
# The Keystone catalog lists the emulator: service type compute, name nova, RegionOne
# public/internal/admin and RegionTwo public = CLOUDS_NOVA_URL; following it works.
. "$(dirname "$0")/lib.sh"
curl -s -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$CLOUDS_KEYSTONE_URL/auth/tokens" >"$W/tok.json"
c='.token.catalog[] | select(.type == "compute")'
expect "compute services" 1 "$(jq "[$c] | length" "$W/tok.json")"
expect "name" nova "$(jq -r "$c | .name" "$W/tok.json")"
for ri in RegionOne/public RegionOne/internal RegionOne/admin RegionTwo/public; do
    expect "$ri endpoint" "$CLOUDS_NOVA_URL" "$(jq -r --arg r "${ri%/*}" --arg i "${ri#*/}" \
        "$c | .endpoints[] | select(.region_id == \$r and .interface == \$i) | .url" "$W/tok.json")"
done
u=$(jq -r "$c | .endpoints[] | select(.region_id == \"RegionOne\" and .interface == \"public\") | .url" "$W/tok.json")
req GET "$u/servers" -H "X-Auth-Token: $TOKEN"
expect "GET servers at the catalog's URL" 200 "$CODE"
exit 0
