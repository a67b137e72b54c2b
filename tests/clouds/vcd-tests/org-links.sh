#!/bin/bash
# §10.2 version gating of the Org: below 33.0 it links its VDC and catalogs
# (rel="down"), from 33.0 it does not (it links the catalog and orgVdc queries
# instead: org-sdk-lookup.sh); the OrgList shows only the user's org.
. "$(dirname "$0")/lib.sh"
login
api GET /api/org/
expect "GET /api/org/" 200 "$CODE"
expect "root" OrgList "$(xp 'local-name(/*)')"
expect "orgs in alice's OrgList" 1 "$(xn '/_:OrgList/_:Org')"
org=$(xp '/_:OrgList/_:Org/@href')
expect_match "org href" "^$CLOUDS_VCD_URL/api/org/[0-9a-f-]{36}\$" "$org"
V=32.0
api GET "$org"
expect "GET org at 32.0" 200 "$CODE"
expect "catalog down links at 32.0 (migrated golden archive readonly)" 4 "$(xn "/_:Org/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.catalog+xml']")"
expect "vdc down links at 32.0" 1 "$(xn "/_:Org/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.vdc+xml']")"
expect "vdc name" "$CLOUDS_VCD_VDC" "$(xp "/_:Org/_:Link[@type='application/vnd.vmware.vcloud.vdc+xml']/@name")"
V=33.0
api GET "$org"
expect "GET org at 33.0" 200 "$CODE"
expect "catalog down links at 33.0" 0 "$(xn "/_:Org/_:Link[@type='application/vnd.vmware.vcloud.catalog+xml']")"
expect "vdc down links at 33.0" 0 "$(xn "/_:Org/_:Link[@type='application/vnd.vmware.vcloud.vdc+xml']")"
expect "Org name" "$CLOUDS_VCD_ORG" "$(xp /_:Org/@name)"
exit 0
