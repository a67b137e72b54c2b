#!/bin/bash
# §10.2 legacy login POST /api/sessions (Basic user@org): 200, Session body,
# x-vcloud-authorization of 32 hex chars, and from 30.0 also X-VMWARE-VCLOUD-ACCESS-TOKEN
# (> 32 chars) with X-VMWARE-VCLOUD-TOKEN-TYPE: Bearer (not below 30.0); the token
# works; the Session has the well-known down links; DELETE /api/session → 204.
. "$(dirname "$0")/lib.sh"
V=37.2 login
expect_match "x-vcloud-authorization" '^[0-9a-f]{32}$' "$TOKEN"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.session\+xml; ?version=37\.2' "$(hdr Content-Type)"
jwt=$(hdr X-VMWARE-VCLOUD-ACCESS-TOKEN)
[ ${#jwt} -gt 32 ] || fail "X-VMWARE-VCLOUD-ACCESS-TOKEN at 37.2: expected > 32 chars, got '${jwt}'"
expect "X-VMWARE-VCLOUD-TOKEN-TYPE" Bearer "$(hdr X-VMWARE-VCLOUD-TOKEN-TYPE)"
expect "root" Session "$(xp 'local-name(/*)')"
expect "Session/@user" "$CLOUDS_VCD_USER" "$(xp '/_:Session/@user')"
expect "Session/@org" "$CLOUDS_VCD_ORG" "$(xp '/_:Session/@org')"
expect "down orgList link" 1 "$(xn "/_:Session/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.orgList+xml']")"
expect "down org link" 1 "$(xn "/_:Session/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.org+xml']")"
expect "down queryList link" 1 "$(xn "/_:Session/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.query.queryList+xml']")"
orglist=$(xp "/_:Session/_:Link[@type='application/vnd.vmware.vcloud.orgList+xml']/@href")
api GET "$orglist"
expect "GET the orgList link with the token" 200 "$CODE"
[ -n "$(hdr X-VMWARE-VCLOUD-REQUEST-ID)" ] || fail "no X-VMWARE-VCLOUD-REQUEST-ID on an /api answer"

V=29.0 login
expect_match "x-vcloud-authorization at 29.0" '^[0-9a-f]{32}$' "$TOKEN"
expect "X-VMWARE-VCLOUD-ACCESS-TOKEN at 29.0 (only from 30.0)" "" "$(hdr X-VMWARE-VCLOUD-ACCESS-TOKEN)"

V=37.2 login
api DELETE /api/session
expect "DELETE /api/session" 204 "$CODE"
api GET /api/org/
expect "GET /api/org/ after logout" 401 "$CODE"
exit 0
