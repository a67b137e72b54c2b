#!/bin/bash
# §4.1/§10.5 a second upload POST with a name already in the catalog → 400 Error
# DUPLICATE_NAME "The VCD entity NAME already exists." (with the request-id prefix);
# with duplicate_name_code=500 → 500 whose message says "already exists"; the same
# name in another catalog is fine.
. "$(dirname "$0")/lib.sh"
login
name=$NAME_PREFIX-dup
create "$name"
catalog_href migrated
params "$name"
api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' --data-binary "@$W/params.xml"
expect "second POST with the same name" 400 "$CODE"
expect "root" Error "$(xp 'local-name(/*)')"
expect "majorErrorCode" 400 "$(xp /_:Error/@majorErrorCode)"
expect "minorErrorCode" DUPLICATE_NAME "$(xp /_:Error/@minorErrorCode)"
expect_match "message" "^(\\[ [^]]+ \\] )?The VCD entity $name already exists\\.\$" "$(xp /_:Error/@message)"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.error\+xml; ?version=37\.2' "$(hdr Content-Type)"
knobs '{"duplicate_name_code":500}'
api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' --data-binary "@$W/params.xml"
expect "second POST with duplicate_name_code=500" 500 "$CODE"
expect "majorErrorCode with the knob" 500 "$(xp /_:Error/@majorErrorCode)"
expect_match "message with the knob" 'already exists' "$(xp /_:Error/@message)"
n=$(state | jq --arg n "$name" '[.templates[] | select(.name == $n)] | length')
expect "templates named $name" 1 "$n"
exit 0
