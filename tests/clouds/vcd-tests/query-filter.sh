#!/bin/bash
# §10.2 query filters: == exact and case-sensitive, case-insensitive with a * wildcard,
# != , ";" AND, "," OR, backslash escapes, sortAsc/sortDesc, formats records /
# references / idrecords, unknown type → 400 BAD_REQUEST, admin type as a tenant → 403,
# ready templates report status RESOLVED.
. "$(dirname "$0")/lib.sh"
login
query vAppTemplate "format=records&filter=catalogName==golden&sortAsc=name"
expect "golden templates" 3 "$(xn '//_:VAppTemplateRecord')"
mapfile -t names < <(xl '//_:VAppTemplateRecord/@name')
[ "$(printf '%s\n' "${names[@]}")" = "$(printf '%s\n' "${names[@]}" | LC_ALL=C sort)" ] || fail "sortAsc=name: got ${names[*]}"
expect "status of golden templates" "RESOLVED RESOLVED RESOLVED" "$(xl '//_:VAppTemplateRecord/@status' | tr '\n' ' ' | sed 's/ $//')"
n0=${names[0]}
query vAppTemplate "format=records&filter=catalogName==golden&sortDesc=name"
expect "first with sortDesc=name" "${names[2]}" "$(xp '(//_:VAppTemplateRecord)[1]/@name')"

query vAppTemplate "format=records&filter=name==$n0"
expect "records with name==$n0" 1 "$(xn '//_:VAppTemplateRecord')"
up=$(echo "$n0" | tr '[:lower:]' '[:upper:]')
[ "$up" != "$n0" ] || fail "golden template name $n0 has no lower-case letters to test case"
query vAppTemplate "format=records&filter=name==$up"
expect "records with name==$up (== is case-sensitive)" 0 "$(xn '//_:VAppTemplateRecord')"
query vAppTemplate "format=records&filter=name==${up:0:3}*"
[ "$(xn "//_:VAppTemplateRecord[@name='$n0']")" = 1 ] || fail "name==${up:0:3}* (wildcard: case-insensitive): expected $n0 among the records, got $(xl '//_:VAppTemplateRecord/@name' | tr '\n' ' ')"
query vAppTemplate "format=records&filter=catalogName==golden;name!=$n0"
expect "records with catalogName==golden;name!=$n0" 2 "$(xn '//_:VAppTemplateRecord')"
query vAppTemplate "format=records&filter=name==${names[0]},name==${names[1]}"
expect "records with an OR of two names" 2 "$(xn '//_:VAppTemplateRecord')"
query vAppTemplate "format=records&filter=(name==${names[0]},name==${names[1]});catalogName==golden"
expect "records with (a,b);c" 2 "$(xn '//_:VAppTemplateRecord')"
query vAppTemplate "format=records&filter=name==${names[0]};catalogName==archive"
expect "records with an AND that cannot match" 0 "$(xn '//_:VAppTemplateRecord')"
# a backslash-escaped comma is part of the value, not an OR (%5C%2C = \,)
query vAppTemplate "format=records&filter=name==${names[0]}%5C%2Cname==${names[1]}"
expect "records with an escaped comma in the value" 0 "$(xn '//_:VAppTemplateRecord')"
# percent-decoding once: %3D%3D is "=="
query vAppTemplate "format=records&filter=name%3D%3D$n0"
expect "records with a percent-encoded ==" 1 "$(xn '//_:VAppTemplateRecord')"

query catalogItem "format=references&filter=catalogName==golden"
expect "format=references root (queryReferenceView.xsd)" CatalogItemReferences "$(xp 'local-name(/*)')"
expect "CatalogItemReference elements" 3 "$(xn '//_:CatalogItemReference')"
query catalogItem "format=idrecords&filter=catalogName==golden"
expect_match "format=idrecords id" '^urn:vcloud:catalogitem:[0-9a-f-]{36}$' "$(xp '(//_:CatalogItemRecord)[1]/@id')"
query catalog "format=records&filter=name==golden"
expect "catalog records named golden" 1 "$(xn '//_:CatalogRecord')"
expect "numberOfVAppTemplates of golden" 3 "$(xp '//_:CatalogRecord/@numberOfVAppTemplates')"
query catalogItem "format=records&filter=catalogName==golden&links=true"
[ "$(xn '//_:CatalogItemRecord/_:Link')" -ge 3 ] || fail "links=true: expected Link children in records, got $(xn '//_:CatalogItemRecord/_:Link')"

api GET "/api/query?type=noSuchType&format=records"
expect "unknown query type" 400 "$CODE"
expect "minorErrorCode of an unknown type" BAD_REQUEST "$(xp /_:Error/@minorErrorCode)"
api GET "/api/query?type=adminVAppTemplate&format=records"
expect "adminVAppTemplate as a tenant user" 403 "$CODE"
expect "minorErrorCode of an admin type" ACCESS_TO_RESOURCE_IS_FORBIDDEN "$(xp /_:Error/@minorErrorCode)"
exit 0
