#!/bin/bash
# §10.2 filter decoding by version: before 35.0 filterEncoded=true decodes the value
# after == once more (a double-encoded name matches); from 35.0 the value is decoded
# only once (the same double-encoded name does not match).
. "$(dirname "$0")/lib.sh"
login
query vAppTemplate "format=records&filter=catalogName==golden"
n0=$(xp '(//_:VAppTemplateRecord)[1]/@name')
# double-encode the first character of the name: "a" → %2561 (%25 = "%")
first=$(printf '%%25%02X' "'${n0:0:1}")
enc=$first${n0:1}
V=34.0
api GET "/api/query?type=vAppTemplate&format=records&filterEncoded=true&filter=name==$enc"
expect "query at 34.0" 200 "$CODE"
expect "records at 34.0 with filterEncoded=true and a double-encoded name" 1 "$(xn '//_:VAppTemplateRecord')"
V=36.0
api GET "/api/query?type=vAppTemplate&format=records&filterEncoded=true&filter=name==$enc"
expect "query at 36.0" 200 "$CODE"
expect "records at 36.0 with a double-encoded name (filterEncoded ignored)" 0 "$(xn '//_:VAppTemplateRecord')"
exit 0
