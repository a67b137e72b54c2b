#!/bin/bash
# §10.2/§8 unknown or foreign entity ids → 403 Error ACCESS_TO_RESOURCE_IS_FORBIDDEN
# (majorErrorCode 403, message with the "[ request-id ] " prefix); another org's objects
# are invisible and forbidden; unknown paths → 404; a wrong method on a known path → 405.
. "$(dirname "$0")/lib.sh"
login
u=00000000-0000-4000-8000-0000000000aa
for p in /api/org/$u /api/catalog/$u /api/catalogItem/$u /api/vAppTemplate/vappTemplate-$u /api/task/$u /api/vdc/$u; do
    api GET "$p"
    expect "GET $p" 403 "$CODE"
    expect "root of the 403 body of $p" Error "$(xp 'local-name(/*)')"
    expect "majorErrorCode of $p" 403 "$(xp /_:Error/@majorErrorCode)"
    expect "minorErrorCode of $p" ACCESS_TO_RESOURCE_IS_FORBIDDEN "$(xp /_:Error/@minorErrorCode)"
    expect_match "message of $p" '^\[ [^]]+ \] ' "$(xp /_:Error/@message)"
done
api DELETE "/api/catalogItem/$u"
expect "DELETE an unknown catalog item" 403 "$CODE"

# the other org: not in alice's OrgList, and its ids are forbidden
api GET /api/org/
expect "orgs alice sees" "$CLOUDS_VCD_ORG" "$(xl '//_:Org/@name' | tr '\n' ' ' | sed 's/ $//')"
# ids of org "other" from the emulator's fixtures (fixtures.json: orgs[].catalogs[].templates[])
fx=$(find "$CLOUDS_DIR" -name fixtures.json 2>/dev/null | head -1)
[ -n "$fx" ] || fail "no fixtures.json under $CLOUDS_DIR to take org 'other' ids from"
others=$(jq -r '.orgs[] | select(.name == "other") |
    "/api/org/\(.id)", "/api/vdc/\(.vdc.id)",
    (.catalogs[] | "/api/catalog/\(.id)", (.templates[] | "/api/catalogItem/\(.item_id)", "/api/vAppTemplate/vappTemplate-\(.id)"))' "$fx")
[ -n "$others" ] || fail "could not find any object of org 'other' to check (store $CLOUDS_VCD_STORE)"
for p in $others; do
    api GET "$p"
    expect "GET another org's $p" 403 "$CODE"
done
query catalog "format=records&pageSize=128"
[ "$(xn "//_:CatalogRecord[@orgName!='$CLOUDS_VCD_ORG']")" = 0 ] || fail "the query service shows alice catalogs of another org"

api GET /api/no-such-thing
expect "GET an unknown path" 404 "$CODE"
api PUT /api/org/
expect "PUT on /api/org/" 405 "$CODE"
api DELETE /api/query
expect "DELETE on /api/query" 405 "$CODE"
exit 0
