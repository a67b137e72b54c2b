#!/bin/bash
# make bench: a vCD template into Glance through the mount, against the
# scripted pipeline it replaces, on the same servers (an instance of
# tests/clouds of its own), same run, same template: migrate.sh's image (a
# qcow2 of 2 x BENCH_GIB GiB virtual size holding BENCH_GIB GiB of
# pseudo-random data), put into catalog migrated once, not timed.
#   vCD -> Glance: cp MNT/vcloud/catalogs/migrated/vgt.ova MNT/openstack/images/
#                  (cloudfs unpacks the OVA: its disk becomes the qcow2 image vgt)
#                  vs tests/bench/vcd-glance-pipeline.sh (vCD download flow with
#                  curl, qemu-img convert -O qcow2, Glance upload with curl)
# ROUNDS runs of each (default 3), cloudfs and pipeline alternating which
# goes first, each starting from a template whose download is disabled, each
# cp on a fresh mount with an empty cache_dir; medians of wall time and of
# peak local disk (measure, lib.sh: for cloudfs its cache_dir, where its
# export of the template goes, and its unlinked spool files; the temp dir
# for the pipeline). Every image either side made is read back with curl,
# checked with qemu-img against the source image, then deleted.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-vcd-glance
cache=$res/cache
tmp=$res/pipeline-tmp
back=$res/read-back
tpl=vgt
mkdir -p "$tmp" "$back"

migrate_image
clouds_up
vcd_login
tok=$(keystone_token 1)
images_rm() { # NAME: every Glance image of that name deleted
    local id
    while id=$(glance_id "$tok" "$1") && [ -n "$id" ]; do glance_rm "$tok" "$id"; done
}

vcd_template_rm "$tpl"
say "copying $(basename "$img") ($(($(stat -c %s "$img") >> 20)) MiB) into catalog migrated as $tpl"
rm -rf "$cache"
cfs_mount "$mnt" "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$cache"
cp "$img" "$mnt/vcloud/catalogs/migrated/$tpl.qcow2"
cfs_umount "$mnt"
at_exit vcd_template_rm "$tpl"
[ "$(vcd_template "$tpl" status)" = 8 ] || { say "template $tpl is not complete"; exit 1; }
tpl_id=$(vcd_template "$tpl" id)

# no_download: the template's download disabled, so that each run pays
# for its own export, as a user's first one does.
no_download() {
    [ -n "$(vcd_template "$tpl" download)" ] || return 0
    vcd_api POST "vAppTemplate/vappTemplate-$tpl_id/action/disableDownload" >/dev/null
    [ -z "$(vcd_template "$tpl" download)" ] || { say "download of $tpl still enabled"; exit 1; }
}
# exported LABEL: the seconds of the template's last export, from its
# enableDownload task's record (startDate to endDate, vCD's own clock),
# appended to $res/LABEL.export, and the rest of LABEL's last wall time to
# $res/LABEL.rest: what the copy took besides waiting for vCD.
exported() {
    local e
    e=$(vcd_api GET "query?type=task&format=records&pageSize=1&sortDesc=startDate&filter=operationName==vdcEnableDownload;objectName==$tpl" |
        "$PY" -c '
import datetime, sys, xml.etree.ElementTree as ET
r = ET.fromstring(sys.stdin.read()).find("{http://www.vmware.com/vcloud/v1.5}TaskRecord")
t = lambda k: datetime.datetime.fromisoformat(r.get(k).replace("Z", "+00:00"))
print((t("endDate") - t("startDate")).total_seconds())')
    echo "$e" >>"$res/$1.export"
    calc "$(tail -1 "$res/$1.wall") - $e" >>"$res/$1.rest"
    echo >>"$res/$1.rest"
}

vg_cfs() { # ROUND
    no_download
    rm -rf "$cache"
    cfs_mount "$mnt" "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$cache"
    ls -l "$mnt/vcloud/catalogs/migrated/$tpl.ova" "$mnt/openstack/images/" >/dev/null
    measure vg_cfs "$cache" "$cfs_pid" cp "$mnt/vcloud/catalogs/migrated/$tpl.ova" "$mnt/openstack/images/"
    cfs_umount "$mnt"
    exported vg_cfs
    echo "$cfs_rss" >>"$res/vg_cfs.rss"
    du -sb "$cache/blocks" 2>/dev/null | cut -f1 >>"$res/vg_cfs.blocks" || echo 0 >>"$res/vg_cfs.blocks"
    glance_check "$tok" "$tpl" "$img" "$back"
}
vg_pipe() {
    no_download
    measure vg_pipe "$tmp" 0 env VCD_URL="$CLOUDS_VCD_URL" VCD_CACERT="$CLOUDS_DIR/tls/ca.pem" \
        VCD_USER="$CLOUDS_VCD_USER" VCD_ORG="$CLOUDS_VCD_ORG" VCD_PASSWORD="$CLOUDS_VCD_PASSWORD" \
        VCD_CATALOG=migrated VCD_TEMPLATE="$tpl" GLANCE_URL="$CLOUDS_GLANCE_URL" GLANCE_TOKEN="$tok" \
        tests/bench/vcd-glance-pipeline.sh "$tmp" "vgp$1"
    tail -1 "$res/vg_pipe.out" >>"$res/vg_pipe.phases"
    exported vg_pipe
    rm -f "$tmp"/*
    glance_check "$tok" "vgp$1" "$img" "$back"
}

images_rm "$tpl"
for r in $(seq "$rounds"); do
    images_rm "vgp$r"
    in_turn "$r" vg_cfs vg_pipe
    say "round $r of $rounds done"
done

vc=$(median "$res/vg_cfs.wall") vp=$(median "$res/vg_pipe.wall")
# Both sides wait for the same export (enableDownload's task: the emulator
# waits, as vCD takes its time, then re-encodes the disk with qemu-img as
# vCD's export does); the ratio of the rest is the copies' own.
ed=$(curl -sf "$CLOUDS_VCD_CONTROL/knobs" | jget enable_download_delay)
secs1() { printf '%.1f' "$(median "$res/$1")"; } # FILE: its median, 0.1 s
what="$(calc "2 * $gib") GiB template, $gib GiB of data, from a qcow2 of $(($(stat -c %s "$img") >> 20)) MiB"
bench_row id=vcd-glance label="vCD → Glance cp of the .ova" value="$vc" unit=s \
    anchor="vcd-glance-pipeline.sh" anchor_value="$vp" \
    target="≥ 3×, no local disk" min=3 ok="$(no_disk vg_cfs)" rss="$(rss vg_cfs)" \
    cpu="$res/vg_cfs.cpu" anchor_cpu="$res/vg_pipe.cpu" bytes="$(bytes_of_gib "$gib")" \
    note="cp MNT/vcloud/catalogs/migrated/$tpl.ova MNT/openstack/images/ (a qcow2 image $tpl) vs tests/bench/vcd-glance-pipeline.sh (vCD export, curl of descriptor and disk, qemu-img convert -O qcow2, curl upload); $what; both images checked with qemu-img compare against the source; peak local disk $(disk vg_cfs) (cloudfs: cache_dir, where the template's export goes, and its unlinked spool files; the optional block cache held $(blocks vg_cfs) after the cp) vs $(disk vg_pipe); vCD's export (its enableDownload task, the emulator's wait of $ed s included) took $(secs1 vg_cfs.export) s for cloudfs, $(secs1 vg_pipe.export) s for the pipeline; besides it $(secs1 vg_cfs.rest) s vs $(secs1 vg_pipe.rest) s, $(printf '%.2f' "$(calc "$(median "$res/vg_pipe.rest") / $(median "$res/vg_cfs.rest")")")×; pipeline phases: login and export $(phase vg_pipe export) s, download $(phase vg_pipe download) s, convert $(phase vg_pipe convert) s, upload $(phase vg_pipe upload) s"
