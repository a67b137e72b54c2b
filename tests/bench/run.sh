#!/bin/bash
# make bench: reading a 1 GiB image through the mount, against curl from the
# same Glance, measured in the same run on the same data (not part of make check).
#   curl             GET /v2/images/ID/file > /dev/null   (the anchor)
#   curl | sha512sum the same, checked as cloudfs checks (os_hash_algo)
#   cat (cloudfs)    cat MNT/openstack/images/bench-1g.raw > /dev/null, fresh mount per run
# Each is run ROUNDS times, interleaved, cold (server page cache dropped) and
# warm; the median is reported, with the peak RSS (VmHWM) of cloudfs.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${ROUNDS:-5}
state=$top/.bench
clouds=$state/clouds
mnt=$state/mnt
mkdir -p "$state"

tests/clouds/down "$clouds" >/dev/null 2>&1 || true
rm -rf "$clouds"
echo "bench: starting local clouds in $clouds"
tests/clouds/up "$clouds" --no-samples >"$state/clouds-up.log" 2>&1 ||
    { tail -20 "$state/clouds-up.log"; exit 1; }
trap 'fusermount3 -u "$mnt" 2>/dev/null || true; tests/clouds/down "$clouds" >/dev/null 2>&1 || true' EXIT
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
url=$CLOUDS_GLANCE_URL/v2/images/$id/file
size=1073741824

secs() { # command...: wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

curl_plain() { curl -sf -H "X-Auth-Token: $token" "$url" -o /dev/null; }
curl_hash() { curl -sf -H "X-Auth-Token: $token" "$url" | sha512sum >/dev/null; }
hwm=0
cat_mount() {
    mkdir -p "$mnt"
    ./cloudfs "$mnt" -o "log=$state/cloudfs.log"
    local pid
    pid=$(pgrep -nf "cloudfs $mnt")
    cat "$mnt/openstack/images/bench-1g.raw" >/dev/null
    local k
    k=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    [ "$k" -gt "$hwm" ] && hwm=$k
    echo "$hwm" >"$state/hwm"
    fusermount3 -u "$mnt"
}

# Cold: the server's page cache is dropped before each run (as for an image
# not read lately; needs root); warm: the image sits in the server's RAM.
can_drop=0
[ -w /proc/sys/vm/drop_caches ] && can_drop=1
drop() { [ "$1" = cold ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }; true; }

modes="warm"
[ $can_drop = 1 ] && modes="cold warm"
for mode in $modes; do
    : >"$state/$mode.curl" && : >"$state/$mode.curlhash" && : >"$state/$mode.cat"
done
for r in $(seq "$rounds"); do
    for mode in $modes; do
        drop $mode && secs curl_plain >>"$state/$mode.curl"
        drop $mode && secs curl_hash >>"$state/$mode.curlhash"
        drop $mode && secs cat_mount >>"$state/$mode.cat"
    done
    echo "bench: round $r of $rounds done"
done
hwm=$(cat "$state/hwm")
mbps() { echo "$size / $1 / 1048576" | bc -l; }
echo
printf '%-40s %8s %8s\n' "1 GiB image from the local Glance" "MiB/s" "ratio"
for mode in $modes; do
    c=$(median <"$state/$mode.curl")
    h=$(median <"$state/$mode.curlhash")
    m=$(median <"$state/$mode.cat")
    echo "$mode (median of $rounds):"
    printf '  %-38s %8.0f %8s\n' "curl > /dev/null (anchor)" "$(mbps "$c")" "1.00"
    printf '  %-38s %8.0f %8.2f\n' "curl | sha512sum (a checked download)" "$(mbps "$h")" "$(echo "$c / $h" | bc -l)"
    printf '  %-38s %8.0f %8.2f\n' "cat through cloudfs (checked, sha512)" "$(mbps "$m")" "$(echo "$c / $m" | bc -l)"
    printf '  %-38s %8s %8.2f\n' "cloudfs vs curl | sha512sum" "" "$(echo "$h / $m" | bc -l)"
done
printf '%-40s %8.1f MiB\n' "cloudfs peak RSS (VmHWM, all runs)" "$(echo "$hwm / 1024" | bc -l)"
