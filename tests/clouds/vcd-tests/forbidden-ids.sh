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
others=$(state | jq -r '.. | objects | select(has("org") and .org == "other") | .href? // empty' 2>/dev/null | head -5)
if [ -z "$others" ]; then
    # the control state has no hrefs of the other org: ask the query service as a
    # reader of that org is not possible; take ids from the emulator's store instead
    others=$(grep -rhoE '/api/(org|catalog|catalogItem|vAppTemplate/vappTemplate-)[0-9a-f-]{36}' "$CLOUDS_VCD_STORE" 2>/dev/null |
        sort -u | while read -r p; do
            api GET "$p"
            [ "$CODE" = 403 ] && echo "$p"
        done | head -3)
fi
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
