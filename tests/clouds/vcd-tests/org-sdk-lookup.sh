#!/bin/bash
# §3.1 the Org per API version as the SDKs walk it: up to 32.0 Link rel="down" of type
# catalog+xml / vdc+xml, from 33.0 instead Link rel="down" of type query.records+xml to
# the catalog and orgVdc queries filtered on the org. sdk_lookup.py finds catalog golden
# and VDC demo-vdc the way pyvcloud (Org.get_catalog / get_vdc) and go-vcloud-director
# (GetCatalogByName / GetVDCByName) do at 32.0 and at 37.0, checks that the Org's links
# list exactly the org's own catalogs, and does the same as bob of org "other": neither
# org finds the other's catalogs, and bob following demo's catalog query link gets no
# record. Every document received validates against the schemas.
. "$(dirname "$0")/lib.sh"
fx=$(find "$CLOUDS_DIR" -name fixtures.json 2>/dev/null | head -1)
[ -n "$fx" ] || fail "no fixtures.json under $CLOUDS_DIR"
names() { jq -r --arg o "$1" '.orgs[] | select(.name == $o) | [.catalogs[].name] | join(",")' "$fx"; }
field() { jq -r --arg o "$1" ".orgs[] | select(.name == \$o) | $2" "$fx"; }
golden_items=$(jq -r '.orgs[] | select(.name == "demo") | .catalogs[] | select(.name == "golden") | .templates | length' "$fx")
bob=$(field other '.users[0].name')
bob_pw=$(field other '.users[0].password')
mkdir -p "$W/docs"
for ver in 32.0 37.0; do
    "$PY" "$VT/sdk_lookup.py" --url "$CLOUDS_VCD_URL" --cacert "$CLOUDS_CACERT" --version "$ver" \
        --user "$CLOUDS_VCD_USER" --org "$CLOUDS_VCD_ORG" --password "$CLOUDS_VCD_PASSWORD" \
        --catalog golden --items "$golden_items" --vdc "$CLOUDS_VCD_VDC" --catalogs "$(names demo)" \
        --absent other-private --save "$W/docs" || exit 1
    mkdir -p "$W/docs-bob"
    "$PY" "$VT/sdk_lookup.py" --url "$CLOUDS_VCD_URL" --cacert "$CLOUDS_CACERT" --version "$ver" \
        --user "$bob" --org other --password "$bob_pw" \
        --catalog other-private --items "$(field other '.catalogs[0].templates | length')" \
        --vdc "$(field other .vdc.name)" --catalogs "$(names other)" --absent golden --absent migrated \
        --save "$W/docs-bob" || exit 1
done

# demo's own catalog query link, followed by bob: the filter names demo, bob sees none of it
orgs37=("$W"/docs/37.0-*-Org.xml)
org37=${orgs37[0]}
link=$(xl "/_:Org/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.query.records+xml' and contains(@href,'type=catalog')]/@href" "$org37")
[ -n "$link" ] || fail "no catalog query link in demo's Org at 37.0 ($org37)"
req POST "$CLOUDS_VCD_URL/cloudapi/1.0.0/sessions" -u "$bob@other:$bob_pw" -H 'Accept: application/json;version=37.0'
expect "bob's CloudAPI login" 200 "$CODE"
req GET "$link" -H 'Accept: application/*+xml;version=37.0' -H "Authorization: Bearer $(hdr X-VMWARE-VCLOUD-ACCESS-TOKEN)"
expect "bob GETs demo's catalog query link" 200 "$CODE"
expect "records bob gets from demo's catalog query link" 0 "$(xn '//_:CatalogRecord')"

if [ -x "$SCHEMAS/validate" ]; then
    "$SCHEMAS/validate" vcloud "$W"/docs/*.xml "$W"/docs-bob/*.xml >"$W/val" 2>&1 ||
        fail "documents of the SDK lookups: expected valid, got $(grep -v ' validates$' "$W/val" | head -2 | tr '\n' ' ')"
fi
exit 0
