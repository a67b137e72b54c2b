#!/bin/bash
# Reads at random offsets and lengths (os.pread) give the source file's bytes:
# on the 2 GiB+ raw image (offsets across the 2 GiB boundary, the last bytes,
# reads past the end) and on a qcow2 image; at least 200 reads in all. And
# forward skips out of a sequential read (10 MiB read in order, then one read
# 4 to 60 MiB further on) give the right bytes and never hang.
. "$(dirname "$0")/lib.sh"
mount_cloudfs

# Skips first, while nothing of big is in the page cache.
f=$(sample_file openstack big)
timeout 30 "$PY" - "$f" "$(manifest openstack big path)" <<'PY'
import os, sys
M = 1 << 20
fm, fs = os.open(sys.argv[1], os.O_RDONLY), os.open(sys.argv[2], os.O_RDONLY)
bad = 0
# a fresh region of the image for each case: nothing in the page cache
for i, skip in enumerate([4, 12, 16, 20, 24, 30, 40, 60]):
    base = (i + 1) * 200 * M + 4096
    for off in range(base, base + 10 * M, M):
        if os.pread(fm, M, off) != os.pread(fs, M, off):
            print("sequential read at %d differs" % off); bad = 1
    off = base + (10 + skip) * M
    print("10 MiB read in order from %d, then a read %d MiB further on" % (base, skip), flush=True)
    if os.pread(fm, M, off) != os.pread(fs, M, off):
        print("the read at %d differs" % off); bad = 1
sys.exit(bad)
PY
rc=$?
[ $rc = 124 ] && fail "a read that skips ahead of a sequential read hangs (the last case above)"
[ $rc = 0 ] || fail "reads that skip ahead of a sequential read differ from the source"

seed=${SEED:-$RANDOM}
echo "seed $seed"
for name in big ext4; do
    f=$(sample_file openstack "$name")
    src=$(manifest openstack "$name" path)
    [ -f "$src" ] || skip "source of $name missing: $src"
    n=$([ "$name" = big ] && echo 160 || echo 80)
    "$PY" - "$f" "$src" "$n" "$seed" <<'PY' || fail "$name: random reads differ from the source"
import os, random, sys
path, src, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
size = os.stat(src).st_size
if os.stat(path).st_size != size:
    sys.exit("size %d, source %d" % (os.stat(path).st_size, size))
G2 = 1 << 31
reads = [(0, 1), (size - 1, 1), (size - 4096, 4096), (size - 100, 4096), (size, 10),
         (size - 1 - (1 << 20), 1 << 20)]
if size > G2:
    reads += [(G2 - 1, 2), (G2 - 4096, 8192), (G2 - 1000, 1 << 20), (G2, 1),
              (G2 - (3 << 20) + 17, 5 << 20)]
while len(reads) < n:
    kind = rnd.random()
    if kind < 0.15 and size > G2:                     # near the 2 GiB boundary
        off = G2 + rnd.randint(-(2 << 20), 2 << 20)
    elif kind < 0.25:                                 # near the end
        off = size - rnd.randint(1, 3 << 20)
    else:
        off = rnd.randrange(size)
    ln = rnd.choice([1, 7, 512, 4095, 4096, 65536, 131073, rnd.randint(1, 3 << 20)])
    reads.append((max(0, off), ln))
fm, fs = os.open(path, os.O_RDONLY), os.open(src, os.O_RDONLY)
bad = 0
for off, ln in reads:
    want = os.pread(fs, ln, off)
    try:
        got = os.pread(fm, ln, off)
    except OSError as e:
        print("pread(%d, %d): %s" % (off, ln, e)); bad += 1; continue
    if got != want:
        i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), None)
        print("pread(%d, %d): %d bytes, expected %d; first difference at %s"
              % (off, ln, len(got), len(want), i))
        bad += 1
print("%s: %d reads, %d wrong" % (os.path.basename(path), len(reads), bad))
sys.exit(1 if bad else 0)
PY
done

exit 0
