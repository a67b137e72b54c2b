#!/bin/bash
# §3.2/§10.2 GET /api/query (no type) → QueryList with Link rel="down" per query type
# and format, typed …query.records+xml / .references+xml / .idrecords+xml, and the
# links work.
. "$(dirname "$0")/lib.sh"
login
api GET /api/query
expect "GET /api/query" 200 "$CODE"
expect "root" QueryList "$(xp 'local-name(/*)')"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.query\.queryList\+xml; ?version=' "$(hdr Content-Type)"
for t in catalog catalogItem vAppTemplate task orgVdc; do
    for f in records references idrecords; do
        n=$(xn "/_:QueryList/_:Link[@rel='down' and @name='$t' and @type='application/vnd.vmware.vcloud.query.$f+xml']")
        expect "down links for $t/$f" 1 "$n"
    done
done
cp "$W/body" "$W/ql.xml"
h=$(xp "/_:QueryList/_:Link[@name='catalog' and @type='application/vnd.vmware.vcloud.query.records+xml']/@href" "$W/ql.xml")
api GET "$h"
expect "GET the catalog/records link" 200 "$CODE"
expect "root of its answer" QueryResultRecords "$(xp 'local-name(/*)')"
[ "$(xn '//_:CatalogRecord')" -ge 4 ] || fail "catalog records through the QueryList link: expected >= 4 (migrated golden archive readonly), got $(xn '//_:CatalogRecord')"
exit 0
