#!/bin/bash
# §4.1/§3.3 a read-only catalog has no upload link and a POST to its action/upload
# anyway → 403 ACCESS_TO_RESOURCE_IS_FORBIDDEN; a user without upload rights (reader)
# sees no upload link on the writable catalog either and gets 403; nothing is created.
. "$(dirname "$0")/lib.sh"
login
catalog_href readonly
api GET "$CAT"
expect "GET catalog readonly" 200 "$CODE"
expect "upload links on catalog readonly" 0 "$(xn "/_:Catalog/_:Link[@rel='add' and @type='application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml']")"
params "$NAME_PREFIX-ro"
api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' --data-binary "@$W/params.xml"
expect "POST action/upload on readonly" 403 "$CODE"
expect "minorErrorCode" ACCESS_TO_RESOURCE_IS_FORBIDDEN "$(xp /_:Error/@minorErrorCode)"

login "$CLOUDS_VCD_READER" "$CLOUDS_VCD_READER_PASSWORD"
catalog_href migrated
api GET "$CAT"
expect "GET catalog migrated as reader" 200 "$CODE"
expect "upload links for the reader" 0 "$(xn "/_:Catalog/_:Link[@rel='add' and @type='application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml']")"
params "$NAME_PREFIX-rd"
api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' --data-binary "@$W/params.xml"
expect "POST action/upload as reader" 403 "$CODE"
expect "minorErrorCode" ACCESS_TO_RESOURCE_IS_FORBIDDEN "$(xp /_:Error/@minorErrorCode)"
n=$(state | jq --arg p "$NAME_PREFIX" '[.templates[] | select(.name | startswith($p))] | length')
expect "templates created by refused POSTs" 0 "$n"
exit 0
