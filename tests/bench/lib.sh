# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# tests/bench/lib.sh: what the benchmark scripts share, sourced by each of
# them: a local clouds instance of their own, a Keystone token, Glance
# uploads, a vCD session and its templates, the migration image, wall times
# and medians, peak local disk, dropping the page cache, cloudfs mounts
# with their peak RSS, and bench_row, which appends one row of the table
# (tests/bench/table.sh) to $BENCH_RESULTS.
#
# Sizes (for a quick run, e.g. BENCH_GIB=0.25 BENCH_BIG_GIB=0.5 LIST_IMAGES=50 ROUNDS=1):
#   ROUNDS         alternating rounds, medians reported (3)
#   BENCH_GIB      the "1 GiB" data of read.sh, cache.sh, migrate.sh and views.sh (1)
#   BENCH_BIG_GIB  the big image of read.sh, uploaded streamed, never on local disk (8)
#   LIST_IMAGES    images listed by list.sh (1000)
# BENCH_CLOUDS=DIR: measure against the running instance of tests/clouds/up
# DIR --no-samples (left running) instead of starting one per script; the
# samples' names (big) would collide with the scripts' images.
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) fails the script too
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
top=$PWD
name=$(basename "$0" .sh)
state=$top/.bench
res=$state/$name # this script's measurements, remade at each run
rounds=${ROUNDS:-3}
gib=${BENCH_GIB:-1}
BENCH_RESULTS=${BENCH_RESULTS:-$state/results.tsv}
PY=/usr/bin/python3 # Debian's: another python3 may come first on PATH
export PY
rm -rf "$res"
mkdir -p "$res"

say() { echo "bench $name: $*" >&2; }
skip() { # REASON: this script's rows are left out, the suite goes on
    say "skipped, $*"
    exit 0
}

# Cleanup at exit: the mounts first, then what at_exit was given, last first;
# the scripts' cache_dir ($res/cache) goes too, as it may hold gigabytes.
mounts=()
exit_cmds=()
at_exit() { exit_cmds=("$(printf '%q ' "$@")" "${exit_cmds[@]}"); }
on_exit() {
    local m c
    for m in "${mounts[@]}"; do
        mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true; }
    done
    for c in "${exit_cmds[@]}"; do eval "$c" || true; done
    rm -rf "$res/cache"
}
trap on_exit EXIT

# clouds_up: starts this script's own local clouds (no sample images) in
# .bench/clouds-NAME, stopped at exit (their logs kept, Glance's images not:
# they may be 9 GiB), and sources their environment.
clouds_up() {
    if [ -n "${BENCH_CLOUDS:-}" ]; then
        clouds=$BENCH_CLOUDS
        [ -f "$clouds/env" ] || { say "no local clouds in $clouds"; exit 1; }
        say "using the local clouds in $clouds"
    else
        clouds=$state/clouds-$name
        tests/clouds/down "$clouds" >/dev/null 2>&1 || true
        rm -rf "$clouds"
        say "starting local clouds in $clouds"
        tests/clouds/up "$clouds" --no-samples >"$clouds.log" 2>&1 || { tail -20 "$clouds.log"; exit 1; }
        at_exit rm -rf "$clouds/glance/images"
        at_exit tests/clouds/down "$clouds"
    fi
    # shellcheck disable=SC1091
    . "$clouds/env"
    unset CLOUDFS_CONFIG # each row mounts the clouds it measures
}

keystone_token() { # 1|2: a token of the clouds' first (or second) user, scoped to their project
    local user=$CLOUDS_USER password=$CLOUDS_PASSWORD project=$CLOUDS_PROJECT
    [ "$1" = 1 ] || user=$CLOUDS_USER2 password=$CLOUDS_PASSWORD2 project=$CLOUDS_PROJECT2
    curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
        -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$user\",\"domain\":{\"id\":\"default\"},\"password\":\"$password\"}}},\"scope\":{\"project\":{\"name\":\"$project\",\"domain\":{\"id\":\"default\"}}}}}" |
        awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r'
}

jget() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; } # KEY of stdin's JSON

# glance_upload TOKEN NAME DISK_FORMAT FILE: a new image, its data from FILE
# (- for stdin: a chunked PUT, nothing on local disk), active; prints its id.
glance_upload() {
    local id st old
    # The name is the bench's: what an earlier run on the same clouds left
    # under it would make the mount's name ambiguous.
    while old=$(glance_id "$1" "$2") && [ -n "$old" ]; do
        curl -sf -X DELETE -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images/$old" >/dev/null || break
    done
    id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $1" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$2\",\"disk_format\":\"$3\",\"container_format\":\"bare\"}" | jget id)
    curl -sf -X PUT -H "X-Auth-Token: $1" -H 'Content-Type: application/octet-stream' -T "$4" \
        "$CLOUDS_GLANCE_URL/v2/images/$id/file" >/dev/null || { echo "bench: upload of $2 failed" >&2; return 1; }
    for _ in $(seq 3000); do
        st=$(curl -sf -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images/$id" | jget status)
        [ "$st" = active ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    echo "bench: image $2 did not become active" >&2
    return 1
}
# glance_check TOKEN NAME SOURCE DIR: the Glance image NAME is active, qcow2
# and bare, and its bytes (curl, into DIR) are SOURCE's (qemu-img compare,
# virtual sizes equal); then it is deleted. Exits the script if not.
glance_check() {
    local tok=$1 name=$2 src=$3 f=$4/$2.qcow2 id
    vsize() { qemu-img info --output=json "$1" | jget virtual-size; }
    id=$(glance_id "$tok" "$name")
    [ -n "$id" ] || { say "no image $name in Glance"; exit 1; }
    curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id" |
        "$PY" -c 'import json,sys; i=json.load(sys.stdin); print(i["status"], i["disk_format"], i["container_format"])' >"$4/$name.info"
    [ "$(cat "$4/$name.info")" = "active qcow2 bare" ] || { say "image $name: $(cat "$4/$name.info")"; exit 1; }
    curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id/file" -o "$f"
    [ "$(vsize "$f")" = "$(vsize "$src")" ] || { say "image $name: virtual size $(vsize "$f"), not $(vsize "$src")"; exit 1; }
    qemu-img compare -f qcow2 -F qcow2 "$src" "$f" >"$4/$name.compare" 2>&1 ||
        { say "image $name differs from the source: $(cat "$4/$name.compare")"; exit 1; }
    rm -f "$f"
    glance_rm "$tok" "$id"
}
glance_rm() { curl -sf -X DELETE -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images/$2" >/dev/null || true; }
glance_id() { # TOKEN NAME: the id of the image of that name, if any
    curl -sf -H "X-Auth-Token: $1" "$CLOUDS_GLANCE_URL/v2/images?name=$2" | "$PY" -c '
import json, sys
ims = json.load(sys.stdin)["images"]
print(ims[0]["id"] if ims else "")'
}

# vcd_put_stats: the vCD emulator's total bytes and seconds of disk PUTs so far.
vcd_put_stats() {
    curl -sf "$CLOUDS_VCD_CONTROL/stats" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); print(s["put_bytes"], s["put_seconds"])'
}
# vcd_login: a session of the vCD user (plain HTTP) in vcd_auth, for vcd_api.
vcd_login() {
    vcd_auth=$(curl -sf -D - -o /dev/null -X POST -u "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD" \
        -H 'Accept: application/*+xml;version=36.0' "$CLOUDS_VCD_HTTP_URL/api/sessions" |
        awk 'tolower($1) == "x-vcloud-authorization:" { print $2 }' | tr -d '\r')
    [ -n "$vcd_auth" ] || { say "vCD login failed"; exit 1; }
}
vcd_api() { # METHOD PATH: a vCD API call, PATH after /api/, its answer on stdout
    curl -sf -X "$1" -H "x-vcloud-authorization: $vcd_auth" -H 'Accept: application/*+xml;version=36.0' \
        "$CLOUDS_VCD_HTTP_URL/api/$2"
}
vcd_template() { # NAME KEY: a field of the emulator's record of template NAME in catalog migrated
    curl -sf "$CLOUDS_VCD_CONTROL/state" | "$PY" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["templates"] if t["catalog"] == "migrated" and t["name"] == sys.argv[1]]
print(t[0][sys.argv[2]] if t and t[0][sys.argv[2]] is not None else "")' "$1" "$2"
}
vcd_template_rm() { # NAME: that template of catalog migrated deleted, if there
    local id
    id=$(vcd_template "$1" id)
    [ -n "$id" ] || return 0
    vcd_api DELETE "vAppTemplate/vappTemplate-$id" >/dev/null || true
    for _ in $(seq 100); do
        [ -z "$(vcd_template "$1" id)" ] && return 0
        sleep 0.1
    done
}

# migrate_image: img = the image migrate.sh and vcd-glance.sh move between
# clouds, built once: a qcow2 of a sparse raw of 2 x BENCH_GIB GiB with 16
# regions of BENCH_GIB / 16 GiB of pseudo-random data (fixed seed).
migrate_image() {
    local dir=${CLOUDS_CACHE:-/var/tmp/cloudfs-clouds-cache}/bench
    img=$dir/migrate-2g-v1.qcow2
    [ "$gib" = 1 ] || img=$dir/migrate-${gib}g-data-v1.qcow2
    [ ! -f "$img" ] || return 0
    say "building $img (once)"
    mkdir -p "$dir"
    "$PY" - "$img.raw" "$(bytes_of_gib "$gib")" <<'EOF'
import random, sys
MiB, data = 1 << 20, int(sys.argv[2])
region = data // 16
rnd = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.truncate(2 * data)
    for k in range(16):                 # data in every other region
        f.seek(k * 2 * region + (k % 4) * region // 4)
        for at in range(0, region, 4 * MiB):
            f.write(rnd.randbytes(min(4 * MiB, region - at)))
EOF
    qemu-img convert -f raw -O qcow2 "$img.raw" "$img.tmp"
    rm -f "$img.raw"
    mv "$img.tmp" "$img"
}

# CPU seconds, for the rows' CPU column: children_cpu sets cpu_children to
# what the commands this shell waited for used so far (bash's times, which
# must run in this shell, not in $(...): a subshell's children are its
# own); cfs_cpu prints what the mount cfs_pid used so far (/proc/PID/stat
# utime + stime; a bindfs anchor's too), 0 when it is gone.
children_cpu() {
    times >"$res/.times"
    cpu_children=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); n += a[1] * 60 + a[2] } print n }' "$res/.times")
}
clk_tck=$(getconf CLK_TCK)
cfs_cpu() { # [PID]: of that process instead
    local pid=${1:-${cfs_pid:-0}}
    local f=/proc/$pid/stat
    if [ "$pid" != 0 ] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(cloudfs|bindfs) ]]; then
        awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "$f"
    else
        echo 0
    fi
}
# cpu_since CHILDREN CFS FILE: appends to FILE the CPU seconds used since
# children_cpu and cfs_cpu gave CHILDREN and CFS, the commands' and the
# mount's: "CMD CFS" (the mount's 0 when it is gone since).
cpu_since() { # ... [PID]: the mount PID's instead of cfs_pid's
    local f
    children_cpu
    f=$(cfs_cpu "${4:-}")
    if [ "$f" = 0 ]; then f=$2; fi
    echo "$(calc "$cpu_children - $1") $(calc "$f - $2")" >>"$3"
}

# secs CMD... >>FILE: its wall seconds on stdout (CMD's own stdout is
# dropped), and "CMD-CPU MOUNT-CPU" seconds appended to FILE.cpu (FILE: what
# stdout is, read off /proc) for bench_row's cpu=.
secs() {
    local t0 t1 c0 f0 fd1 me=$BASHPID # this shell, not the $(...) below
    fd1=$(readlink "/proc/$me/fd/1")
    children_cpu
    c0=$cpu_children
    f0=$(cfs_cpu)
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
    if [ -f "$fd1" ]; then cpu_since "$c0" "$f0" "$fd1.cpu"; fi
}
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; } # FILE of numbers
calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }              # EXPR: its value
holds() { awk "BEGIN { exit !($1) }" && echo yes || echo no; } # EXPR: yes or no
# in_turn ROUND FN...: each FN ROUND, round r starting with the r-th
# (cyclically), so that no side always goes first.
in_turn() {
    local r=$1 i
    shift
    local fns=("$@")
    for ((i = 0; i < ${#fns[@]}; i++)); do "${fns[(r - 1 + i) % ${#fns[@]}]}" "$r"; done
}

# measure LABEL DIR PID CMD...: runs CMD, appends its wall seconds to
# $res/LABEL.wall and the peak bytes of local disk it took to $res/LABEL.disk:
# what DIR holds, plus the files in DIR that process PID (0: none) holds open
# after unlinking them (cloudfs's spool files), sampled every 0.2 s. DIR/blocks
# is left out: cloudfs's block cache is optional (cache_size=0 turns it off,
# and the copy runs the same); what it held is reported on its own.
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
    for d, dirs, files in os.walk(top):
        if d == top:
            dirs[:] = [x for x in dirs if x != "blocks"]
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
    local c0 f0
    children_cpu
    c0=$cpu_children
    f0=$(cfs_cpu "$pid")
    t0=$(date +%s.%N)
    "$@" >"$res/$label.out" 2>&1 || { say "$label failed:"; cat "$res/$label.out"; rm -f "$flag"; exit 1; }
    t1=$(date +%s.%N)
    cpu_since "$c0" "$f0" "$res/$label.cpu" "$pid" # before the sampler is waited for: not its CPU
    rm -f "$flag"
    wait $sampler
    echo "$t1 - $t0" | bc -l >>"$res/$label.wall"
    cat "$res/peak" >>"$res/$label.disk"
}
# What measure kept, for bench_row's note and ok=: LABEL's median peak local
# disk, the block cache after it, its largest peak RSS, whether no run took
# any disk; phase LABEL NAME: the median seconds of one pipeline phase, from
# LABEL.phases (lines of "NAME S NAME S ...").
mib() { printf '%.0f' "$(calc "$1 / 1048576")"; }
disk() { echo "$(mib "$(median "$res/$1.disk")") MiB"; }
blocks() { echo "$(mib "$(median "$res/$1.blocks")") MiB"; }
rss() { sort -g "$res/$1.rss" | tail -1; }
no_disk() { holds "$(sort -g "$res/$1.disk" | tail -1) == 0"; }
phase() {
    awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$res/$1.phases" >"$res/phase.$1.$2"
    printf '%.1f' "$(median "$res/phase.$1.$2")"
}

# The page cache (of the whole machine: the servers' files too), dropped
# where a figure is meant cold; needs root.
can_drop() { [ -w /proc/sys/vm/drop_caches ]; }
drop() { sync && echo 3 >/proc/sys/vm/drop_caches; }

bytes_of_gib() { awk -v g="$1" 'BEGIN { printf "%.0f", int(g * 1024) * 1048576 }'; } # GIB: bytes, whole MiB
# random_file BYTES: a file of that many random bytes, made once in /var/tmp
# (BENCH_DATA names the 1 GiB one).
random_file() {
    local f=/var/tmp/cloudfs-bench-$(($1 >> 20))m.raw
    [ "$1" != 1073741824 ] || f=${BENCH_DATA:-/var/tmp/cloudfs-bench-1g.raw}
    if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != "$1" ]; then
        say "making $f"
        head -c "$1" /dev/urandom >"$f.tmp" && mv "$f.tmp" "$f"
    fi
    echo "$f"
}

# cfs_mount MNT OPTIONS: cloudfs mounted at MNT (in the foreground of a
# background job, cfs_pid), with -o OPTIONS and its log in $res.
cfs_mount() {
    mkdir -p "$1"
    [[ " ${mounts[*]} " == *" $1 "* ]] || mounts+=("$1")
    "$top/cloudfs" "$1" -f -o "log=$res/cloudfs.log,$2" >>"$res/cloudfs.out" 2>&1 &
    cfs_pid=$!
    for _ in $(seq 200); do
        mountpoint -q "$1" && return 0
        kill -0 "$cfs_pid" 2>/dev/null || break
        sleep 0.05
    done
    say "cloudfs did not mount at $1:"
    tail -20 "$res/cloudfs.out"
    exit 1
}
# wait_verified CACHE_DIR: waits (60 s at most) until the block cache in
# CACHE_DIR/blocks verified an image (its manifest, *.m, exists); fails the
# script if it did not.
wait_verified() {
    local _
    for _ in $(seq 600); do
        [ -n "$(find "$1/blocks" -type f -name '*.m' 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    say "no manifest in $1/blocks after the first read"
    exit 1
}
# cfs_umount MNT: its peak RSS (VmHWM) read just before the unmount into
# cfs_rss (MiB) and the largest so far into cfs_rss_max; then unmounted, and
# the process gone.
cfs_hwm() { awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$cfs_pid/status"; } # the mount's peak RSS so far, MiB
cfs_rss_max=0
cfs_umount() {
    cfs_rss=$(cfs_hwm)
    cfs_rss_max=$(calc "$cfs_rss > $cfs_rss_max ? $cfs_rss : $cfs_rss_max")
    fusermount3 -u "$1"
    wait "$cfs_pid" || true
}

# cpu_of FILE [BYTES]: the median CPU seconds of the runs in FILE (lines of
# secs's or measure's "CMD MOUNT"), both together, per GiB of BYTES.
cpu_of() {
    awk '{ print $1 + $2 }' "$1" >"$1.sum"
    if [ -n "${2:-}" ]; then calc "$(median "$1.sum") / ($2 / 1073741824)"; else median "$1.sum"; fi
}

# bench_row id=ID label=TEXT value=N anchor=TEXT anchor_value=N unit=s|MiB/s
#           [target=TEXT min=RATIO] [ok=yes|no] [rss=MIB] [note=TEXT]
#           [cpu=FILE anchor_cpu=FILE [bytes=N]]
# One row of the table, replacing an earlier row of the same id. The ratio
# is oriented so that above 1 cloudfs is better: anchor/value for seconds,
# value/anchor for MiB/s. met: ratio >= min and ok (the rest of the
# target: memory, disk, requests, size), "-" without a min. cpu and
# anchor_cpu: the .cpu files of secs or measure for the two sides; the
# row's CPU column is their medians (the commands' CPU, with the mount's
# for cloudfs's side), per GiB of bytes, else per run.
bench_row() {
    local id="" label="" value="" anchor="" anchor_value="" unit="" target="-" min="" ok=yes rss="-" note=""
    local cpu="" anchor_cpu="" bytes=""
    local "$@"
    local ratio met=- cpu_text=-
    if [ -s "$cpu" ] && [ -s "$anchor_cpu" ]; then
        cpu_text="$(printf '%.2f / %.2f' "$(cpu_of "$cpu" "$bytes")" "$(cpu_of "$anchor_cpu" "$bytes")") s${bytes:+/GiB}"
    fi
    if [ "$unit" = s ]; then
        ratio=$(calc "$anchor_value / $value")
    else
        ratio=$(calc "$value / $anchor_value")
    fi
    [ -z "$min" ] || met=$(holds "$ratio >= $min && \"$ok\" == \"yes\"")
    mkdir -p "$(dirname "$BENCH_RESULTS")"
    touch "$BENCH_RESULTS"
    awk -F'\t' -v id="$id" '$1 != id' "$BENCH_RESULTS" >"$BENCH_RESULTS.tmp"
    local fields=("$id" "$label" "$value" "$unit" "$anchor" "$anchor_value" "$ratio" "$target" "$met" "$rss" "$rounds" "$note" "$cpu_text")
    (IFS=$'\t' && echo "${fields[*]//$'\t'/ }") >>"$BENCH_RESULTS.tmp"
    mv "$BENCH_RESULTS.tmp" "$BENCH_RESULTS"
    say "$label: $value $unit, $anchor: $anchor_value $unit, ratio $ratio${min:+, met $met}"
}
