#!/bin/bash
# make bench: a vSphere VM into Glance through the mount, against the
# scripted pipeline it replaces, on the same servers (an instance of
# tests/clouds of its own, with vcsim), same run, same disk: migrate.sh's
# image (2 x BENCH_GIB GiB virtual, BENCH_GIB GiB of pseudo-random data) as
# a VM's flat disk on the datastore (a monolithicFlat pair uploaded through
# /folder, as a vSphere user does; not timed).
#   vSphere -> Glance: cp MNT/vsphere/vms/vsb.qcow2 MNT/openstack/images/
#                      vs tests/bench/vsphere-glance-pipeline.sh (curl of the
#                      flat extent, qemu-img convert -O qcow2, curl upload)
# ROUNDS runs of each (default 3), alternating which goes first, each cp on
# a fresh mount with an empty cache_dir; medians of wall time and of peak
# local disk (measure, lib.sh). Every image either side made is read back
# with curl, checked with qemu-img against the source image, then deleted.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-vsphere-glance
cache=$res/cache
tmp=$res/pipeline-tmp
back=$res/read-back
vm=vsb
mkdir -p "$tmp" "$back"

migrate_image
clouds_up
[ -n "${CLOUDS_VSPHERE_URL:-}" ] || skip "these clouds have no vcsim"
tok=$(keystone_token 1)
vmpy() { "$PY" tests/clouds/vcsim/vm.py "$@"; }
images_rm() { # NAME: every Glance image of that name deleted
    local id
    while id=$(glance_id "$tok" "$1") && [ -n "$id" ]; do glance_rm "$tok" "$id"; done
}

say "putting $(basename "$img") on the datastore as VM $vm's flat disk"
vmpy destroy "$vm" >/dev/null 2>&1 || true
qemu-img convert -O vmdk -o subformat=monolithicFlat "$img" "$res/$vm.vmdk"
vmpy create "$vm" >/dev/null
at_exit vmpy destroy "$vm"
vmpy disk "$vm" "$res/$vm.vmdk" "$res/$vm-flat.vmdk" --controller pvscsi --nic vmxnet3 \
    --cpus 2 --memory 2048 --guest centos7_64Guest >/dev/null
rm -f "$res/$vm.vmdk" "$res/$vm-flat.vmdk"

vs_cfs() {
    rm -rf "$cache"
    cfs_mount "$mnt" "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$cache"
    ls -l "$mnt/vsphere/vms/$vm.qcow2" "$mnt/openstack/images/" >/dev/null
    measure vs_cfs "$cache" "$cfs_pid" cp "$mnt/vsphere/vms/$vm.qcow2" "$mnt/openstack/images/"
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/vs_cfs.rss"
    glance_check "$tok" "$vm" "$img" "$back"
}
vs_pipe() {
    measure vs_pipe "$tmp" 0 env VSPHERE_URL="$CLOUDS_VSPHERE_URL" VSPHERE_USER="$CLOUDS_VSPHERE_USER" \
        VSPHERE_PASSWORD="$CLOUDS_VSPHERE_PASSWORD" VSPHERE_DC="$CLOUDS_VSPHERE_DATACENTER" \
        VSPHERE_DS="$CLOUDS_VSPHERE_DATASTORE" VSPHERE_CACERT="$CLOUDS_CACERT" \
        GLANCE_URL="$CLOUDS_GLANCE_URL" GLANCE_TOKEN="$tok" \
        tests/bench/vsphere-glance-pipeline.sh "$tmp" "vsp$1" "$vm/$vm-flat.vmdk"
    tail -1 "$res/vs_pipe.out" >>"$res/vs_pipe.phases"
    rm -f "$tmp"/*
    glance_check "$tok" "vsp$1" "$img" "$back"
}

images_rm "$vm"
for r in $(seq "$rounds"); do
    images_rm "vsp$r"
    in_turn "$r" vs_cfs vs_pipe
    say "round $r of $rounds done"
done

vc=$(median "$res/vs_cfs.wall") vp=$(median "$res/vs_pipe.wall")
what="$(calc "2 * $gib") GiB flat disk, $gib GiB of data"
bench_row id=vsphere-glance label="vSphere → Glance cp of a VM's .qcow2" value="$vc" unit=s \
    anchor="vsphere-glance-pipeline.sh" anchor_value="$vp" \
    target="≥ 3×, no local disk" min=3 ok="$(no_disk vs_cfs)" rss="$(rss vs_cfs)" \
    cpu="$res/vs_cfs.cpu" anchor_cpu="$res/vs_pipe.cpu" bytes="$(bytes_of_gib "$gib")" \
    note="cp MNT/vsphere/vms/$vm.qcow2 MNT/openstack/images/ vs tests/bench/vsphere-glance-pipeline.sh (curl of the flat extent from /folder, qemu-img convert -O qcow2, curl upload); $what; both images checked with qemu-img compare against the source; peak local disk $(disk vs_cfs) vs $(disk vs_pipe); pipeline phases: download $(phase vs_pipe download) s, convert $(phase vs_pipe convert) s, upload $(phase vs_pipe upload) s. vSphere has no allocation map of a flat disk over /folder: cloudfs reads the disk once to find its zeros (as qemu-img does), then uploads the qcow2 of its data"
