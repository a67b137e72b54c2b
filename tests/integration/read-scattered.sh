#!/bin/bash
# A qcow2 whose clusters lie in the file in random order (written by a
# running guest): reading its .raw and .vmdk views in order makes a few
# requests, not one per cluster. The decoder hints the whole file once the
# reader has gone 4 MiB on, and the block cache fetches it in one pass.
# The views are identical to the image (qemu-img compare).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "qemu-utils missing"
use_proxy

# 48 MiB, 768 clusters of 64 KiB written in a shuffled order.
qemu-img create -q -f qcow2 "$WORK/s.qcow2" 48M
"$PY" -c '
import random
r = random.Random(5)
c = list(range(768))
r.shuffle(c)
for i in c:
    print("write -P %d %d 64k" % (i % 251 + 1, i * 65536))' | qemu-io -f qcow2 "$WORK/s.qcow2" >/dev/null ||
    fail "qemu-io"
id=$(glance_upload "scattered-$$" "$WORK/s.qcow2" qcow2) || fail "upload"
trap 'curl -sf -X DELETE -H "X-Auth-Token: $(os_token)" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null; cleanup' EXIT
file_gets() { proxy_recent | grep -c "^GET /v2/images/$id/file" || true; }

mount_cloudfs -o "clouds=t,cache_dir=$WORK/cache,views=raw:vmdk,log_level=debug"
d=$MNT/t/images/by-id
qemu-img compare -q -f qcow2 -F raw "$WORK/s.qcow2" "$d/$id.raw" || fail "the .raw view differs"
gets=$(file_gets)
[ "$gets" -lt 200 ] || fail "the .raw view took $gets requests (one per cluster would be 768)"
grep -q "whole file is read ahead" "$LOG" || fail "no read-ahead of the whole file logged"
unmount_cloudfs

# A fresh cache: the .vmdk view alone goes through the same path.
proxy_ctl clear stats=1
rm -rf "$WORK/cache"
mount_cloudfs -o "clouds=t,cache_dir=$WORK/cache,views=raw:vmdk"
cp "$d/$id.vmdk" "$WORK/v.vmdk" || fail "cp of the .vmdk view"
qemu-img compare -q -f qcow2 -F vmdk "$WORK/s.qcow2" "$WORK/v.vmdk" || fail "the .vmdk view differs"
vgets=$(file_gets)
[ "$vgets" -lt 200 ] || fail "the .vmdk view took $vgets requests"
unmount_cloudfs
echo "768 scattered clusters: .raw in $gets requests, .vmdk in $vgets"
exit 0
