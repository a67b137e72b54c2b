#!/bin/bash
# Flavors: /flavors/{id} has vcpus, ram (MiB), disk (GiB), name; /flavors/detail lists them
# (paged at 5); every server's flavor (2.1: {id, links}) resolves to the vcpus and RAM of
# servers.tsv; an unknown flavor is 404 itemNotFound.
. "$(dirname "$0")/lib.sh"
nova GET /flavors/2
expect "GET /flavors/2" 200 "$CODE"
expect "m1.small" "m1.small 1 2048 10" "$(j '.flavor | "\(.name) \(.vcpus) \(.ram) \(.disk)"')"
nova GET /flavors/detail
expect "flavors/detail" 5 "$(j '.flavors | length')"
expect "flavors" "m1.tiny m1.small m1.medium m1.large m1.xlarge" "$(j '[.flavors[].name] | join(" ")')"
nova GET /flavors
expect "flavors (summary): keys" "id,links,name" "$(j '.flavors[0] | keys | sort | join(",")')"
nova GET /flavors/nope
expect "unknown flavor" 404 "$CODE"
expect "unknown flavor: message" "Flavor nope could not be found." "$(j .itemNotFound.message)"
while IFS=$'\t' read -r project name id _status flavor vcpus ram _path; do
    [ "$project" = demo ] || continue
    nova GET "/servers/$id"
    fid=$(j .server.flavor.id)
    expect_match "$name: flavor link" "/flavors/$fid\$" "$(j '.server.flavor.links[0].href')"
    nova GET "/flavors/$fid"
    expect "$name: flavor" "$flavor $vcpus $ram" "$(j '.flavor | "\(.name) \(.vcpus) \(.ram)"')"
done < <(grep -v '^#' "$CLOUDS_SERVERS")
exit 0
