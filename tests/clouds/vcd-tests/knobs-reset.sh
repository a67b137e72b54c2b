#!/bin/bash
# §10.5 the control API: GET knobs shows the documented defaults; POST merges; DELETE
# resets to the defaults; GET state counts the fixture catalogs' items.
. "$(dirname "$0")/lib.sh"
knobs_reset
k=$(ctl GET knobs) || fail "GET knobs failed"
expect "default descriptor_delay" 1 "$(echo "$k" | jq -r '.descriptor_delay')"
expect "default import_delay" 2 "$(echo "$k" | jq -r '.import_delay')"
expect "default enable_download_delay" 1 "$(echo "$k" | jq -r '.enable_download_delay')"
expect "default omit_request_id_on_transfer" true "$(echo "$k" | jq -r '.omit_request_id_on_transfer')"
expect "default require_transfer_auth" true "$(echo "$k" | jq -r '.require_transfer_auth')"
expect "default max_hw_version" 19 "$(echo "$k" | jq -r '.max_hw_version')"
knobs '{"import_delay":0.5}'
knobs '{"duplicate_name_code":500}'
k=$(ctl GET knobs)
expect "import_delay after two merges" 0.5 "$(echo "$k" | jq -r '.import_delay')"
expect "duplicate_name_code after two merges" 500 "$(echo "$k" | jq -r '.duplicate_name_code')"
knobs_reset
k=$(ctl GET knobs)
expect "import_delay after DELETE" 2 "$(echo "$k" | jq -r '.import_delay')"
s=$(state) || fail "GET state failed"
expect "catalog_items of archive in state" 140 "$(echo "$s" | jq -r '.catalog_items.archive')"
expect "catalog_items of golden in state" 3 "$(echo "$s" | jq -r '.catalog_items.golden')"
st=$(ctl GET stats) || fail "GET stats failed"
echo "$st" | jq -e 'has("put_bytes")' >/dev/null || fail "GET stats: expected put_bytes, got $(echo "$st" | head -c 200)"
exit 0
