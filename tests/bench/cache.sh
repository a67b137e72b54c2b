#!/bin/bash
# make bench: a second read of a 1 GiB image (BENCH_GIB), served by the
# on-disk lz4 block cache (cache_dir/blocks) after a remount with the page
# cache dropped, against a FUSE passthrough (bindfs) read of a local copy of
# the same bytes, page cache dropped too, in the same run.
#   fill             one read through a mount with cache_dir=, then unmount,
#                    once the image verified (its manifest, *.m, exists)
#   cat (cloudfs)    remount, cat MNT/openstack/images/bench-small.raw > /dev/null;
#                    GETs of /file through the fault proxy are counted (want 0)
#   cat (bindfs)     bindfs of a directory holding the image, cat > /dev/null
# ROUNDS (3) alternating rounds, the median reported, with the peak RSS
# (VmHWM) of cloudfs during the cached reads. Needs root (drop_caches) and
# bindfs: skipped without them.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-cache
bmnt=$state/mnt-bindfs
local_dir=$res/local
cache=$res/cache

command -v bindfs >/dev/null || skip "bindfs is not installed (make deps installs it)"
can_drop || skip "cannot drop the page cache (needs root)"

clouds_up
token=$(keystone_token 1)
size=$(bytes_of_gib "$gib")
data=$(random_file "$size")
id=$(glance_upload "$token" bench-small raw "$data")

# The local copy for bindfs: a hard link when on the same file system (the
# same bytes on disk), else a copy.
mkdir -p "$local_dir" "$bmnt"
mounts+=("$bmnt")
ln "$data" "$local_dir/bench-small.raw" 2>/dev/null || cp "$data" "$local_dir/bench-small.raw"

# Cloud "openstack" with Glance reached through the fault proxy, to count requests.
sed '/^  openstack:$/a\    image_endpoint_override: '"$CLOUDS_FAULTPROXY_URL" \
    "$clouds/clouds.yaml" >"$res/clouds.yaml"
chmod 600 "$res/clouds.yaml"
export OS_CLIENT_CONFIG_FILE=$res/clouds.yaml
opts="cache_dir=$cache,cache_size=$(calc "2 * $size / 1048576 < 2048 ? 2048 : 2 * $size / 1048576")"
img=$mnt/openstack/images/bench-small.raw

proxy_ctl() { curl -sf -X POST "$CLOUDS_FAULTPROXY_URL/__fault/$1" >/dev/null; }
file_gets() {
    curl -sf "$CLOUDS_FAULTPROXY_URL/__fault/stats" | "$PY" -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["recent"]
          if e.get("method") == "GET" and e.get("path", "").startswith("/v2/images/'"$id"'/file")))'
}

# Fill the block cache: one whole read, then wait for the verification.
say "filling the block cache"
proxy_ctl "clear?stats=1"
cfs_mount "$mnt" "$opts"
cat "$img" >/dev/null
wait_verified "$cache"
fills=$(file_gets)
cfs_umount "$mnt"

gets=0
cfs_rss_max=0
cat_cloudfs() {
    drop
    cfs_mount "$mnt" "$opts"
    stat "$img" >/dev/null # the listing (Keystone, Glance) is not timed
    proxy_ctl "clear?stats=1"
    secs cat "$img" >>"$res/cloudfs"
    gets=$((gets + $(file_gets)))
    cfs_umount "$mnt"
}
cat_bindfs() {
    drop
    bindfs "$local_dir" "$bmnt"
    stat "$bmnt/bench-small.raw" >/dev/null
    local cfs_pid # secs counts the bindfs daemon's CPU as it counts a mount's
    cfs_pid=$(pgrep -n -x bindfs)
    secs cat "$bmnt/bench-small.raw" >>"$res/bindfs"
    fusermount3 -u "$bmnt"
}

for r in $(seq "$rounds"); do
    in_turn "$r" cat_cloudfs cat_bindfs
    say "round $r of $rounds done"
done
mibs() { calc "$size / $1 / 1048576"; } # SECONDS
bench_row id=cache-second label="second read $gib GiB, block cache" \
    value="$(mibs "$(median "$res/cloudfs")")" unit=MiB/s \
    anchor="bindfs of a local copy" anchor_value="$(mibs "$(median "$res/bindfs")")" \
    target="≥ 0.8×, 0 requests" min=0.8 ok="$(holds "$gets == 0")" rss="$cfs_rss_max" \
    cpu="$res/cloudfs.cpu" anchor_cpu="$res/bindfs.cpu" bytes="$size" \
    note="cat after a remount vs cat through bindfs, page cache dropped before each run; GETs of the image's /file at the fault proxy: $fills while filling, $gets during the cached reads"
