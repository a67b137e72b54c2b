#!/bin/bash
# Views cost metadata once: the first `ls -l` reads each qcow2 image's
# header and tables (a few small range requests, never a whole image), a
# second `ls -l` within the TTL makes no request at all, and the sizes it
# shows are the ones the first showed.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t,list_ttl=60

ls -l "$MNT/t/images" >"$WORK/ls1" || fail "first ls -l"
first=$(proxy_ctl stats | json_get requests)
$PY - "$CLOUDS_FAULTPROXY_URL" <<'PYEOF' || fail "the first ls -l read more than metadata"
import json, sys, urllib.request
stats = json.load(urllib.request.urlopen(sys.argv[1] + "/__fault/stats"))
total = sum(r.get("bytes") or 0 for r in stats["recent"] if "/file" in r["path"])
# Every qcow2 sample is a few MiB; metadata is a few 64 KiB tables each.
assert total < 8 << 20, "image bytes read for ls -l: %d" % total
PYEOF
ls -l "$MNT/t/images" >"$WORK/ls2" || fail "second ls -l"
second=$(proxy_ctl stats | json_get requests)
[ "$second" = "$first" ] || fail "the second ls -l made $((second - first)) requests"
cmp -s "$WORK/ls1" "$WORK/ls2" || fail "sizes changed between two ls -l"
grep -q ' ext4\.vmdk$' "$WORK/ls1" || fail "no ext4.vmdk in ls -l"
exit 0
