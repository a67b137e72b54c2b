#!/bin/bash
# Tokens expire mid-copy: a private instance whose tokens live 10 s, a 24 MiB
# image read through its fault proxy at 1 MiB/s (the copy spans more than two
# token lifetimes) with a connection reset every 2 MiB, so that requests keep
# being made as tokens age and expire. The copy's sha256 is right and the log
# shows at least two re-authentications. Then a token the server refuses
# (401 once) makes cloudfs re-authenticate and the read succeed; a server
# that keeps answering 401 gives EACCES, not a retry loop.
. "$(dirname "$0")/lib.sh"
start_private_clouds --token-lifetime 10 --no-samples
use_private_clouds

head -c $((24 << 20)) /dev/urandom >"$WORK/src.raw"
want=$(sha256_of "$WORK/src.raw")
id=$(glance_upload token-expiry "$WORK/src.raw" raw) || fail "uploading the image failed"
head -c $((8 << 20)) /dev/urandom >"$WORK/small.raw"
small=$(glance_upload small "$WORK/small.raw" raw) || fail "uploading the second image failed"

use_proxy
rate=$((1 << 20))
proxy_ctl add mode=slow "match=$id/file" count=-1 rate=$rate || fail "proxy rule"
proxy_ctl add mode=reset "match=$id/file" count=-1 after=$((2 << 20)) || fail "proxy rule"
mount_cloudfs -o clouds=t,timeout=10

ls "$MNT/t/images" >/dev/null || fail "listing failed"
t0=$(now_ms)
timed 120 cp "$MNT/t/images/by-id/$id.raw" "$WORK/copy.raw"
[ $RC = 0 ] || fail "cp failed (exit $RC after $MS ms)"
secs=$(( ($(now_ms) - t0) / 1000 ))
got=$(sha256_of "$WORK/copy.raw")
[ "$got" = "$want" ] || fail "copy's sha256 $got, expected $want"
[ $secs -ge $((2 * CLOUDS_TOKEN_LIFETIME)) ] ||
    fail "the copy took $secs s, less than two token lifetimes ($CLOUDS_TOKEN_LIFETIME s): the test proves nothing"
n=$(log_count 'keystone: cloud t: re-authenticated')
[ "$n" -ge 2 ] || fail "the log shows $n re-authentications, expected at least 2"
echo "copy of $secs s, $(proxy_recent | grep -c "/file .* reset") resets, $n re-authentications:"
grep 're-authenticated' "$LOG"

proxy_ctl clear
proxy_ctl add mode=status status=401 "match=$small/file" count=1 || fail "proxy rule"
timed 20 cmp -n $((1 << 20)) "$MNT/t/images/by-id/$small.raw" "$WORK/small.raw"
[ $RC = 0 ] || fail "a read refused once with 401 failed or differs (exit $RC)"
[ "$(log_count 're-authenticated \(refused with HTTP 401')" -ge 1 ] || fail "the log shows no re-authentication after the 401"
proxy_ctl clear
proxy_ctl add mode=status status=401 "match=$small/file" count=-1 || fail "proxy rule"
timed 20 "$PY" -c 'import os, sys; os.pread(os.open(sys.argv[1], os.O_RDONLY), 4096, 6 << 20)' \
    "$MNT/t/images/by-id/$small.raw" 2>"$WORK/err"
[ $RC != 124 ] || fail "a read that always meets 401 hangs"
grep -q PermissionError "$WORK/err" || fail "a read that always meets 401: expected EACCES, got: $(tail -1 "$WORK/err")"
[ "$(proxy_applied)" -le 4 ] || fail "a read that always meets 401 made $(proxy_applied) requests"
exit 0
