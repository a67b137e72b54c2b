#!/bin/bash
# A read stalled on one image delays nothing else (no lock held across a
# request): while the shared fault proxy holds every download of ext4-raw,
# reading another image, a fresh `ls -l` (list_ttl=1, so it goes to Glance),
# `stat` of the stalled file and by-id/ all answer within a few seconds;
# once the stall is lifted the stalled read completes with the right bytes.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,list_ttl=1,timeout=60
ls "$MNT/t/images" >/dev/null || fail "listing failed"

stalled=$(manifest openstack ext4-raw id)
proxy_ctl add mode=stall "match=$stalled/file" count=-1 after=0 || fail "proxy rule"
(timed 90 sha256sum "$MNT/t/images/by-id/$stalled.raw" >"$WORK/sum"; echo "$RC" >"$WORK/rc") &
BG_PIDS+=($!)
wait_until 10 proxy_hit 1 || fail "the stalled read never reached the proxy"

other=$(manifest openstack ext4 id)
timed 5 sha256sum "$MNT/t/images/by-id/$other.qcow2" >"$WORK/sum2"
[ $RC = 0 ] || fail "reading ext4 while ext4-raw is stalled: exit $RC after $MS ms"
[ "$(cut -d' ' -f1 "$WORK/sum2")" = "$(manifest openstack ext4 sha256)" ] || fail "ext4's sha256 is wrong"
echo "read of another image: $MS ms"
sleep 1.1   # past list_ttl: the next ls -l fetches the listing again
n=$(proxy_ctl stats | json_get requests)
timed 5 ls -l "$MNT/t/images" >/dev/null
[ $RC = 0 ] || fail "ls -l while ext4-raw is stalled: exit $RC after $MS ms"
echo "ls -l: $MS ms"
[ "$(proxy_ctl stats | json_get requests)" -gt "$n" ] || fail "ls -l did not fetch the listing again (list_ttl=1)"
timed 5 stat "$MNT/t/images/by-id/$stalled.raw" "$MNT/t/images/ext4-raw.raw" >/dev/null
[ $RC = 0 ] || fail "stat of the stalled image: exit $RC after $MS ms"
timed 5 ls "$MNT/t/images/by-id" >/dev/null
[ $RC = 0 ] || fail "ls by-id while ext4-raw is stalled: exit $RC after $MS ms"
[ -f "$WORK/rc" ] && fail "the stalled read ended while stalled (exit $(cat "$WORK/rc"))"

proxy_ctl clear
wait "${BG_PIDS[-1]}"
[ "$(cat "$WORK/rc")" = 0 ] || fail "the stalled read failed after the stall was lifted (exit $(cat "$WORK/rc"))"
[ "$(cut -d' ' -f1 "$WORK/sum")" = "$(manifest openstack ext4-raw sha256)" ] || fail "ext4-raw's sha256 is wrong"
exit 0
