#!/bin/bash
# make bench: listing 1,000 images (LIST_IMAGES; issue 9 item 5).  Its own local clouds with
# 1,000 small qcow2 images (1 MiB each, with data, so every view has an
# allocation map to compute, each of other bytes), uploaded in parallel with curl; then ROUNDS
# alternating rounds of
#   cold          ls -l MNT/openstack/images/ on a fresh mount: the listing is
#                 fetched and every view's size computed from its image
#   cached maps   ls -l again on the same mount (list_ttl=1, after 1.1 s): the
#                 listing is fetched again, the views' sizes are not recomputed
#   openstack     openstack --os-cloud openstack image list --long
# with medians, the ratios, the number of files ls showed and cloudfs's peak RSS.
# Glance pages by 10 (api_limit_max of the test clouds), as a real one may,
# then by 1000 (Glance's default): LIST_PAGE_CAPS.
# Nothing is kept between runs but the generated qcow2.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
nimages=${LIST_IMAGES:-1000}
mnt=$state/mnt-list

command -v openstack >/dev/null || skip "no openstack CLI (make deps installs python3-openstackclient)"

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
export -f glance_upload jget
export data

ls_images() { ls -l "$mnt/openstack/images/" >"$res/ls.out"; }
cli() { openstack --os-cloud openstack image list --long -f value >"$res/cli.out"; }
files() { echo $(($(wc -l <"$res/ls.out") - 1)); }
mount_ls() {
    # A fresh mount with its own empty cache directory: nothing known yet.
    rm -rf "$res/cache"
    cfs_mount "$mnt" "list_ttl=1,cache_dir=$res/cache"
    secs ls_images >>"$res/cold"
    files_cold=$(files)
    cfs_hwm >>"$res/cold.rss"
    sleep 1.1
    secs ls_images >>"$res/cached"
    files_cached=$(files)
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/cached.rss"
}
run_cli() { secs cli >>"$res/cli"; }

# Glance's page cap decides how many requests a listing takes, for the CLI
# and cloudfs alike: 10 as the test clouds have it (as some clouds do), and
# Glance's own default of 1000.
for cap in ${LIST_PAGE_CAPS:-10 1000}; do
    rm -f "$res/cold" "$res/cached" "$res/cli" "$res/cold.rss" "$res/cached.rss" "$res"/*.cpu
    export CLOUDS_GLANCE_PAGE_MAX=$cap
    clouds_up
    token=$(keystone_token 1)
    export token
    t0=$(date +%s.%N)
    # Each with its own bytes (a line after the qcow2's end): images of one
    # content would share one digest, and so their cache entries.
    # shellcheck disable=SC2016 # expanded by the bash that xargs starts
    seq -w 1 "$nimages" | xargs -P 16 -I{} bash -c '{ cat "$data"; echo "bench-list-$1"; } |
        glance_upload "$token" "bench-list-$1.qcow2" qcow2 - >/dev/null' _ {}
    say "$(printf '%d images uploaded in %.1f s (pages of %d)' "$nimages" "$(echo "$(date +%s.%N) - $t0" | bc -l)" "$cap")"
    for r in $(seq "$rounds"); do
        in_turn "$r" mount_ls run_cli
        say "round $r of $rounds done"
    done
    o=$(median "$res/cli")
    note="$nimages images, Glance pages of $cap; the CLI listed $(wc -l <"$res/cli.out")"
    bench_row id="list-cold-$cap" label="ls -l $nimages images, pages of $cap, fresh mount" value="$(median "$res/cold")" unit=s \
        anchor="openstack image list --long" anchor_value="$o" rss="$(sort -g "$res/cold.rss" | tail -1)" \
        cpu="$res/cold.cpu" anchor_cpu="$res/cli.cpu" \
        note="$note; ls showed $files_cold files, every view sized from its image"
    bench_row id="list-cached-$cap" label="ls -l $nimages images, pages of $cap, maps cached" value="$(median "$res/cached")" unit=s \
        anchor="openstack image list --long" anchor_value="$o" target="≥ 5×" min=5 rss="$(sort -g "$res/cached.rss" | tail -1)" \
        cpu="$res/cached.cpu" anchor_cpu="$res/cli.cpu" \
        note="$note; the same mount again after list_ttl=1 s: the listing refetched, the views' sizes cached; ls showed $files_cached files"
    tests/clouds/down "$clouds" >/dev/null 2>&1 || true
done
