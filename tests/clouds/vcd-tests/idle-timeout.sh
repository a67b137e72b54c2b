#!/bin/bash
# §10.2/§2.4 session_idle_timeout=2: every /api request refreshes the session (calls
# 1.2 s apart keep it alive well past 2 s), transfer PUTs do not (a descriptor PUT in
# the middle of 2.6 s without /api traffic still lets it expire); then 401, empty body.
. "$(dirname "$0")/lib.sh"
knobs '{"session_idle_timeout":2}'
login
for i in 1 2 3; do
    sleep 1.2
    api GET /api/org/
    expect "GET /api/org/ ${i}x1.2 s after login with /api calls between (idle timeout 2 s)" 200 "$CODE"
done
disk=$W/d.vmdk
make_disk "$disk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$disk")" "$CAPACITY"
create "$NAME_PREFIX-idle"
tpl                                   # last /api activity
sleep 1.3
put_descriptor "$W/d.ovf"             # transfer: must not refresh
sleep 1.3
api GET "$TPL"
expect "GET template 2.6 s after the last /api call (a transfer PUT between)" 401 "$CODE"
expect "401 body length" 0 "$(body_len)"
# the transfer PUT itself was accepted (and the session is dead for transfers too, or not — unspecified)
login
tpl
expect "descriptor accepted before expiry" true "$(xp /_:VAppTemplate/@ovfDescriptorUploaded "$W/tpl.xml")"
exit 0
