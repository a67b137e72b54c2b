#!/bin/bash
# §10.4 unknown transfer session or file name → 404; a transfer PUT without auth is
# refused by default (require_transfer_auth) and accepted with the knob false.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-unk"
tpl
du=$(file_link descriptor.ovf)
base=$(dirname "$du")
tput "$CLOUDS_VCD_URL/transfer/00000000-0000-4000-8000-000000000000/descriptor.ovf" "$W/d.ovf"
expect "PUT into an unknown transfer session" 404 "$CODE"
tput "$base/other.vmdk" "$W/d.ovf"
expect "PUT of a name not in the session" 404 "$CODE"
req GET "$base/nothing.ovf" -H "x-vcloud-authorization: $TOKEN"
expect "GET of an unknown transfer name" 404 "$CODE"
req PUT "$du" -H 'Content-Type: text/xml' --data-binary "@$W/d.ovf"
case $CODE in 401 | 403) ;; *) fail "descriptor PUT without auth (require_transfer_auth default): expected 401 or 403, got $CODE" ;; esac
tpl
expect "descriptor state after the refused PUT" false "$(xp /_:VAppTemplate/@ovfDescriptorUploaded "$W/tpl.xml")"
knobs '{"require_transfer_auth":false}'
req PUT "$du" -H 'Content-Type: text/xml' --data-binary "@$W/d.ovf"
expect "descriptor PUT without auth, require_transfer_auth=false" 200 "$CODE"
exit 0
