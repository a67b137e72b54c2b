#!/bin/bash
# Listing costs no request per file (counted by the fault proxy, through
# which cloud t reaches Glance): the first `ls -l images/` makes only listing
# requests (GET /v2/images, one per page); within the listing TTL a second
# `ls -l`, `ls -l by-id/` and `stat` of the files make none at all.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,list_ttl=60,views=none # views: see views-requests.sh

dir=$MNT/t/images
ls -l "$dir" >"$WORK/ls1" || fail "ls -l failed"
expected=$(awk -F'\t' '$1 == "openstack"' "$CLOUDS_MANIFEST" | wc -l)
[ "$(grep -c '^-' "$WORK/ls1")" = "$expected" ] || fail "ls -l shows $(grep -c '^-' "$WORK/ls1") files, expected $expected"
proxy_recent >"$WORK/req1"
[ -s "$WORK/req1" ] || fail "no request went through the proxy: is image_endpoint_override honoured?"
grep -vE '^GET /v2/images(\?[^/ ]*)? ' "$WORK/req1" >"$WORK/other" &&
    fail "the first ls -l made other requests than listings: $(head -5 "$WORK/other")"
# The mount's sweep of half-made uploads lists only images tagged by it.
pages=$(grep -vc 'tag=cloudfs-upload' "$WORK/req1")
# Glance here caps a page at 10 images (queued ones count too).
[ "$pages" -le $((expected / 10 + 2)) ] || fail "$pages listing requests for $expected images"
n1=$(proxy_ctl stats | json_get requests)

ls -l "$dir" >"$WORK/ls2" || fail "second ls -l failed"
ls -l "$dir/by-id" >/dev/null || fail "ls -l by-id failed"
stat "$dir"/* "$dir"/by-id/* >/dev/null || fail "stat failed"
# a new process too (no help from its own caches)
bash -c 'for f in "$1"/*; do [ -f "$f" ] && stat -c %s "$f"; done' _ "$dir" >/dev/null
n2=$(proxy_ctl stats | json_get requests)
[ "$n2" = "$n1" ] || fail "ls -l / stat within the TTL made $((n2 - n1)) requests: $(proxy_recent | tail -n +$((n1 + 1)) | head -5)"
diff "$WORK/ls1" "$WORK/ls2" >/dev/null || fail "the second ls -l differs from the first"
echo "first ls -l: $pages listing requests; then none"
exit 0
