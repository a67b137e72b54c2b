#!/bin/bash
# §10.2 authentication and headers: no token / an unknown token / an expired token
# (POST /__emulator/expire-sessions) → 401 with an empty body; every /api answer
# carries X-VMWARE-VCLOUD-REQUEST-ID and X-VMWARE-VCLOUD-REQUEST-EXECUTION-TIME;
# transfer answers lack the request id (omit_request_id_on_transfer default true) and
# carry it with the knob false.
. "$(dirname "$0")/lib.sh"
acc=(-H 'Accept: application/*+xml;version=37.2')
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}"
expect "GET /api/org/ without a token" 401 "$CODE"
expect "401 body length" 0 "$(body_len)"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H 'x-vcloud-authorization: 0123456789abcdef0123456789abcdef'
expect "GET /api/org/ with an unknown token" 401 "$CODE"
expect "401 body length" 0 "$(body_len)"
req GET "$CLOUDS_VCD_URL/api/org/" "${acc[@]}" -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.bm90LWEtdG9rZW4.c2ln'
expect "GET /api/org/ with an unknown bearer token" 401 "$CODE"

login
api GET /api/org/
expect "GET /api/org/" 200 "$CODE"
[ -n "$(hdr X-VMWARE-VCLOUD-REQUEST-ID)" ] || fail "X-VMWARE-VCLOUD-REQUEST-ID on /api: expected a value, got none"
[ -n "$(hdr X-VMWARE-VCLOUD-REQUEST-EXECUTION-TIME)" ] || fail "X-VMWARE-VCLOUD-REQUEST-EXECUTION-TIME on /api: expected a value, got none"
api GET /api/catalog/00000000-0000-4000-8000-000000000000
[ -n "$(hdr X-VMWARE-VCLOUD-REQUEST-ID)" ] || fail "X-VMWARE-VCLOUD-REQUEST-ID on an /api error: expected a value, got none"

make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-hdr"
tpl
put_descriptor "$W/d.ovf"
expect "descriptor PUT body length" 0 "$(body_len)"
expect "X-VMWARE-VCLOUD-REQUEST-ID on a transfer answer (default)" "" "$(hdr X-VMWARE-VCLOUD-REQUEST-ID)"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']"
knobs '{"omit_request_id_on_transfer":false}'
tput "$(file_link d.vmdk)" "$W/d.vmdk"
expect "disk PUT" 200 "$CODE"
[ -n "$(hdr X-VMWARE-VCLOUD-REQUEST-ID)" ] || fail "X-VMWARE-VCLOUD-REQUEST-ID on a transfer answer with omit_request_id_on_transfer=false: expected a value, got none"

ctl POST expire-sessions >/dev/null || fail "POST /__emulator/expire-sessions failed"
api GET /api/org/
expect "GET /api/org/ after expire-sessions" 401 "$CODE"
expect "401 body length" 0 "$(body_len)"
exit 0
