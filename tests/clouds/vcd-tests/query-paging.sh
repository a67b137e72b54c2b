#!/bin/bash
# §10.2 query paging over catalog "archive" (140 items): total/page/pageSize on every
# page, pageSize clamped to 128, default 25, nextPage/previousPage/firstPage/lastPage
# links as applicable (and followable), page past the end → empty, 1-based pages.
. "$(dirname "$0")/lib.sh"
login
f="filter=catalogName==archive"
query catalogItem "format=records&pageSize=128&page=1&$f"
expect "root" QueryResultRecords "$(xp 'local-name(/*)')"
expect "total" 140 "$(xp /_:QueryResultRecords/@total)"
expect "page" 1 "$(xp /_:QueryResultRecords/@page)"
expect "pageSize" 128 "$(xp /_:QueryResultRecords/@pageSize)"
expect "records on page 1 of 128" 128 "$(xn '//_:CatalogItemRecord')"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.query\.records\+xml; ?version=' "$(hdr Content-Type)"
expect "nextPage links on page 1" 1 "$(xn "/_:QueryResultRecords/_:Link[@rel='nextPage' and @type='application/vnd.vmware.vcloud.query.records+xml']")"
expect "lastPage links on page 1" 1 "$(xn "/_:QueryResultRecords/_:Link[@rel='lastPage']")"
expect "previousPage links on page 1" 0 "$(xn "/_:QueryResultRecords/_:Link[@rel='previousPage']")"
xl '//_:CatalogItemRecord/@name' >"$W/p1"
next=$(xp "/_:QueryResultRecords/_:Link[@rel='nextPage']/@href" | sed 's/&amp;/\&/g')
expect_match "nextPage href" 'page=2' "$next"

api GET "$next"
expect "GET the nextPage link" 200 "$CODE"
expect "page of the nextPage link" 2 "$(xp /_:QueryResultRecords/@page)"
expect "records on page 2 of 128" 12 "$(xn '//_:CatalogItemRecord')"
expect "total on page 2" 140 "$(xp /_:QueryResultRecords/@total)"
expect "nextPage links on the last page" 0 "$(xn "/_:QueryResultRecords/_:Link[@rel='nextPage']")"
expect "previousPage links on page 2" 1 "$(xn "/_:QueryResultRecords/_:Link[@rel='previousPage']")"
expect "firstPage links on page 2" 1 "$(xn "/_:QueryResultRecords/_:Link[@rel='firstPage']")"
xl '//_:CatalogItemRecord/@name' >>"$W/p1"
expect "distinct names over both pages" 140 "$(sort -u "$W/p1" | wc -l)"

query catalogItem "format=records&pageSize=500&$f"
expect "pageSize=500 clamps to" 128 "$(xp /_:QueryResultRecords/@pageSize)"
expect "records with pageSize=500" 128 "$(xn '//_:CatalogItemRecord')"
query catalogItem "format=records&$f"
expect "default pageSize" 25 "$(xp /_:QueryResultRecords/@pageSize)"
expect "records with the default pageSize" 25 "$(xn '//_:CatalogItemRecord')"
query catalogItem "format=records&pageSize=25&page=6&$f"
expect "records on page 6 of 25" 15 "$(xn '//_:CatalogItemRecord')"
query catalogItem "format=records&pageSize=25&page=7&$f"
expect "records past the end" 0 "$(xn '//_:CatalogItemRecord')"
expect "total past the end" 140 "$(xp /_:QueryResultRecords/@total)"
# the same paging for vAppTemplate records (govcd computes pages from total)
query vAppTemplate "format=records&pageSize=100&page=2&filter=catalogName==archive"
expect "vAppTemplate total in archive" 140 "$(xp /_:QueryResultRecords/@total)"
expect "vAppTemplate records on page 2 of 100" 40 "$(xn '//_:VAppTemplateRecord')"
exit 0
