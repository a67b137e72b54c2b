#!/bin/bash
# make bench, part 2: the .vmdk view of a qcow2 holding about 1 GiB of real
# data (an ext4 file system of /usr/lib/x86_64-linux-gnu), against
#   qemu-img convert -O vmdk -o subformat=streamOptimized   (what a user runs)
# on the same qcow2, in the same run:
#   local:        viewcat (the view code on a local file) vs qemu-img on the file
#   via Glance:   cat MNT/.../bench.vmdk vs curl download + qemu-img convert
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
state=$top/.bench
clouds=$state/clouds-views
mnt=$state/mnt-views
mkdir -p "$state"

data=${BENCH_QCOW2:-/var/tmp/cloudfs-bench-data.qcow2}
if [ ! -f "$data" ]; then
    echo "bench: building $data (ext4 of /usr/lib/x86_64-linux-gnu)"
    raw=$state/data.raw
    rm -f "$raw"
    truncate -s 2G "$raw"
    mkfs.ext4 -q -F -d /usr/lib/x86_64-linux-gnu "$raw" >/dev/null
    qemu-img convert -f raw -O qcow2 "$raw" "$data.tmp" && mv "$data.tmp" "$data"
    rm -f "$raw"
fi
used=$(qemu-img map -f qcow2 --output=json "$data" |
    /usr/bin/python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))')

secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
# Outputs go to RAM (tmpfs) for both, so that the disk's speed is no part of it.
scratch=$(mktemp -d /dev/shm/cloudfs-bench.XXXXXX)
out=$scratch/out.vmdk
local_qemu() { qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized "$data" "$out"; }
local_view() { build/viewcat "$data" qcow2 vmdk >"$out"; }

tests/clouds/down "$clouds" >/dev/null 2>&1 || true
rm -rf "$clouds"
tests/clouds/up "$clouds" --no-samples >"$state/clouds-views-up.log" 2>&1 ||
    { tail -20 "$state/clouds-views-up.log"; exit 1; }
trap 'fusermount3 -u "$mnt" 2>/dev/null || true; tests/clouds/down "$clouds" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
# shellcheck disable=SC1091
. "$clouds/env"
token=$(curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$CLOUDS_USER\",\"domain\":{\"id\":\"default\"},\"password\":\"$CLOUDS_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"$CLOUDS_PROJECT\",\"domain\":{\"id\":\"default\"}}}}}" |
    awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r')
id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' \
    -d '{"name":"bench","disk_format":"qcow2","container_format":"bare"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X PUT "$CLOUDS_GLANCE_URL/v2/images/$id/file" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/octet-stream' -T "$data"
remote_qemu() {
    curl -sf -H "X-Auth-Token: $token" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "$scratch/dl.qcow2"
    qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized "$scratch/dl.qcow2" "$out"
    rm -f "$scratch/dl.qcow2"
}
remote_view() {
    mkdir -p "$mnt"
    ./cloudfs "$mnt" -o "log=$state/cloudfs-views.log"
    cat "$mnt/openstack/images/bench.vmdk" >"$out"
    fusermount3 -u "$mnt"
}

cat "$data" >/dev/null # the same page cache state for all
lq=$(secs local_qemu)
rm -f "$out"
lv=$(secs local_view)
rm -f "$out"
rq=$(secs remote_qemu)
rm -f "$out"
rv=$(secs remote_view)
mib=$(echo "$used / 1048576" | bc -l)
echo
printf '%-52s %8s %8s %8s\n' "qcow2 -> streamOptimized VMDK ($(printf '%.0f' "$mib") MiB of data)" "seconds" "MiB/s" "vs qemu"
printf '  %-50s %8.2f %8.0f %8s\n' "local: qemu-img convert" "$lq" "$(echo "$mib / $lq" | bc -l)" "1.0"
printf '  %-50s %8.2f %8.0f %8.1f\n' "local: cloudfs view (viewcat)" "$lv" "$(echo "$mib / $lv" | bc -l)" "$(echo "$lq / $lv" | bc -l)"
printf '  %-50s %8.2f %8.0f %8s\n' "Glance: curl download + qemu-img convert" "$rq" "$(echo "$mib / $rq" | bc -l)" "1.0"
printf '  %-50s %8.2f %8.0f %8.1f\n' "Glance: cat MNT/.../bench.vmdk (cloudfs)" "$rv" "$(echo "$mib / $rv" | bc -l)" "$(echo "$rq / $rv" | bc -l)"
