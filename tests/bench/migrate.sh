#!/bin/bash
# make bench: migrating an image between clouds through the mount, against
# the scripted pipelines it replaces, on the same servers (an instance of
# tests/clouds of its own), same run, same data: a qcow2 of 2 GiB virtual
# size holding 1 GiB of pseudo-random data.
#   Glance -> vCD:    cp MNT/openstack/images/big.vmdk MNT/vcloud/catalogs/migrated/
#                     vs tests/bench/vcd-pipeline.sh (curl, qemu-img convert, vCD API with curl)
#   Glance -> Glance: cp MNT/openstack/images/big.qcow2 MNT/openstack2/images/
#                     vs curl download + curl upload (POST image, PUT file, wait active)
# ROUNDS runs of each (default 3), cloudfs and pipeline alternating which goes
# first; medians of wall time, peak local disk (the cache dir for cloudfs,
# its unlinked spool files included; the temp dir for the pipeline; sampled
# every 0.2 s) and the emulator's receive rate of the disk PUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
rounds=${ROUNDS:-3}
state=$top/.bench
clouds=$state/clouds-migrate
mnt=$state/mnt-migrate
cache=$state/cache-migrate
tmp=$state/pipeline-tmp
res=$state/migrate
PY=/usr/bin/python3
mkdir -p "$state"
rm -rf "$res" "$tmp" "$cache"
mkdir -p "$res" "$tmp" "$cache" "$mnt"
chmod 700 "$cache"

# The image, built once: a sparse raw with 16 regions of 64 MiB of
# pseudo-random data (fixed seed), converted to qcow2.
img_dir=${CLOUDS_CACHE:-/var/tmp/cloudfs-clouds-cache}/bench
img=$img_dir/migrate-2g-v1.qcow2
if [ ! -f "$img" ]; then
    echo "bench: building $img (once)"
    mkdir -p "$img_dir"
    "$PY" - "$img.raw" <<'EOF'
import random, sys
MiB, GiB = 1 << 20, 1 << 30
rnd = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.truncate(2 * GiB)
    for k in range(16):                 # 64 MiB of data in every 128 MiB
        f.seek(k * 128 * MiB + (k % 4) * 16 * MiB)
        for _ in range(16):
            f.write(rnd.randbytes(4 * MiB))
EOF
    qemu-img convert -f raw -O qcow2 "$img.raw" "$img.tmp"
    rm -f "$img.raw"
    mv "$img.tmp" "$img"
fi

tests/clouds/down "$clouds" >/dev/null 2>&1 || true
rm -rf "$clouds"
echo "bench: starting local clouds in $clouds"
tests/clouds/up "$clouds" --no-samples >"$state/clouds-migrate-up.log" 2>&1 ||
    { tail -20 "$state/clouds-migrate-up.log"; exit 1; }
cfs_pid=
finish() {
    if [ -n "$cfs_pid" ]; then
        fusermount3 -u "$mnt" 2>/dev/null || true
        wait "$cfs_pid" 2>/dev/null || true
    fi
    tests/clouds/down "$clouds" >/dev/null 2>&1 || true
}
trap finish EXIT
# shellcheck disable=SC1091
. "$clouds/env"

token() { # USER PASSWORD PROJECT
    curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
        -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"domain\":{\"id\":\"default\"},\"password\":\"$2\"}}},\"scope\":{\"project\":{\"name\":\"$3\",\"domain\":{\"id\":\"default\"}}}}}" |
        awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r'
}
tok1=$(token "$CLOUDS_USER" "$CLOUDS_PASSWORD" "$CLOUDS_PROJECT")
tok2=$(token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
jget() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# glance_put TOKEN NAME FILE: a new qcow2 image, uploaded, active; prints its id.
glance_put() {
    local id st
    id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $1" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$2\",\"disk_format\":\"qcow2\",\"container_format\":\"bare\"}" | jget id)
    curl -sf -X PUT -H "X-Auth-Token: $1" -H 'Content-Type: application/octet-stream' -T "$3" \
        "$CLOUDS_GLANCE_URL/v2/images/$id/file" >/dev/null
    for _ in $(seq 3000); do
        st=$(curl -sf -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images/$id" | jget status)
        [ "$st" = active ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    echo "bench: image $2 did not become active" >&2
    return 1
}
glance_rm() { curl -sf -X DELETE -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images/$2" >/dev/null || true; }
glance_id() { # TOKEN NAME: the id of the image of that name, if any
    curl -sf -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images?name=$2" | "$PY" -c '
import json, sys
ims = json.load(sys.stdin)["images"]
print(ims[0]["id"] if ims else "")'
}
template() { # NAME KEY: a field of the emulator's record of the migrated template NAME
    curl -sf "$CLOUDS_VCD_CONTROL/state" | "$PY" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["templates"] if t["catalog"] == "migrated" and t["name"] == sys.argv[1]]
print(t[0][sys.argv[2]] if t else "")' "$1" "$2"
}
vcd_auth=$(curl -sf -D - -o /dev/null -X POST -u "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD" \
    -H 'Accept: application/*+xml;version=36.0' "$CLOUDS_VCD_HTTP_URL/api/sessions" |
    awk 'tolower($1) == "x-vcloud-authorization:" { print $2 }' | tr -d '\r')
template_rm() {
    local id
    id=$(template "$1" id)
    [ -n "$id" ] || return 0
    curl -sf -X DELETE -H "x-vcloud-authorization: $vcd_auth" -H 'Accept: application/*+xml;version=36.0' \
        "$CLOUDS_VCD_HTTP_URL/api/vAppTemplate/vappTemplate-$id" >/dev/null || true
    for _ in $(seq 100); do
        [ -z "$(template "$1" id)" ] && return 0
        sleep 0.1
    done
}
# put_stats: the emulator's total transfer PUT bytes and seconds so far;
# rate BEFORE: its mean receive rate (MiB/s) over the PUTs since BEFORE
# (last_receive_rate_mib_s would be the last ranged piece's only).
put_stats() {
    curl -sf "$CLOUDS_VCD_CONTROL/stats" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); print(s["put_bytes"], s["put_seconds"])'
}
rate() {
    echo "$1 $(put_stats)" | awk '{ print ($4 > $2) ? ($3 - $1) / ($4 - $2) / 1048576 : 0 }'
}

echo "bench: uploading $(basename "$img") ($(($(stat -c %s "$img") >> 20)) MiB) to Glance"
src_id=$(glance_put "$tok1" big "$img")

"$top/cloudfs" "$mnt" -f -o "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$cache,log=$res/cloudfs.log" \
    >"$res/cloudfs.out" 2>&1 &
cfs_pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { cat "$res/cloudfs.out"; exit 1; }
ls -l "$mnt/openstack/images/big.vmdk" "$mnt/openstack/images/big.qcow2" >/dev/null

# measure LABEL DIR PID CMD...: runs CMD, appends its wall seconds to
# $res/LABEL.wall and the peak bytes of local disk it took to $res/LABEL.disk:
# what DIR holds, plus the files in DIR that process PID (0: none) holds open
# after unlinking them (cloudfs's spool files), sampled every 0.2 s.
measure() {
    local label=$1 dir=$2 pid=$3 flag=$res/sampling t0 t1 sampler
    shift 3
    touch "$flag"
    "$PY" - "$flag" "$res/peak" "$dir" "$pid" <<'EOF' &
import os, sys, time
flag, out, top, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
fds = "/proc/%d/fd" % pid
peak = 0
while os.path.exists(flag):
    seen = {}                       # (dev, inode) -> bytes: a file opened twice counts once
    for d, _, files in os.walk(top):
        for f in files:
            try:
                st = os.lstat(os.path.join(d, f))
                seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512
            except OSError:
                pass
    for fd in os.listdir(fds) if pid and os.path.isdir(fds) else []:
        try:
            target = os.readlink(os.path.join(fds, fd))
            if target.startswith(top + "/") and target.endswith(" (deleted)"):
                st = os.stat(os.path.join(fds, fd))
                seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512
        except OSError:
            pass
    peak = max(peak, sum(seen.values()))
    time.sleep(0.2)
with open(out, "w") as f:
    f.write("%d\n" % peak)
EOF
    sampler=$!
    t0=$(date +%s.%N)
    "$@" >"$res/$label.out" 2>&1 || { echo "bench: $label failed:"; cat "$res/$label.out"; rm -f "$flag"; exit 1; }
    t1=$(date +%s.%N)
    rm -f "$flag"
    wait $sampler
    echo "$t1 - $t0" | bc -l >>"$res/$label.wall"
    cat "$res/peak" >>"$res/$label.disk"
}

v_cfs() { # ROUND
    local before
    before=$(put_stats)
    measure v_cfs "$cache" "$cfs_pid" cp "$mnt/openstack/images/big.vmdk" "$mnt/vcloud/catalogs/migrated/bc$1.vmdk"
    [ "$(template "bc$1" status)" = 8 ] || { echo "bench: template bc$1 is not complete"; exit 1; }
    rate "$before" >>"$res/v_cfs.rate"
    template_rm "bc$1"
}
v_pipe() {
    local before
    before=$(put_stats)
    measure v_pipe "$tmp" 0 env GLANCE_URL="$CLOUDS_GLANCE_URL" GLANCE_TOKEN="$tok1" IMAGE_ID="$src_id" \
        VCD_URL="$CLOUDS_VCD_URL" VCD_CACERT="$CLOUDS_DIR/tls/ca.pem" VCD_USER="$CLOUDS_VCD_USER" \
        VCD_ORG="$CLOUDS_VCD_ORG" VCD_PASSWORD="$CLOUDS_VCD_PASSWORD" VCD_CATALOG=migrated \
        tests/bench/vcd-pipeline.sh "$tmp" "bp$1"
    [ "$(template "bp$1" status)" = 8 ] || { echo "bench: template bp$1 is not complete"; exit 1; }
    rate "$before" >>"$res/v_pipe.rate"
    tail -1 "$res/v_pipe.out" >>"$res/v_pipe.phases"
    rm -f "$tmp"/*
    template_rm "bp$1"
}
g_cfs() {
    measure g_cfs "$cache" "$cfs_pid" cp "$mnt/openstack/images/big.qcow2" "$mnt/openstack2/images/gc$1.qcow2"
    local id
    id=$(glance_id "$tok2" "gc$1")
    [ -n "$id" ] || { echo "bench: no image gc$1 in openstack2"; exit 1; }
    glance_rm "$tok2" "$id"
}
g_pipe_run() { # ROUND
    curl -sf -H "X-Auth-Token: $tok1" "$CLOUDS_GLANCE_URL/v2/images/$src_id/file" -o "$tmp/big.qcow2"
    glance_put "$tok2" "gp$1" "$tmp/big.qcow2"
}
g_pipe() {
    measure g_pipe "$tmp" 0 g_pipe_run "$1"
    rm -f "$tmp"/*
    glance_rm "$tok2" "$(tail -1 "$res/g_pipe.out")"
}

for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
        v_cfs "$r"; v_pipe "$r"; g_cfs "$r"; g_pipe "$r"
    else
        v_pipe "$r"; v_cfs "$r"; g_pipe "$r"; g_cfs "$r"
    fi
    echo "bench: migration round $r of $rounds done"
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mib() { echo "$1 / 1048576" | bc -l; }
phase() { # NAME: median seconds of one pipeline phase
    awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$res/v_pipe.phases" >"$res/phase.$1"
    median "$res/phase.$1"
}
row() { # TITLE LABEL [RATE]
    printf '  %-34s %8.1f %14.0f %14s\n' "$1" "$(median "$res/$2.wall")" "$(mib "$(median "$res/$2.disk")")" "${3:--}"
}
vc=$(median "$res/v_cfs.wall") vp=$(median "$res/v_pipe.wall")
gc=$(median "$res/g_cfs.wall") gp=$(median "$res/g_pipe.wall")
echo
echo "Migration of a 2 GiB image (1 GiB of data, qcow2 of $(($(stat -c %s "$img") >> 20)) MiB), median of $rounds"
printf '  %-34s %8s %14s %14s\n' "" "wall s" "peak disk MiB" "vCD recv MiB/s"
echo "Glance -> vCD"
row "cp through cloudfs" v_cfs "$(median "$res/v_cfs.rate")"
row "pipeline (curl, qemu-img, curl)" v_pipe "$(median "$res/v_pipe.rate")"
printf '  %-34s download %.1f s, convert %.1f s, upload %.1f s\n' "" "$(phase download)" "$(phase convert)" "$(phase upload)"
printf '  %-34s %8.2f   (target: >= 5, with no local disk)\n' "pipeline / cloudfs" "$(echo "$vp / $vc" | bc -l)"
# The emulator waits before it offers the disk's upload link and before it
# ends the import, as vCD takes its time; both rows include those seconds.
dd=$(curl -sf "$CLOUDS_VCD_CONTROL/knobs" | jget descriptor_delay)
id=$(curl -sf "$CLOUDS_VCD_CONTROL/knobs" | jget import_delay)
printf '  %-34s descriptor %s s + import %s s, in both rows\n' "the emulator's fixed delays" "$dd" "$id"
printf '  %-34s %8.2f\n' "pipeline / cloudfs without them" "$(echo "($vp - $dd - $id) / ($vc - $dd - $id)" | bc -l)"
echo "Glance -> Glance"
row "cp through cloudfs" g_cfs
row "curl download + curl upload" g_pipe
printf '  %-34s %8.2f   (target: <= 1.10, with no local disk)\n' "cloudfs / pipeline" "$(echo "$gc / $gp" | bc -l)"
