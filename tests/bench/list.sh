#!/bin/bash
# make bench: listing 1,000 images (issue 9 item 5).  Its own local clouds with
# 1,000 small qcow2 images (1 MiB each, with data, so every view has an
# allocation map to compute), uploaded in parallel with curl; then ROUNDS
# alternating rounds of
#   cold          ls -l MNT/openstack/images/ on a fresh mount: the listing is
#                 fetched and every view's size computed from its image
#   cached maps   ls -l again on the same mount (list_ttl=1, after 1.1 s): the
#                 listing is fetched again, the views' sizes are not recomputed
#   openstack     openstack --os-cloud openstack image list --long
# with medians, the ratios, the number of files ls showed and cloudfs's peak RSS.
# Glance pages by 10 (api_limit_max of the test clouds), as a real one may.
# Nothing is kept between runs but the generated qcow2.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${ROUNDS:-3}
nimages=${LIST_IMAGES:-1000}
state=$top/.bench
clouds=$state/list-clouds
mnt=$state/mnt-list
res=$state/list
mkdir -p "$state"

if ! command -v openstack >/dev/null; then
    echo "bench: list.sh needs the openstack CLI: installing python3-openstackclient"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        python3-openstackclient >/dev/null
fi

tests/clouds/down "$clouds" >/dev/null 2>&1 || true
rm -rf "$clouds" "$res"
mkdir -p "$res"
echo "bench: starting local clouds in $clouds"
tests/clouds/up "$clouds" --no-samples >"$state/list-clouds-up.log" 2>&1 ||
    { tail -20 "$state/list-clouds-up.log"; exit 1; }
trap 'fusermount3 -u "$mnt" 2>/dev/null || true; tests/clouds/down "$clouds" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$clouds/env"

token=$(curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$CLOUDS_USER\",\"domain\":{\"id\":\"default\"},\"password\":\"$CLOUDS_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"$CLOUDS_PROJECT\",\"domain\":{\"id\":\"default\"}}}}}" |
    awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r')

# 1 MiB qcow2 with data in every other 64 KiB cluster (made once).
data=${BENCH_LIST_QCOW2:-/var/tmp/cloudfs-bench-list.qcow2}
if ! qemu-img info "$data" >/dev/null 2>&1; then
    raw=$(mktemp /var/tmp/cloudfs-bench-list.XXXXXX)
    for _ in $(seq 0 7); do
        head -c 65536 /dev/urandom
        head -c 65536 /dev/zero
    done >"$raw"
    qemu-img convert -f raw -O qcow2 "$raw" "$data.tmp"
    rm -f "$raw"
    mv "$data.tmp" "$data"
fi

upload() { # N: one image bench-list-N.qcow2
    local id
    id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $token" \
        -H 'Content-Type: application/json' \
        -d "{\"name\":\"bench-list-$1.qcow2\",\"disk_format\":\"qcow2\",\"container_format\":\"bare\"}" |
        sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
    [ -n "$id" ] || { echo "bench: creating image $1 failed" >&2; return 1; }
    curl -sf -X PUT "$CLOUDS_GLANCE_URL/v2/images/$id/file" -H "X-Auth-Token: $token" \
        -H 'Content-Type: application/octet-stream' -T "$data" ||
        { echo "bench: uploading image $1 failed" >&2; return 1; }
}
export -f upload
export token data
t0=$(date +%s.%N)
seq -w 1 "$nimages" | xargs -P 16 -I{} bash -c 'upload {}'
printf 'bench: %d images uploaded in %.1f s\n' "$nimages" "$(echo "$(date +%s.%N) - $t0" | bc -l)"

secs() { # command...: wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ls_images() { ls -l "$mnt/openstack/images/" >"$res/ls.out"; }
cli() { openstack --os-cloud openstack image list --long -f value >"$res/cli.out"; }

hwm=0
: >"$res/cold" && : >"$res/cached" && : >"$res/cli"
for r in $(seq "$rounds"); do
    # A fresh mount with its own empty cache directory: nothing known yet.
    rm -rf "$res/cache" && mkdir -p "$mnt" "$res/cache"
    ./cloudfs "$mnt" -o "list_ttl=1,cache_dir=$res/cache,log=$res/cloudfs.log"
    pid=$(pgrep -nf "cloudfs $mnt")
    secs ls_images >>"$res/cold"
    files_cold=$(($(wc -l <"$res/ls.out") - 1))
    sleep 1.1
    secs ls_images >>"$res/cached"
    files_cached=$(($(wc -l <"$res/ls.out") - 1))
    k=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    [ "$k" -gt "$hwm" ] && hwm=$k
    fusermount3 -u "$mnt"
    secs cli >>"$res/cli"
    echo "bench: round $r of $rounds done"
done
rows=$(wc -l <"$res/cli.out")

c=$(median <"$res/cold")
m=$(median <"$res/cached")
o=$(median <"$res/cli")
echo
printf '%-52s %8s %8s\n' "listing $nimages images (median of $rounds)" "seconds" "× CLI"
printf '  %-50s %8.2f %8s\n' "openstack image list --long ($rows rows)" "$o" "1.00"
printf '  %-50s %8.2f %8.2f\n' "ls -l, cold ($files_cold files)" "$c" "$(echo "$o / $c" | bc -l)"
printf '  %-50s %8.2f %8.2f\n' "ls -l, listing refetched, maps cached ($files_cached files)" "$m" "$(echo "$o / $m" | bc -l)"
printf '%-52s %8.1f MiB\n' "cloudfs peak RSS (VmHWM, all mounts)" "$(echo "$hwm / 1024" | bc -l)"
