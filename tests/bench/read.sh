#!/bin/bash
# make bench: the first read of an image through the mount, against curl
# from the same Glance, in the same run on the same data (not part of make check).
#   curl             GET /v2/images/ID/file > /dev/null   (the anchor)
#   curl | sha512sum the same, checked as cloudfs checks (os_hash_algo)
#   cat (cloudfs)    cat MNT/openstack/images/NAME.raw > /dev/null, on a fresh
#                    mount whose cache_dir is emptied before each run, so that
#                    no block cache serves it; the mount and the listing are
#                    not timed (the anchors hold a token and the image's id)
# for a random image of 1 GiB (BENCH_GIB) cold (the page cache dropped
# before each run, as for an image not read lately; needs root) and warm (it
# sits in the server's RAM), and one of 8 GiB (BENCH_BIG_GIB) cold, uploaded
# from a stream (AES-CTR of zeros: pseudo-random, never on local disk).
# ROUNDS rounds, the three taking turns at going first; medians, with the
# peak RSS (VmHWM) of cloudfs, which should not grow with the image.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-read

clouds_up
token=$(keystone_token 1)
small=$(bytes_of_gib "$gib")
big=$(bytes_of_gib "${BENCH_BIG_GIB:-8}")
small_label="$gib GiB" big_label="${BENCH_BIG_GIB:-8} GiB"
say "uploading the $small_label image"
small_id=$(glance_upload "$token" bench-small raw "$(random_file "$small")")
say "uploading the $big_label image (streamed)"
big_id=$({ openssl enc -aes-128-ctr -nosalt -pass pass:cloudfs -in /dev/zero 2>/dev/null || true; } |
    head -c "$big" | glance_upload "$token" bench-big raw -)

modes="warm" big_mode=warm
if can_drop; then
    modes="cold warm" big_mode=cold
else
    say "cold rows left out: dropping the page cache needs root"
fi

# set IMAGE MODE: what the runs below measure (image "small" or "big").
set_to() {
    image=$1 mode=$2 key=$1-$2
    [ "$image" = small ] && id=$small_id || id=$big_id
}
prepare() { [ "$mode" = warm ] || drop; }
fetch() { curl -sf -H "X-Auth-Token: $token" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "${1:-/dev/null}"; }
fetch_checked() { fetch - | sha512sum; }
run_curl() { prepare && secs fetch >>"$res/$key.curl"; }
run_hash() { prepare && secs fetch_checked >>"$res/$key.hash"; }
run_cat() {
    rm -rf "$res/cache"
    cfs_mount "$mnt" "cache_dir=$res/cache"
    stat "$mnt/openstack/images/bench-$image.raw" >/dev/null
    prepare && secs cat "$mnt/openstack/images/bench-$image.raw" >>"$res/$key.cat"
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/$key.rss"
    du -sm "$res/cache" | cut -f1 >>"$res/$key.cachedir"
}

for r in $(seq "$rounds"); do
    for m in $modes; do
        set_to small "$m" && in_turn "$r" run_cat run_curl run_hash
    done
    set_to big "$big_mode" && in_turn "$r" run_cat run_curl run_hash
    say "round $r of $rounds done"
done

mibs() { calc "$1 / $2 / 1048576"; } # BYTES SECONDS
small_rss=$(sort -g "$res/small-$big_mode.rss" | tail -1)
rows() { # IMAGE MODE
    set_to "$1" "$2"
    local bytes=$small label=$small_label target="≥ 1.0×, RSS ≤ 64" min=1.0 ok rss
    [ "$1" = small ] || { bytes=$big label=$big_label; }
    rss=$(sort -g "$res/$key.rss" | tail -1)
    ok=$(holds "$rss <= 64")
    if [ "$1" = big ]; then
        target="≥ 1.0×, RSS ≤ 64, ≤ $small_label's"
        ok=$(holds "$rss <= 64 && $rss <= $small_rss * 1.1")
    fi
    [ "$2" = cold ] || { target=- min=; }
    local cat curl hash note
    cat=$(mibs "$bytes" "$(median "$res/$key.cat")")
    curl=$(mibs "$bytes" "$(median "$res/$key.curl")")
    hash=$(mibs "$bytes" "$(median "$res/$key.hash")")
    note="cat MNT/openstack/images/bench-$1.raw on a fresh mount with an empty cache_dir (its block cache then held $(median "$res/$key.cachedir") MiB)"
    if [ "$2" = warm ]; then
        note="$note; the image in the server's page cache"
    else
        note="$note; page cache dropped before each run"
    fi
    [ "$1" = small ] || note="$note; RSS target: ≤ 64 MiB and no more than 10 % over the $small_label image's ($small_rss MiB): memory does not grow with the image"
    bench_row id="read-$key" label="first read $label, $2" value="$cat" unit=MiB/s \
        anchor="curl > /dev/null" anchor_value="$curl" target="$target" min="$min" ok="$ok" rss="$rss" note="$note" \
        cpu="$res/$key.cat.cpu" anchor_cpu="$res/$key.curl.cpu" bytes="$bytes"
    bench_row id="read-$key-sha" label="first read $label, $2" value="$cat" unit=MiB/s \
        anchor="curl | sha512sum" anchor_value="$hash" rss="$rss" \
        cpu="$res/$key.cat.cpu" anchor_cpu="$res/$key.hash.cpu" bytes="$bytes" \
        note="a checked download, as cloudfs checks the image's sha512 (os_hash_value)"
}
for m in $modes; do rows small "$m"; done
rows big "$big_mode"
