#!/bin/bash
# §10.2 POST /api/sessions is refused with 405 from API 38.0 on, accepted at 37.2.
. "$(dirname "$0")/lib.sh"
cred=$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD
for v in 38.0 38.1 39.0 39.1; do
    req POST "$CLOUDS_VCD_URL/api/sessions" -u "$cred" -H "Accept: application/*+xml;version=$v"
    expect "POST /api/sessions at $v" 405 "$CODE"
    expect "x-vcloud-authorization on the 405 at $v" "" "$(hdr x-vcloud-authorization)"
done
for v in 5.5 33.0 37.2; do
    req POST "$CLOUDS_VCD_URL/api/sessions" -u "$cred" -H "Accept: application/*+xml;version=$v"
    expect "POST /api/sessions at $v" 200 "$CODE"
done
exit 0
