#!/bin/bash
# The compressed .vmdk of a vCD upload (vmdk_compress=fast: libdeflate level 1,
# sizes planned on all cores, recompressed while sent) against
#   qemu-img convert -O vmdk -o subformat=streamOptimized   (zlib level 6, one core)
# on the same qcow2 (views.sh's: an ext4 of /usr/lib, ~1 GiB of data):
# time and output size, and the numbers vmdk_compress=auto rests on (the
# plan's throughput T and the ratio r: compression pays below T (1 - 1/r)).
# Target: >= 5x faster than qemu-img, output <= 1.15x its size.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/viewcat
data=${BENCH_QCOW2:-/var/tmp/cloudfs-bench-data.qcow2}
[ -f "$data" ] || { echo "bench: no $data (tests/bench/views.sh builds it)"; exit 1; }
used=$(qemu-img map -f qcow2 --output=json "$data" |
    /usr/bin/python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))')
scratch=$(mktemp -d /dev/shm/cloudfs-vzip.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

now() { date +%s.%N; }
t0=$(now)
VIEWCAT_ZIP=1 build/viewcat "$data" qcow2 vmdk | head -c 1 >/dev/null || true
t1=$(now)
VIEWCAT_ZIP=1 build/viewcat "$data" qcow2 vmdk >"$scratch/z.vmdk"
t2=$(now)
build/viewcat "$data" qcow2 vmdk >"$scratch/s.vmdk"
t3=$(now)
qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized "$data" "$scratch/q.vmdk"
t4=$(now)
qemu-img compare -q "$scratch/z.vmdk" "$scratch/q.vmdk" || { echo "bench: outputs differ"; exit 1; }

/usr/bin/python3 - "$used" "$t0" "$t1" "$t2" "$t3" "$t4" \
    "$(stat -c %s "$scratch/z.vmdk")" "$(stat -c %s "$scratch/s.vmdk")" "$(stat -c %s "$scratch/q.vmdk")" "$(nproc)" <<'PY'
import sys
used, t0, t1, t2, t3, t4 = (float(x) for x in sys.argv[1:7])
z, s, q, cpus = (int(x) for x in sys.argv[7:11])
mib = used / 2**20
plan, zip_, stored, qemu = t1 - t0, t2 - t1, t3 - t2, t4 - t3
T = mib / plan
r = s / z
print(f"data {mib:.0f} MiB on {cpus} cores")
print(f"fast (level 1):  {zip_:6.1f} s  {z / 2**20:7.1f} MiB   (plan alone {plan:.1f} s: T = {T:.0f} MiB/s)")
print(f"none (stored):   {stored:6.1f} s  {s / 2**20:7.1f} MiB   (ratio r = {r:.2f})")
print(f"qemu-img:        {qemu:6.1f} s  {q / 2**20:7.1f} MiB")
print(f"speed-up {qemu / zip_:.2f}x (target >= 5), size {z / q:.3f}x qemu-img's (target <= 1.15)")
print(f"auto: compression pays below T (1 - 1/r) = {T * (1 - 1 / r):.0f} MiB/s of link")
PY
