#!/bin/bash
# §10.2 bad credentials: /api/sessions → 401, WWW-Authenticate Basic realm="vCloud", empty
# body; CloudAPI → 401 JSON {"minorErrorCode":"NOT_AUTHENTICATED","message":"[ id ] This
# operation is denied.","stackTrace":null}; an unknown user and a wrong org fail the same;
# login_401_style=multi gives the older three-realm WWW-Authenticate.
. "$(dirname "$0")/lib.sh"
for cred in "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:wrong" "nobody@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD" \
    "$CLOUDS_VCD_USER@other:$CLOUDS_VCD_PASSWORD" "$CLOUDS_VCD_USER:$CLOUDS_VCD_PASSWORD"; do
    req POST "$CLOUDS_VCD_URL/api/sessions" -u "$cred" -H 'Accept: application/*+xml;version=37.2'
    expect "legacy login as ${cred%%:*} with bad credentials" 401 "$CODE"
    expect_match "WWW-Authenticate" '^Basic realm="vCloud"' "$(hdr WWW-Authenticate)"
    expect "401 body length" 0 "$(body_len)"
    expect "x-vcloud-authorization on a 401" "" "$(hdr x-vcloud-authorization)"
done
req POST "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" -u "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:wrong" -H 'Accept: application/json;version=38.0'
expect "CloudAPI login with a bad password" 401 "$CODE"
expect_match "Content-Type" '^application/json' "$(hdr Content-Type)"
expect "minorErrorCode" NOT_AUTHENTICATED "$(jq -r .minorErrorCode "$W/body")"
expect_match "message" '^\[ [^]]+ \] This operation is denied\.$' "$(jq -r .message "$W/body")"
expect "stackTrace" null "$(jq -c .stackTrace "$W/body")"
expect "access token on a 401" "" "$(hdr X-VMWARE-VCLOUD-ACCESS-TOKEN)"
req POST "$CLOUDS_VCD_URL/api/sessions" -H 'Accept: application/*+xml;version=37.2'
expect "legacy login without credentials" 401 "$CODE"
# older servers (pyvcloud#37): knob login_401_style=multi
knobs '{"login_401_style":"multi"}'
req POST "$CLOUDS_VCD_URL/api/sessions" -u "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:wrong" -H 'Accept: application/*+xml;version=37.2'
expect "legacy login with a bad password, login_401_style=multi" 401 "$CODE"
expect "WWW-Authenticate with login_401_style=multi" 'Basic realm="vCloud", SIGN realm="vCloud", Bearer realm="vCloud"' "$(hdr WWW-Authenticate)"
expect "401 body length" 0 "$(body_len)"
exit 0
