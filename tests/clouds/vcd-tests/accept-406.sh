#!/bin/bash
# §10.2 Accept: no or empty version → 406 "The request has invalid accept header: .
# Supported API versions are: [...]"; unknown version → 406 "... Invalid API version
# requested. Supported API versions are: [...]"; one valid version among several Accept
# headers is enough (govcd); the version is echoed in every Content-Type.
. "$(dirname "$0")/lib.sh"
login
tok=(-H "x-vcloud-authorization: $TOKEN")

req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H 'Accept: application/*+xml'
expect "GET /api/org/ without a version" 406 "$CODE"
expect_match "406 text without a version" 'The request has invalid accept header: \. Supported API versions are: \[' "$(cat "$W/body") $REASON"
req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H 'Accept: application/*+xml;version='
expect "GET /api/org/ with an empty version" 406 "$CODE"
expect_match "406 text with an empty version" 'The request has invalid accept header: \. Supported API versions are: \[' "$(cat "$W/body") $REASON"
req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H 'Accept: application/*+xml;version=99.0'
expect "GET /api/org/ with version 99.0" 406 "$CODE"
expect_match "406 text with version 99.0" 'Invalid API version requested\. Supported API versions are: \[.*39\.1' "$(cat "$W/body") $REASON"
req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H 'Accept: application/*+xml;version=4.0'
expect "GET /api/org/ with version 4.0" 406 "$CODE"

# govcd: a second odd Accept header; the valid one counts
req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H 'Accept: vnd.vmware.vcloud.org+xml' -H 'Accept: application/*+xml;version=36.0'
expect "GET /api/org/ with two Accept headers, one valid" 200 "$CODE"
expect_match "Content-Type echoes version 36.0" '^application/vnd\.vmware\.vcloud\.orgList\+xml; ?version=36\.0' "$(hdr Content-Type)"
for v in 5.5 33.0 39.1; do
    req GET "$CLOUDS_VCD_URL/api/org/" "${tok[@]}" -H "Accept: application/*+xml;version=$v"
    expect "GET /api/org/ at $v" 200 "$CODE"
    expect_match "Content-Type at $v" "version=${v//./\\.}\$" "$(hdr Content-Type)"
done
# an error body echoes the version too
req GET "$CLOUDS_VCD_URL/api/catalog/00000000-0000-4000-8000-000000000000" "${tok[@]}" -H 'Accept: application/*+xml;version=35.0'
expect "unknown catalog" 403 "$CODE"
expect_match "error Content-Type" '^application/vnd\.vmware\.vcloud\.error\+xml; ?version=35\.0' "$(hdr Content-Type)"
exit 0
