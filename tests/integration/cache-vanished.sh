#!/bin/bash
# The block cache's files removed behind cloudfs's back (a tmp cleaner's
# rm -rf of cache_dir/blocks) while Glance stops answering: a read of an
# image that was read whole (verified, cached) fails within the bound
# cloudfs(1) gives for timeout= and retries= (the kernel's re-issue of the
# failed read must not run the retries again), instead of hanging; once
# Glance answers again the image reads right and the cache fills again.
. "$(dirname "$0")/lib.sh"
use_proxy
read -r id sha < <(awk -F'\t' '$1 == "openstack" && $2 == "ext4" { print $3, $7 }' "$CLOUDS_MANIFEST")
[ -n "$id" ] || fail "no ext4 sample image"
cache=$WORK/cache
f=$MNT/t/images/by-id/$id.qcow2
has_manifest() { [ -n "$(find "$cache/blocks" -type f -name '*.m' 2>/dev/null)" ]; }
# timeout=4, retries=2: R = 3 x 4 + 0.25 + 0.5 = 12.75 s.
mount_cloudfs -o clouds=t,cache_dir=$cache,cache_size=256,timeout=4,retries=2
[ "$(sha256_of "$f")" = "$sha" ] || fail "first read: wrong sha256"
wait_until 20 has_manifest || fail "no manifest in $cache/blocks"

rm -rf "$cache/blocks"
# The kernel keeps the pages of a verified image: drop them, so that the
# read reaches cloudfs.
"$PY" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$f" ||
    fail "could not drop the file's pages"
proxy_ctl add mode=stall "match=$id/file" count=-1 after=-1 || fail "proxy rule"
timed 90 cat "$f" >/dev/null 2>"$WORK/err"
[ $RC = 124 ] || [ $RC = 137 ] && fail "the read still hangs after 90 s"
[ $RC != 0 ] || fail "the read succeeded although the cache is gone and Glance does not answer"
[ $MS -lt 19000 ] || fail "the read failed only after $MS ms (bound 12.75 s, timeout=4, retries=2)"
echo "read failed after $MS ms: $(cat "$WORK/err")"
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"

proxy_ctl clear
[ "$(sha256_of "$f")" = "$sha" ] || fail "the read after Glance came back: wrong sha256"
wait_until 20 has_manifest || fail "the cache did not fill again after its directory was removed"
exit 0
