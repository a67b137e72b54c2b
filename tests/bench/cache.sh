#!/bin/bash
# make bench: a second read of a 1 GiB image, served by the on-disk lz4 block
# cache (cache_dir/blocks) after a remount with the page cache dropped, against
# a FUSE passthrough (bindfs) read of a local copy of the same bytes, page
# cache dropped too, in the same run.
#   fill             one read through a mount with cache_dir=, then unmount,
#                    once the image verified (its manifest, *.m, exists)
#   cat (cloudfs)    remount, cat MNT/openstack/images/bench-1g.raw > /dev/null;
#                    GETs of /file through the fault proxy are counted (want 0)
#   cat (bindfs)     bindfs of a directory holding the image, cat > /dev/null
# ROUNDS (3) alternating rounds, the median reported, with the peak RSS
# (VmHWM) of cloudfs during the cached reads. Needs root (drop_caches) and bindfs.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${ROUNDS:-3}
state=$top/.bench
clouds=$state/clouds-cache
mnt=$state/mnt-cache
bmnt=$state/mnt-bindfs
local_dir=$state/local
cache=$state/cache
mkdir -p "$state"

if ! command -v bindfs >/dev/null; then
    echo "bench cache: skipped, bindfs is not installed (apt-get install bindfs)"
    exit 0
fi
if [ ! -w /proc/sys/vm/drop_caches ]; then
    echo "bench cache: skipped, cannot drop the page cache (needs root)"
    exit 0
fi

tests/clouds/down "$clouds" >/dev/null 2>&1 || true
rm -rf "$clouds" "$cache"
echo "bench cache: starting local clouds in $clouds"
tests/clouds/up "$clouds" --no-samples >"$state/clouds-cache-up.log" 2>&1 ||
    { tail -20 "$state/clouds-cache-up.log"; exit 1; }
cleanup() {
    fusermount3 -u "$mnt" 2>/dev/null || true
    fusermount3 -u "$bmnt" 2>/dev/null || true
    tests/clouds/down "$clouds" >/dev/null 2>&1 || true
    rm -rf "$cache" "$local_dir"
}
trap cleanup EXIT
# shellcheck disable=SC1091
. "$clouds/env"

token=$(curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$CLOUDS_USER\",\"domain\":{\"id\":\"default\"},\"password\":\"$CLOUDS_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"$CLOUDS_PROJECT\",\"domain\":{\"id\":\"default\"}}}}}" |
    awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r')

data=${BENCH_DATA:-/var/tmp/cloudfs-bench-1g.raw}
if [ ! -f "$data" ] || [ "$(stat -c %s "$data")" != 1073741824 ]; then
    head -c 1073741824 /dev/urandom >"$data"
fi
id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' \
    -d '{"name":"bench-1g","disk_format":"raw","container_format":"bare"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X PUT "$CLOUDS_GLANCE_URL/v2/images/$id/file" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/octet-stream' -T "$data"
size=1073741824

# The local copy for bindfs: a hard link when on the same file system (the
# same bytes on disk), else a copy.
rm -rf "$local_dir" && mkdir -p "$local_dir" "$mnt" "$bmnt"
ln "$data" "$local_dir/bench-1g.raw" 2>/dev/null || cp "$data" "$local_dir/bench-1g.raw"

# Cloud "openstack" with Glance reached through the fault proxy, to count requests.
sed '/^  openstack:$/a\    image_endpoint_override: '"$CLOUDS_FAULTPROXY_URL" \
    "$clouds/clouds.yaml" >"$state/clouds-cache.yaml"
chmod 600 "$state/clouds-cache.yaml"
export OS_CLIENT_CONFIG_FILE=$state/clouds-cache.yaml
opts="log=$state/cloudfs-cache.log,cache_dir=$cache,cache_size=2048"
img=$mnt/openstack/images/bench-1g.raw

proxy_ctl() { curl -sf -X POST "$CLOUDS_FAULTPROXY_URL/__fault/$1" >/dev/null; }
file_gets() {
    curl -sf "$CLOUDS_FAULTPROXY_URL/__fault/stats" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["recent"]
          if e.get("method") == "GET" and e.get("path", "").startswith("/v2/images/'"$id"'/file")))'
}
has_manifest() { [ -n "$(find "$cache/blocks" -type f -name '*.m' 2>/dev/null)" ]; }
secs() { # command...: wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# Fill the block cache: one whole read, then wait for the verification.
echo "bench cache: filling the block cache"
proxy_ctl "clear?stats=1"
./cloudfs "$mnt" -o "$opts"
cat "$img" >/dev/null
for _ in $(seq 600); do has_manifest && break; sleep 0.1; done
has_manifest || { echo "bench cache: no manifest in $cache/blocks after the first read"; exit 1; }
fills=$(file_gets)
fusermount3 -u "$mnt"

hwm=0
gets=0
cat_cloudfs() {
    ./cloudfs "$mnt" -o "$opts"
    local pid k
    pid=$(pgrep -nf "cloudfs $mnt")
    stat "$img" >/dev/null # the listing (Keystone, Glance) is not timed
    proxy_ctl "clear?stats=1"
    secs cat "$img" >>"$state/cache.cloudfs"
    k=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    [ "$k" -gt "$hwm" ] && hwm=$k
    gets=$((gets + $(file_gets)))
    fusermount3 -u "$mnt"
}
cat_bindfs() {
    bindfs "$local_dir" "$bmnt"
    stat "$bmnt/bench-1g.raw" >/dev/null
    secs cat "$bmnt/bench-1g.raw" >>"$state/cache.bindfs"
    fusermount3 -u "$bmnt"
}

: >"$state/cache.cloudfs" && : >"$state/cache.bindfs"
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
        drop && cat_cloudfs
        drop && cat_bindfs
    else
        drop && cat_bindfs
        drop && cat_cloudfs
    fi
    echo "bench cache: round $r of $rounds done"
done
c=$(median <"$state/cache.cloudfs")
b=$(median <"$state/cache.bindfs")
mbps() { echo "$size / $1 / 1048576" | bc -l; }
echo
printf '%-52s %8s %8s\n' "1 GiB image, second read, page cache dropped" "MiB/s" "ratio"
echo "median of $rounds:"
printf '  %-50s %8.0f %8s\n' "cat through bindfs of a local copy (anchor)" "$(mbps "$b")" "1.00"
printf '  %-50s %8.0f %8.2f\n' "cat through cloudfs after remount (block cache)" "$(mbps "$c")" "$(echo "$b / $c" | bc -l)"
printf '  %-50s %8d %8s\n' "GETs of /file: filling read / cached reads" "$fills" "$gets"
printf '%-52s %8.1f MiB\n' "cloudfs peak RSS (VmHWM, cached reads)" "$(echo "$hwm / 1024" | bc -l)"
[ "$gets" = 0 ] || { echo "bench cache: the cached reads made $gets data requests"; exit 1; }
