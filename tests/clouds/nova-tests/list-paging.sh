#!/bin/bash
# GET /servers and /servers/detail page at 5 (the cap): a full page carries servers_links rel
# "next" (keeping limit, replacing marker); following the links yields every server of project
# demo of servers.tsv exactly once, newest first; limit=3 pages by 3; limit=100 is clamped to
# 5; an unknown marker is 400 badRequest; a negative limit 400.
. "$(dirname "$0")/lib.sh"
want=$(awk -F'\t' '$1 == "demo" { print $2 }' "$CLOUDS_SERVERS" | sort)
expect "demo servers in servers.tsv" 10 "$(echo "$want" | wc -l)"
for coll in /servers /servers/detail; do
    : >"$W/names"
    url=$coll pages=0
    while [ -n "$url" ]; do
        nova GET "$url"
        expect "GET $url" 200 "$CODE"
        pages=$((pages + 1))
        n=$(j '.servers | length')
        [ "$n" -le 5 ] || fail "$coll page $pages: $n servers, more than the cap of 5"
        j '.servers[].name' >>"$W/names"
        if [ "$coll" = /servers/detail ]; then
            expect "$coll: every entry has status, flavor, addresses, tenant_id" "$n" \
                "$(j '[.servers[] | select(.status and .flavor and .addresses and .tenant_id and .created and .updated and has("OS-EXT-STS:task_state") and .image.id)] | length')"
        else
            expect "$coll: entries are id, name, links" "$n" "$(j '[.servers[] | select((keys | sort) == ["id","links","name"])] | length')"
        fi
        url=$(j '(.servers_links // [])[] | select(.rel == "next") | .href')
        if [ -n "$url" ]; then
            expect "$coll page $pages with a next link: full" 5 "$n"
            expect_match "$coll next link" "^$CLOUDS_NOVA_URL$coll\\?marker=" "$url"
        fi
        [ $pages -lt 10 ] || fail "$coll: more than 10 pages"
    done
    [ $pages -ge 2 ] || fail "$coll: expected 2+ pages, got $pages"
    expect "$coll: names over all pages" "$want" "$(sort "$W/names")"
    expect "$coll: no name twice" 10 "$(sort -u "$W/names" | wc -l)"
done
# newest first: app-07 (created last) leads, web1 (first) ends
nova GET /servers
expect "first server" app-07 "$(j '.servers[0].name')"
nova GET "/servers?limit=3"
expect "limit=3" 3 "$(j '.servers | length')"
expect_match "next link keeps limit" 'limit=3&marker=' "$(j '.servers_links[0].href')"
nova GET "$(j '.servers_links[0].href')"
expect "second page of 3" "app-04 app-03 app-02" "$(j '[.servers[].name] | join(" ")')"
nova GET "/servers/detail?limit=100"
expect "limit=100 clamped to" 5 "$(j '.servers | length')"
nova GET "/servers?marker=00000000-0000-4000-8000-000000000000"
expect "unknown marker" 400 "$CODE"
expect_match "unknown marker error" 'marker \[00000000-0000-4000-8000-000000000000\] not found' "$(j '.badRequest.message')"
nova GET "/servers?limit=-1"
expect "limit=-1" 400 "$CODE"
nova GET "/servers?name=^app-0[12]$"
expect "name filter" "app-02 app-01" "$(j '[.servers[].name] | join(" ")')"
nova GET "/servers/detail?status=SHUTOFF"
expect "status filter" "app-06 app-03 db1" "$(j '[.servers[].name] | join(" ")')"
exit 0
