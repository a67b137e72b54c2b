#!/bin/bash
# make bench: migrating an image between clouds through the mount, against
# the scripted pipelines it replaces, on the same servers (an instance of
# tests/clouds of its own), same run, same data: a qcow2 of 2 GiB virtual
# size holding 1 GiB of pseudo-random data (BENCH_GIB GiB in 2 x BENCH_GIB).
#   Glance -> vCD:    cp MNT/openstack/images/big.vmdk MNT/vcloud/catalogs/migrated/
#                     vs tests/bench/vcd-pipeline.sh (curl, qemu-img convert, vCD API with curl)
#   Glance -> Glance: cp MNT/openstack/images/big.qcow2 MNT/openstack2/images/
#                     vs curl download + curl upload (POST image, PUT file, wait active)
# ROUNDS runs of each (default 3), each cp on a fresh mount with an empty
# cache_dir, cloudfs and pipeline alternating which goes first; medians of
# wall time, peak local disk (the cache dir for cloudfs, its block cache and
# unlinked spool files included; the temp dir for the pipeline; sampled
# every 0.2 s) and the emulator's receive rate of the disk PUT.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-migrate
cache=$res/cache
tmp=$res/pipeline-tmp
mkdir -p "$tmp"

migrate_image
clouds_up
vcd_login
tok1=$(keystone_token 1)
tok2=$(keystone_token 2)
# rate BEFORE: the emulator's mean receive rate (MiB/s) over the disk PUTs
# since BEFORE (vcd_put_stats); last_receive_rate_mib_s would be the last
# ranged piece's only.
rate() {
    echo "$1 $(vcd_put_stats)" | awk '{ print ($4 > $2) ? ($3 - $1) / ($4 - $2) / 1048576 : 0 }'
}

say "uploading $(basename "$img") ($(($(stat -c %s "$img") >> 20)) MiB) to Glance"
src_id=$(glance_upload "$tok1" big qcow2 "$img")
at_exit glance_rm "$tok1" "$src_id"

# cfs LABEL SOURCE TARGET: cp through a fresh mount with an empty cache_dir,
# so that every round reads the image from Glance as the pipeline does (the
# mount and the listing not timed); its peak RSS and what the block cache
# (cache_dir/blocks) held after it are kept too.
cfs() {
    rm -rf "$cache"
    cfs_mount "$mnt" "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$cache"
    ls -l "$mnt/openstack/images/$2" >/dev/null
    measure "$1" "$cache" "$cfs_pid" cp "$mnt/openstack/images/$2" "$mnt/$3"
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/$1.rss"
    du -sb "$cache/blocks" 2>/dev/null | cut -f1 >>"$res/$1.blocks" || echo 0 >>"$res/$1.blocks"
}
v_cfs() { # ROUND
    local before
    before=$(vcd_put_stats)
    cfs v_cfs big.vmdk "vcloud/catalogs/migrated/bc$1.vmdk"
    [ "$(vcd_template "bc$1" status)" = 8 ] || { say "template bc$1 is not complete"; exit 1; }
    rate "$before" >>"$res/v_cfs.rate"
    vcd_template_rm "bc$1"
}
v_pipe() {
    local before
    before=$(vcd_put_stats)
    measure v_pipe "$tmp" 0 env GLANCE_URL="$CLOUDS_GLANCE_URL" GLANCE_TOKEN="$tok1" IMAGE_ID="$src_id" \
        VCD_URL="$CLOUDS_VCD_URL" VCD_CACERT="$CLOUDS_DIR/tls/ca.pem" VCD_USER="$CLOUDS_VCD_USER" \
        VCD_ORG="$CLOUDS_VCD_ORG" VCD_PASSWORD="$CLOUDS_VCD_PASSWORD" VCD_CATALOG=migrated \
        tests/bench/vcd-pipeline.sh "$tmp" "bp$1"
    [ "$(vcd_template "bp$1" status)" = 8 ] || { say "template bp$1 is not complete"; exit 1; }
    rate "$before" >>"$res/v_pipe.rate"
    tail -1 "$res/v_pipe.out" >>"$res/v_pipe.phases"
    rm -f "$tmp"/*
    vcd_template_rm "bp$1"
}
g_cfs() {
    cfs g_cfs big.qcow2 "openstack2/images/gc$1.qcow2"
    local id
    id=$(glance_id "$tok2" "gc$1")
    [ -n "$id" ] || { say "no image gc$1 in openstack2"; exit 1; }
    glance_rm "$tok2" "$id"
}
g_pipe_run() { # ROUND
    curl -sf -H "X-Auth-Token: $tok1" "$CLOUDS_GLANCE_URL/v2/images/$src_id/file" -o "$tmp/big.qcow2"
    glance_upload "$tok2" "gp$1" qcow2 "$tmp/big.qcow2"
}
g_pipe() {
    measure g_pipe "$tmp" 0 g_pipe_run "$1"
    rm -f "$tmp"/*
    glance_rm "$tok2" "$(tail -1 "$res/g_pipe.out")"
}

for r in $(seq "$rounds"); do
    in_turn "$r" v_cfs v_pipe
    in_turn "$r" g_cfs g_pipe
    say "round $r of $rounds done"
done

vc=$(median "$res/v_cfs.wall") vp=$(median "$res/v_pipe.wall")
# The emulator waits before it offers the disk's upload link and before it
# ends the import, as vCD takes its time; both sides include those seconds.
dd=$(curl -sf "$CLOUDS_VCD_CONTROL/knobs" | jget descriptor_delay)
id=$(curl -sf "$CLOUDS_VCD_CONTROL/knobs" | jget import_delay)
what="$(calc "2 * $gib") GiB image, $gib GiB of data, qcow2 of $(($(stat -c %s "$img") >> 20)) MiB"
bench_row id=migrate-vcd label="Glance → vCD cp of the .vmdk" value="$vc" unit=s \
    anchor="vcd-pipeline.sh" anchor_value="$vp" \
    target="≥ 10×, no local disk" min=10 ok="$(no_disk v_cfs)" rss="$(rss v_cfs)" \
    cpu="$res/v_cfs.cpu" anchor_cpu="$res/v_pipe.cpu" bytes="$(bytes_of_gib "$gib")" \
    note="cp MNT/openstack/images/big.vmdk MNT/vcloud/catalogs/migrated/ vs tests/bench/vcd-pipeline.sh (curl, qemu-img convert, curl); $what; peak local disk $(disk v_cfs) (cloudfs: cache_dir and its unlinked spool files; the optional block cache held $(blocks v_cfs) after the cp) vs $(disk v_pipe); vCD receive $(printf '%.0f' "$(median "$res/v_cfs.rate")") vs $(printf '%.0f' "$(median "$res/v_pipe.rate")") MiB/s; pipeline: download $(phase v_pipe download) s, convert $(phase v_pipe convert) s, upload $(phase v_pipe upload) s; both include the emulator's waits (descriptor $dd s + import $id s), without them $(printf '%.2f' "$(calc "($vp - $dd - $id) / ($vc - $dd - $id)")")×"
bench_row id=migrate-glance label="Glance → Glance cp of the .qcow2" value="$(median "$res/g_cfs.wall")" unit=s \
    anchor="curl download + upload" anchor_value="$(median "$res/g_pipe.wall")" \
    target="≥ 1.0×, no local disk" min=1.0 ok="$(no_disk g_cfs)" rss="$(rss g_cfs)" \
    cpu="$res/g_cfs.cpu" anchor_cpu="$res/g_pipe.cpu" bytes="$(bytes_of_gib "$gib")" \
    note="cp MNT/openstack/images/big.qcow2 MNT/openstack2/images/ vs curl download, then curl upload; $what; peak local disk $(disk g_cfs) (the optional block cache held $(blocks g_cfs) after the cp) vs $(disk g_pipe)"
