#!/bin/bash
# Responses cut short with a clean close although Content-Length promised
# more (through the shared fault proxy): the download resumes where it
# stopped, a truncated random read is completed, the bytes are exact, and
# the log shows the retries.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,retries=3
ls "$MNT/t/images" >/dev/null || fail "listing failed"

id=$(manifest openstack ext4 id)
proxy_ctl add mode=truncate "match=$id/file" count=2 after=$((2 << 20)) || fail "proxy rule"
timed 30 cp "$MNT/t/images/by-id/$id.qcow2" "$WORK/copy"
[ $RC = 0 ] || fail "cp failed (exit $RC)"
cmp "$WORK/copy" "$(manifest openstack ext4 path)" || fail "the copy differs from the source"
[ "$(proxy_applied)" = 2 ] || fail "the proxy truncated $(proxy_applied) responses, expected 2"
[ "$(log_count "$id.*retry [0-9]+ of")" -ge 2 ] || fail "the log shows $(log_count "$id.*retry [0-9]+ of") retries, expected 2"
# each retry asks for the bytes after those received: ranges 0-, 2M-, 4M-
starts=$(proxy_recent | awk -v id="$id" 'index($2, id "/file") { split($3, r, /[=-]/); print r[2] }' | head -3 | tr '\n' ' ')
[ "$starts" = "0 $((2 << 20)) $((4 << 20)) " ] || fail "the download's ranges started at $starts, expected 0 2M 4M"
proxy_ctl clear

id=$(manifest openstack big id)
proxy_ctl add mode=truncate "match=$id/file" count=1 after=5000 || fail "proxy rule"
"$PY" - "$MNT/t/images/by-id/$id.raw" "$(manifest openstack big path)" <<'PY' || fail "a truncated random read differs"
import os, sys
fm, fs = os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[2], os.O_RDONLY)
off, ln = (1 << 31) - 50000, 100000
sys.exit(os.pread(fm, ln, off) != os.pread(fs, ln, off))
PY
[ "$(proxy_applied)" = 1 ] || fail "the random read was not truncated"
[ "$(log_count "$id.*retry 1 of")" -ge 1 ] || fail "the log shows no retry of the random read"
exit 0
