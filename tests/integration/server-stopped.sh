#!/bin/bash
# A server stopped mid-read: a private instance's Glance is killed while a
# slow copy (through the instance's fault proxy) runs. With timeout=2 and
# retries=2 the copy fails within a bound instead of hanging, cloudfs keeps
# running and the mount stays responsive (ls of the root and of the cached
# listing answer at once, a new read fails quickly).
. "$(dirname "$0")/lib.sh"
start_private_clouds --no-samples
use_private_clouds
head -c $((32 << 20)) /dev/urandom >"$WORK/src.raw"
id=$(glance_upload stopped "$WORK/src.raw" raw) || fail "uploading the image failed"

use_proxy
proxy_ctl add mode=slow "match=$id/file" count=-1 rate=$((2 << 20)) || fail "proxy rule"
mount_cloudfs -o clouds=t,timeout=2,retries=2,list_ttl=300
f=$MNT/t/images/by-id/$id.raw
ls -l "$MNT/t/images" >/dev/null || fail "listing failed"

(timed 120 cp "$f" "$WORK/copy" 2>"$WORK/err"; echo "$RC" >"$WORK/rc") &
BG_PIDS+=($!)
copied() { [ "$(stat -c %s "$WORK/copy" 2>/dev/null || echo 0)" -ge $((2 << 20)) ]; }
wait_until 20 copied || fail "the copy did not start"
kill_private_service glance KILL || fail "could not kill the private Glance"
t0=$(now_ms)
wait "${BG_PIDS[-1]}"
ms=$(($(now_ms) - t0))
rc=$(cat "$WORK/rc")
[ "$rc" = 124 ] && fail "cp still hung 2 minutes after Glance was killed"
[ "$rc" != 0 ] || fail "cp succeeded although Glance was killed mid-read"
[ $ms -lt 30000 ] || fail "cp failed only $ms ms after Glance was killed (timeout=2,retries=2)"
grep -qE 'Input/output error|timed out' "$WORK/err" || fail "cp failed with: $(cat "$WORK/err")"
echo "cp failed $ms ms after Glance died: $(cat "$WORK/err")"

kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"
timed 5 ls "$MNT" >/dev/null
[ $RC = 0 ] || fail "ls of the mount root did not answer (exit $RC, $MS ms)"
timed 5 ls -l "$MNT/t/images" >/dev/null
[ $RC = 0 ] || fail "ls -l of the cached listing did not answer (exit $RC, $MS ms)"
timed 30 cat "$f" >/dev/null 2>&1
[ $RC != 124 ] || fail "a new read of the image hangs"
[ $RC != 0 ] || fail "a new read succeeded without Glance"
[ $MS -lt 20000 ] || fail "a new read took $MS ms to fail"
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"
exit 0
