#!/bin/bash
# make bench: the views of a qcow2 holding about 1 GiB of real data (an ext4
# of /usr/lib/x86_64-linux-gnu in 2 GiB; with BENCH_GIB below 1, of as many
# of its files as fill BENCH_GIB GiB, in twice that), against qemu-img
# convert on the same qcow2, in the same run:
#   .vmdk   the view (stored grains) vs qemu-img convert -O vmdk -o subformat=streamOptimized
#   .raw    the view vs qemu-img convert -O raw
#   zip     the compressed .vmdk of a vCD upload with vmdk_compress=fast
#           (VIEWCAT_ZIP=1: libdeflate level 1, sizes planned on all cores)
#           vs the same streamOptimized qemu-img run: time and output size
#   cache   the .vmdk view through the mount with the default options
#           (the block cache fills) vs the same with cache_size=0
# each both
#   local:        build/viewcat (the view code on the file) vs qemu-img on the file
#   via Glance:   cat MNT/openstack/images/bench.EXT on a fresh mount with an
#                 empty cache_dir (only the cat timed) vs curl download + qemu-img
# with the outputs in RAM (tmpfs) for all, so that the disk's speed is no
# part of it. ROUNDS rounds, sides taking turns; medians. Then what
# vmdk_compress=auto picks on loopback: two cp of the qcow2 into a vCD
# catalog on one mount (the first has no rate to go by and compresses; the
# second goes by the first's), told apart by the size each sent.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-views

data=${BENCH_QCOW2:-/var/tmp/cloudfs-bench-data.qcow2}
[ "$gib" = 1 ] || data=${BENCH_QCOW2:-/var/tmp/cloudfs-bench-data-${gib}g.qcow2}
if [ ! -f "$data" ]; then
    tree=/usr/lib/x86_64-linux-gnu
    if [ "$gib" != 1 ]; then
        tree=$res/tree
        "$PY" - /usr/lib/x86_64-linux-gnu "$tree" "$(bytes_of_gib "$gib")" <<'EOF'
import os, shutil, sys
src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
total = 0
for d, dirs, files in os.walk(src):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p) or total >= limit:
            continue
        q = os.path.join(dst, os.path.relpath(p, src))
        os.makedirs(os.path.dirname(q), exist_ok=True)
        try:
            os.link(p, q)
        except OSError:
            shutil.copyfile(p, q)
        total += os.path.getsize(p)
EOF
    fi
    say "building $data (ext4 of $tree)"
    raw=$res/data.raw
    truncate -s "$(bytes_of_gib "$(calc "2 * $gib")")" "$raw"
    mkfs.ext4 -q -F -d "$tree" "$raw" >/dev/null
    qemu-img convert -f raw -O qcow2 "$raw" "$data.tmp" && mv "$data.tmp" "$data"
    rm -rf "$raw" "$res/tree"
fi
used=$(qemu-img map -f qcow2 --output=json "$data" |
    "$PY" -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))')
mib=$(calc "$used / 1048576")

scratch=$(mktemp -d /dev/shm/cloudfs-bench.XXXXXX)
at_exit rm -rf "$scratch"
clouds_up
token=$(keystone_token 1)
say "uploading $(basename "$data") to Glance"
id=$(glance_upload "$token" bench qcow2 "$data")

# run KEY CMD...: CMD's seconds appended to $res/KEY, the size of its output
# ($scratch/KEY) to $res/KEY.size; the output is kept for the check of the
# compressed one (zip, q_vmdk), else removed.
run() {
    local key=$1
    shift
    out=$scratch/$key
    secs "$@" >>"$res/$key"
    stat -c %s "$out" >"$res/$key.size"
    case $key in zip | q_vmdk) ;; *) rm -f "$out" ;; esac
}
to_out() { "$@" >"$out"; }
qemu() { qemu-img convert -f qcow2 -O "$1" "${@:3}" "$2" "$out"; } # FORMAT IN [OPTIONS...]
fetch() { curl -sf -H "X-Auth-Token: $token" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "$scratch/dl.qcow2"; }
fetch_qemu() { fetch && qemu "$1" "$scratch/dl.qcow2" "${@:2}" && rm -f "$scratch/dl.qcow2"; }
view() { # EXT [KEY OPTS]: cat of the view through a fresh mount, only the cat timed
    local key=${2:-m_$1}
    rm -rf "$res/cache"
    cfs_mount "$mnt" "cache_dir=$res/cache,views=vmdk:raw${3:+,$3}"
    stat "$mnt/openstack/images/bench.$1" >/dev/null
    secs to_out cat "$mnt/openstack/images/bench.$1" >>"$res/$key"
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/$key.rss"
}
# The compressed .vmdk's plan alone: its size is known before its first byte.
plan() { VIEWCAT_ZIP=1 build/viewcat "$data" qcow2 vmdk | head -c 1 || true; }

q_vmdk() { run q_vmdk qemu vmdk "$data" -o subformat=streamOptimized; }
v_vmdk() { run v_vmdk to_out build/viewcat "$data" qcow2 vmdk; }
z_vmdk() { run zip to_out env VIEWCAT_ZIP=1 build/viewcat "$data" qcow2 vmdk; }
z_plan() { run plan to_out plan; }
q_raw() { run q_raw qemu raw "$data"; }
v_raw() { run v_raw to_out build/viewcat "$data" qcow2 raw; }
fq_vmdk() { run fq_vmdk fetch_qemu vmdk -o subformat=streamOptimized; }
m_vmdk() { out=$scratch/m_vmdk && view vmdk && rm -f "$out"; }
m0_vmdk() { out=$scratch/m0_vmdk && view vmdk m0_vmdk cache_size=0 && rm -f "$out"; }
fq_raw() { run fq_raw fetch_qemu raw; }
m_raw() { out=$scratch/m_raw && view raw && rm -f "$out"; }

for r in $(seq "$rounds"); do
    cat "$data" >/dev/null # the same page cache state for all
    in_turn "$r" q_vmdk v_vmdk z_vmdk z_plan
    [ "$r" != 1 ] || qemu-img compare -q "$scratch/zip" "$scratch/q_vmdk" ||
        { say "the compressed .vmdk differs from qemu-img's"; exit 1; }
    in_turn "$r" q_raw v_raw
    in_turn "$r" fq_vmdk m_vmdk m0_vmdk
    in_turn "$r" fq_raw m_raw
    say "round $r of $rounds done"
done
rm -f "$scratch"/*

# What vmdk_compress=auto picks on loopback: the bytes the emulator received
# for each cp against the compressed and stored sizes, and the rate auto went
# by (the transfer's in .cloudfs/status).
z=$(cat "$res/zip.size") s=$(cat "$res/v_vmdk.size") q=$(cat "$res/q_vmdk.size")
auto="auto not measured (no vcloud provider)"
auto_cp() { # N
    local before after
    before=$(vcd_put_stats | cut -d' ' -f1)
    cp "$mnt/openstack/images/bench.qcow2" "$mnt/vcloud/catalogs/migrated/auto$1.qcow2"
    after=$(vcd_put_stats | cut -d' ' -f1)
    pick=$(holds "$after - $before < ($z + $s) / 2")
    [ "$pick" = yes ] && pick=fast || pick=none
    pick="$pick, then ran at $(rate_of "auto$1.qcow2") MiB/s"
}
rate_of() { # NAME: MiB/s of its transfer, by .cloudfs/status
    "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["path"].endswith("/" + sys.argv[2]):
        print("%.0f" % (t["rate"] / 2**20))' "$mnt/.cloudfs/status" "$1"
}
rm -rf "$res/cache"
cfs_mount "$mnt" "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$res/cache,vmdk_compress=auto"
if [ -d "$mnt/vcloud/catalogs/migrated" ]; then
    auto_cp 1 && auto="auto on loopback: 1st cp (no rate yet) $pick"
    auto_cp 2 && auto="$auto; 2nd $pick"
fi
cfs_umount "$mnt"

mb() { printf '%.1f' "$(calc "$1 / 1048576")"; } # BYTES: MiB
data_bytes=$(calc "$mib * 1048576")
rows() { # EXT TARGET MIN QEMU-IMG SIZES
    bench_row id="views-$1-local" label=".$1 view of a qcow2, local" value="$(median "$res/v_$1")" unit=s \
        anchor="qemu-img $4" anchor_value="$(median "$res/q_$1")" target="$2" min="$3" \
        cpu="$res/v_$1.cpu" anchor_cpu="$res/q_$1.cpu" bytes="$data_bytes" \
        note="build/viewcat on the qcow2 vs qemu-img convert on it; $(printf '%.0f' "$mib") MiB of data (ext4 of /usr/lib); outputs in tmpfs; $5"
    bench_row id="views-$1-mount" label=".$1 view of a qcow2, mount" value="$(median "$res/m_$1")" unit=s \
        anchor="curl + qemu-img $4" anchor_value="$(median "$res/fq_$1")" target="$2" min="$3" \
        cpu="$res/m_$1.cpu" anchor_cpu="$res/fq_$1.cpu" bytes="$data_bytes" \
        rss="$(sort -g "$res/m_$1.rss" | tail -1)" note="cat MNT/openstack/images/bench.$1 on a fresh mount with an empty cache_dir vs curl download, then qemu-img convert; outputs in tmpfs"
}
rows vmdk "≥ 20×" 20 streamOptimized "stored grains, $(mb "$s") MiB vs qemu-img's $(mb "$q") MiB"
# The block cache's fill must not slow a first view: the same cat with the
# cache off (cache_size=0) is the anchor.
bench_row id=views-vmdk-cache label=".vmdk view of a qcow2, mount, block cache on" value="$(median "$res/m_vmdk")" unit=s \
    anchor="the same, cache_size=0" anchor_value="$(median "$res/m0_vmdk")" target="≥ 1.0×" min=1 \
    cpu="$res/m_vmdk.cpu" anchor_cpu="$res/m0_vmdk.cpu" bytes="$data_bytes" \
    rss="$(sort -g "$res/m_vmdk.rss" | tail -1)" note="the first view with the default options fills the block cache (lz4) from spare CPU only; cache_size=0 has none to fill"
rows raw - "" "-O raw" "$(mb "$(cat "$res/v_raw.size")") MiB written vs qemu-img's sparse file"
t_plan=$(median "$res/plan")
T=$(calc "$mib / $t_plan")
ratio_r=$(calc "$s / $z")
bench_row id=views-zip label="compressed .vmdk (fast), local" value="$(median "$res/zip")" unit=s \
    anchor="qemu-img streamOptimized" anchor_value="$(median "$res/q_vmdk")" target="≥ 5×, size ≤ 1.15×" min=5 \
    ok="$(holds "$z <= 1.15 * $q")" cpu="$res/zip.cpu" anchor_cpu="$res/q_vmdk.cpu" bytes="$data_bytes" \
    note="VIEWCAT_ZIP=1 build/viewcat, as a vCD upload with vmdk_compress=fast sends it; size $(printf '%.3f' "$(calc "$z / $q")")× qemu-img's ($(mb "$z") vs $(mb "$q") MiB); plan $(printf '%.1f' "$t_plan") s (T = $(printf '%.0f' "$T") MiB/s on $(nproc) cores), r = $(printf '%.2f' "$ratio_r"): compressing pays below T (1 - 1/r) = $(printf '%.0f' "$(calc "$T * (1 - 1 / $ratio_r)")") MiB/s of link; $auto"
