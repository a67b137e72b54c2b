#!/bin/bash
# A read from a Glance that accepts connections and never answers (the
# fault proxy holds every GET of the image's data before its answer starts)
# fails within the bound cloudfs(1) gives, (retries + 1) x timeout plus the
# backoffs: the kernel re-issues a failed read (its readahead, then the
# page alone), and that second read must fail at once rather than run the
# retries again. A new open tries the cloud again.
. "$(dirname "$0")/lib.sh"
use_proxy
id=$(manifest openstack ext4-raw id)
[ -n "$id" ] || fail "no ext4-raw sample image"
f=$MNT/t/images/by-id/$id.raw
# timeout=3, retries=2: R = 3 x 3 + 0.25 + 0.5 = 9.75 s (each attempt may
# end up to a second late: the stall check runs about once a second).
mount_cloudfs -o clouds=t,timeout=3,retries=2,cache_size=0
ls "$MNT/t/images" >/dev/null || fail "listing failed"
proxy_ctl add mode=stall "match=$id/file" count=-1 after=-1 || fail "proxy rule"
timed 90 cat "$f" >/dev/null 2>"$WORK/err"
[ $RC = 124 ] || [ $RC = 137 ] && fail "the read still hangs after 90 s"
[ $RC != 0 ] || fail "the read succeeded from a server that never answers"
grep -q 'timed out' "$WORK/err" || fail "cat failed with: $(cat "$WORK/err")"
[ $MS -lt 16000 ] || fail "the read failed only after $MS ms (bound 9.75 s, timeout=3, retries=2)"
[ $MS -gt 8000 ] || fail "the read failed after $MS ms, before its retries could run"
first=$MS
[ "$(log_count "$id.*failed after 2 retries")" = 1 ] ||
    fail "the retries ran $(log_count "$id.*failed after 2 retries") times, not once"

# A second read: a new open, which asks the cloud again (once).
timed 90 cat "$f" >/dev/null 2>&1
[ $RC != 0 ] && [ $RC != 124 ] || fail "the second read: exit $RC"
[ $MS -lt 16000 ] || fail "the second read failed only after $MS ms"
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"
echo "reads failed after $first and $MS ms (bound 9.75 s)"
exit 0
