#!/bin/bash
# The final check of an upload into Glance (wait for active, compare the
# checksums) is bounded by timeout= and retries= as cloudfs(1) says: when
# every answer about the image is not an image record (the fault proxy
# corrupts the first byte of each GET /v2/images/ID), cp fails with EIO
# within (retries + 1) x timeout + backoff instead of polling for minutes,
# and the image it made is deleted.
. "$(dirname "$0")/lib.sh"
TOK=$(os_token)
[ -n "$TOK" ] || fail "no Keystone token"
name=ucheck-$$-$RANDOM
images() {
    curl -sf -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images?name=$name" |
        "$PY" -c 'import json, sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]'
}
delete_named() {
    for id in $(images); do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$id"
    done
}
trap 'delete_named; cleanup' EXIT

use_proxy
head -c $((1 << 20)) /dev/urandom >"$WORK/src.raw"
# timeout=3, retries=1: R = 2 x 3 + 0.25 = 6.25 s.
mount_cloudfs -o clouds=t,timeout=3,retries=1
ls "$MNT/t/images" >/dev/null || fail "listing failed"
proxy_ctl add mode=corrupt method=GET match=/v2/images/ count=-1 after=0 || fail "proxy rule"
timed 120 cp "$WORK/src.raw" "$MNT/t/images/$name.raw" 2>"$WORK/err"
[ $RC = 124 ] || [ $RC = 137 ] && fail "cp still waits 120 s after its data was sent"
[ $RC != 0 ] || fail "cp succeeded although Glance's answers were not image records"
grep -q 'Input/output error' "$WORK/err" || fail "cp failed with: $(cat "$WORK/err")"
# The data (1 MiB to a local Glance), the clean-up, and R.
[ $MS -lt 20000 ] || fail "cp failed only after $MS ms (final check bounded by 6.25 s)"
[ "$(log_count "$name.*not an image record")" -ge 1 ] || fail "the log does not say why"
proxy_ctl clear
[ -z "$(images)" ] || fail "the image of the failed upload is still there: $(images)"
echo "cp failed after $MS ms: $(cat "$WORK/err")"
exit 0
