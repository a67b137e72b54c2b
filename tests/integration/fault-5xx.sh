#!/bin/bash
# 5xx answers (through the shared fault proxy) are retried with backoff: a
# 502 on the listing, 503 twice on the download and a 500 on a random read
# still give the right listing and bytes, and the log shows the retries; a
# server that keeps answering 503 makes the read fail with EIO once the
# retries are spent (retries=2: within seconds, no hang).
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,retries=2

proxy_ctl add mode=status status=502 'match=/v2/images?' count=1 || fail "proxy rule"
ls "$MNT/t/images" >"$WORK/ls" || fail "listing failed despite a single 502"
grep -qxF ext4.qcow2 "$WORK/ls" || fail "ext4.qcow2 not listed"
[ "$(log_count 'retry 1 of 2')" -ge 1 ] || fail "the log shows no retry of the listing"
proxy_ctl clear

id=$(manifest openstack ext4 id)
proxy_ctl add mode=status status=503 "match=$id/file" count=2 || fail "proxy rule"
timed 30 sha256sum "$MNT/t/images/by-id/$id.qcow2" >"$WORK/sum"
[ $RC = 0 ] || fail "reading ext4 failed after two 503s (exit $RC)"
[ "$(cut -d' ' -f1 "$WORK/sum")" = "$(manifest openstack ext4 sha256)" ] || fail "ext4's sha256 is wrong"
[ "$(proxy_applied)" = 2 ] || fail "the proxy answered 503 $(proxy_applied) times, expected 2"
[ "$(log_count "$id.*retry 2 of 2")" -ge 1 ] || fail "the log does not show the second retry"
proxy_ctl clear

id=$(manifest openstack big id)
proxy_ctl add mode=status status=500 "match=$id/file" count=1 || fail "proxy rule"
"$PY" - "$MNT/t/images/by-id/$id.raw" "$(manifest openstack big path)" <<'PY' || fail "a random read after a 500 differs"
import os, sys
fm, fs = os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[2], os.O_RDONLY)
off, ln = (1 << 30) + 4321, 100000
sys.exit(os.pread(fm, ln, off) != os.pread(fs, ln, off))
PY
[ "$(proxy_applied)" = 1 ] || fail "the random read met no 500"
proxy_ctl clear

id=$(manifest openstack ext4-compressed id)
proxy_ctl add mode=status status=503 "match=$id/file" count=-1 || fail "proxy rule"
timed 30 cat "$MNT/t/images/by-id/$id.qcow2" >/dev/null 2>"$WORK/err"
[ $RC = 124 ] && fail "reading against a server that answers only 503 hangs"
[ $RC != 0 ] || fail "reading succeeded although every request got 503"
grep -q 'Input/output error' "$WORK/err" || fail "expected EIO, got: $(cat "$WORK/err")"
[ "$MS" -lt 15000 ] || fail "the failure took $MS ms with retries=2"
echo "EIO after $MS ms, $(proxy_applied) requests answered 503"
exit 0
