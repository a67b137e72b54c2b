#!/bin/bash
# §10.2 GET /api/versions: no auth, versions 5.5-39.1 with 5.5-32.0 deprecated and
# 33.0-39.1 not, LoginUrl /api/sessions up to 37.2 and /cloudapi/1.0.0/sessions from
# 38.0, media type application/vnd.vmware.vcloud.versions+xml, namespace .../versions.
. "$(dirname "$0")/lib.sh"
req GET "$CLOUDS_VCD_URL/api/versions"
expect "GET /api/versions without auth" 200 "$CODE"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.versions\+xml' "$(hdr Content-Type)"
expect "root namespace" "http://www.vmware.com/vcloud/versions" "$(xp 'namespace-uri(/*)')"
expect "root" SupportedVersions "$(xp 'local-name(/*)')"
for v in 5.5 9.0 20.0 27.0 29.0 30.0 31.0 32.0 33.0 34.0 35.0 36.0 37.0 37.2 38.0 38.1 39.0 39.1; do
    n=$(xn "//_:VersionInfo[_:Version='$v']")
    expect "VersionInfo elements for $v" 1 "$n"
    dep=$(xp "//_:VersionInfo[_:Version='$v']/@deprecated")
    login=$(xp "//_:VersionInfo[_:Version='$v']/_:LoginUrl")
    case $v in 5.5 | 9.0 | 2[0-9].0 | 3[0-2].0) expect "deprecated of $v" true "$dep" ;; *) expect "deprecated of $v" false "$dep" ;; esac
    case $v in 38.* | 39.*) expect "LoginUrl of $v" "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" "$login" ;;
    *) expect "LoginUrl of $v" "$CLOUDS_VCD_URL/api/sessions" "$login" ;; esac
done
for v in 5.4 40.0; do
    expect "VersionInfo elements for $v (outside 5.5-39.1)" 0 "$(xn "//_:VersionInfo[_:Version='$v']")"
done
# MediaTypeMapping only below 5.7 (versions.xsd)
expect "MediaTypeMapping under 33.0" 0 "$(xn "//_:VersionInfo[_:Version='33.0']/_:MediaTypeMapping")"
exit 0
