#!/bin/bash
# §10.2 Expect: 100-continue: a transfer PUT that will be accepted gets "100 Continue"
# before its body; one that will not (no valid token) gets its final 401 at once and
# the body is not sent (curl uploads nothing of the 4 MiB).
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-e100"
tpl
u=$(file_link descriptor.ovf)
head -c 4194304 /dev/urandom >"$W/big"
up=$(curl -s --cacert "$CLOUDS_CACERT" -X PUT -H 'Expect: 100-continue' -H 'x-vcloud-authorization: 0123456789abcdef0123456789abcdef' \
    --data-binary "@$W/big" -D "$W/hdr" -o /dev/null -w '%{http_code} %{size_upload}' "$u")
expect "status of a PUT with Expect and a bad token" 401 "${up% *}"
grep -q '^HTTP/1.1 100' "$W/hdr" && fail "a PUT that is refused got 100 Continue first"
[ "${up#* }" -lt 1048576 ] || fail "bytes curl sent into a refused PUT with Expect: expected < 1 MiB (body not sent), got ${up#* }"
up=$(curl -s --cacert "$CLOUDS_CACERT" -X PUT -H 'Expect: 100-continue' -H "x-vcloud-authorization: $TOKEN" -H 'Content-Type: text/xml' \
    --data-binary "@$W/d.ovf" -D "$W/hdr" -o /dev/null -w '%{http_code}' "$u")
expect "status of an accepted descriptor PUT with Expect" 200 "$up"
grep -q '^HTTP/1.1 100' "$W/hdr" || fail "an accepted PUT with Expect: 100-continue: expected 100 Continue first, got $(head -1 "$W/hdr")"
exit 0
