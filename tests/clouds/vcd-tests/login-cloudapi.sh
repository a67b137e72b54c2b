#!/bin/bash
# §10.2 CloudAPI login POST /cloudapi/1.0.0/sessions (≥ 33.0): 200, only the bearer
# headers (no x-vcloud-authorization), the JSON Session of §2.2; the bearer token is
# accepted as Authorization: Bearer, as lower-case bearer, and as
# X-Vmware-Vcloud-Access-Token (with or without the token type); below 33.0 no login.
. "$(dirname "$0")/lib.sh"
cred=$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD
req POST "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" -u "$cred" -H 'Accept: application/json;version=38.0'
expect "POST /cloudapi/1.0.0/sessions at 38.0" 200 "$CODE"
jwt=$(hdr X-VMWARE-VCLOUD-ACCESS-TOKEN)
[ ${#jwt} -gt 32 ] || fail "X-VMWARE-VCLOUD-ACCESS-TOKEN: expected > 32 chars, got '$jwt'"
expect "X-VMWARE-VCLOUD-TOKEN-TYPE" Bearer "$(hdr X-VMWARE-VCLOUD-TOKEN-TYPE)"
expect "x-vcloud-authorization on a CloudAPI login" "" "$(hdr x-vcloud-authorization)"
expect_match "Content-Type" '^application/json' "$(hdr Content-Type)"
expect "JSON user.name" "$CLOUDS_VCD_USER" "$(jq -r .user.name "$W/body")"
expect "JSON org.name" "$CLOUDS_VCD_ORG" "$(jq -r .org.name "$W/body")"
expect_match "JSON id" '^urn:vcloud:session:[0-9a-f-]{36}$' "$(jq -r .id "$W/body")"
expect_match "JSON sessionIdleTimeoutMinutes" '^[0-9]+$' "$(jq -r .sessionIdleTimeoutMinutes "$W/body")"

acc=(-H 'Accept: application/*+xml;version=38.0')
req GET "$CLOUDS_VCD_URL/api/session" "${acc[@]}" -H "Authorization: Bearer $jwt"
expect "GET /api/session with Authorization: Bearer" 200 "$CODE"
expect "GET /api/session root" Session "$(xp 'local-name(/*)')"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H "Authorization: bearer $jwt"
expect "GET /api/org/ with Authorization: bearer (lower case)" 200 "$CODE"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H "X-Vmware-Vcloud-Access-Token: $jwt"
expect "GET /api/org/ with X-Vmware-Vcloud-Access-Token alone" 200 "$CODE"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H "X-Vmware-Vcloud-Access-Token: $jwt" \
    -H 'X-Vmware-Vcloud-Token-Type: Bearer' -H "Authorization: bearer $jwt"
expect "GET /api/org/ with govcd's three headers" 200 "$CODE"

for v in 33.0 39.1; do
    req POST "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" -u "$cred" -H "Accept: application/json;version=$v"
    expect "CloudAPI login at $v" 200 "$CODE"
done
req POST "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" -u "$cred" -H 'Accept: application/json;version=32.0'
[ "$CODE" != 200 ] || fail "CloudAPI login at 32.0 (before 33.0): expected a refusal, got 200"
# logout
req DELETE "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions/current" -H 'Accept: application/json;version=38.0' -H "Authorization: Bearer $jwt"
expect "DELETE /cloudapi/1.0.0/sessions/current" 204 "$CODE"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H "Authorization: Bearer $jwt"
expect "GET /api/org/ after the CloudAPI logout" 401 "$CODE"
exit 0
