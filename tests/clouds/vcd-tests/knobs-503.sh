#!/bin/bash
# §10.5 http_503_every=N: every Nth request is answered 503; the others are normal.
. "$(dirname "$0")/lib.sh"
login
knobs '{"http_503_every":3}'
codes=""
for i in 1 2 3 4 5 6 7 8 9; do
    api GET /api/org/
    codes="$codes $CODE"
done
n503=$(echo "$codes" | tr ' ' '\n' | grep -c '^503$')
n200=$(echo "$codes" | tr ' ' '\n' | grep -c '^200$')
expect "503 answers among 9 requests with http_503_every=3 (codes:$codes)" 3 "$n503"
expect "200 answers among 9 requests (codes:$codes)" 6 "$n200"
knobs_reset
api GET /api/org/
expect "after the knobs reset" 200 "$CODE"
exit 0
