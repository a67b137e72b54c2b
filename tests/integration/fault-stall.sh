#!/bin/bash
# Stalls (through the shared fault proxy) are cut by timeout=2 and retried:
# a listing whose answer never starts, a download that stops sending
# mid-body, one whose answer never starts, and a random read that stalls all
# still give the right listing and exact bytes, quickly (each stall costs
# about the timeout), and the log shows the retries.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,timeout=2,retries=3
proxy_ctl add mode=stall 'match=/v2/images?' count=1 after=-1 || fail "proxy rule"
timed 20 ls "$MNT/t/images" >"$WORK/ls"
[ $RC = 0 ] || fail "listing through a stalled answer failed (exit $RC after $MS ms)"
grep -qxF ext4-raw.raw "$WORK/ls" || fail "ext4-raw.raw not listed"
[ "$(proxy_applied)" = 1 ] || fail "the listing met no stall"
[ "$MS" -lt 10000 ] || fail "a listing through one stall took $MS ms"
proxy_ctl clear

id=$(manifest openstack ext4-raw id)
# The first response never starts (head stalled); once it is stalled, a
# second rule stalls the retry 3 MiB into its body. (A proxy rule acts on
# every request it matches while its count lasts, so the second is added
# only when the first has been used.)
proxy_ctl add mode=stall "match=$id/file" count=1 after=-1 || fail "proxy rule"
(timed 40 sha256sum "$MNT/t/images/by-id/$id.raw" >"$WORK/sum"; echo "$RC $MS" >"$WORK/rc") &
BG_PIDS+=($!)
wait_until 10 proxy_hit 1 || fail "the read did not reach the proxy"
proxy_ctl add mode=stall "match=$id/file" count=1 after=$((3 << 20)) || fail "proxy rule"
wait "${BG_PIDS[-1]}"
read -r RC MS <"$WORK/rc"
[ $RC = 0 ] || fail "reading ext4-raw through two stalls failed (exit $RC after $MS ms)"
[ "$(cut -d' ' -f1 "$WORK/sum")" = "$(manifest openstack ext4-raw sha256)" ] || fail "ext4-raw's sha256 is wrong"
[ "$(proxy_applied)" = 2 ] || fail "the stall rules hit $(proxy_applied) requests, expected 2"
[ "$MS" -lt 15000 ] || fail "two 2 s stalls cost $MS ms"
[ "$(log_count "$id.*retry [0-9]+ of")" -ge 2 ] || fail "the log shows $(log_count "$id.*retry [0-9]+ of") retries, expected 2"
seq_ms=$MS
proxy_ctl clear

id=$(manifest openstack big id)
proxy_ctl add mode=stall "match=$id/file" count=1 after=1000 || fail "proxy rule"
t0=$(now_ms)
"$PY" - "$MNT/t/images/by-id/$id.raw" "$(manifest openstack big path)" <<'PY' || fail "a random read through a stall differs"
import os, sys
fm, fs = os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[2], os.O_RDONLY)
off, ln = (3 << 29) + 777, 200000
sys.exit(os.pread(fm, ln, off) != os.pread(fs, ln, off))
PY
ms=$(($(now_ms) - t0))
[ "$(proxy_applied)" = 1 ] || fail "the random read met no stall"
[ $ms -lt 10000 ] || fail "a random read through one stall took $ms ms"
[ "$(log_count "$id.*retry 1 of")" -ge 1 ] || fail "the log shows no retry of the random read"
echo "sequential read through 2 stalls: $seq_ms ms; random read through 1 stall: $ms ms"
exit 0
