#!/bin/bash
# Connections reset mid-body (through the shared fault proxy): a sequential
# copy whose download is reset three times, and random reads whose range
# requests are reset, still give the exact bytes; every retry resumes at or
# after the byte where the broken response began (never from 0 again), and
# the log shows the retries.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,retries=4

name=ext4-raw
id=$(manifest openstack $name id)
f=$MNT/t/images/by-id/$id.raw
ls "$MNT/t/images" >/dev/null || fail "listing failed"

# Sequential: three resets at 5 MiB into a response.
proxy_ctl add mode=reset "match=$id/file" count=3 after=$((5 << 20)) || fail "proxy rule"
timed 60 cp "$f" "$WORK/copy"
[ $RC = 0 ] || fail "cp failed (exit $RC)"
[ "$(sha256_of "$WORK/copy")" = "$(manifest openstack $name sha256)" ] || fail "the copy's sha256 is wrong"
[ "$(proxy_applied)" = 3 ] || fail "the proxy reset $(proxy_applied) responses, expected 3"
retries=$(log_count 'retry [0-9]+ of')
[ "$retries" -ge 3 ] || fail "the log shows $retries retries, expected at least 3"

# Every request after a reset starts past the start of the one reset.
proxy_recent | awk -v id="$id" '
    index($2, id "/file") {
        split($3, r, /[=-]/); start = r[2] + 0
        if (prev_reset && start <= prev_start) { print "restart at " start " after a reset of a response from " prev_start; bad = 1 }
        prev_reset = ($6 == "reset"); prev_start = start
    }
    END { exit bad }' || fail "a retry did not resume where the reset response stopped"
proxy_ctl clear || fail "proxy clear"

# Random reads (of another image: ext4-raw is in the page cache now): range
# requests are reset 4 KiB into their body.
id=$(manifest openstack big id)
proxy_ctl add mode=reset "match=$id/file" count=6 after=4096 || fail "proxy rule"
f=$MNT/t/images/by-id/$id.raw src=$(manifest openstack big path)
"$PY" - "$f" "$src" <<'PY' || fail "random reads with resets differ from the source"
import os, sys
fm, fs = os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[2], os.O_RDONLY)
bad = 0
for off, ln in [(1000 << 20, 300000), (37 << 20 | 12345, 65536), (2 << 30, 1 << 20), (7 << 20, 200000)]:
    if os.pread(fm, ln, off) != os.pread(fs, ln, off):
        print("pread(%d, %d) differs" % (off, ln)); bad = 1
sys.exit(bad)
PY
[ "$(proxy_applied)" -ge 1 ] || fail "no random read was reset: the test proves nothing"
[ "$(log_count 'retry [0-9]+ of')" -gt "$retries" ] || fail "the log shows no retry of the random reads"
echo "3 resets of the copy, $(proxy_applied) of random reads; $(log_count "retry [0-9]+ of") retries logged"
exit 0
