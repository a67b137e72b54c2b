#!/bin/bash
# make bench: every benchmark, each against its anchor on the same data in
# the same run, then the one table of all their rows (tests/bench/table.sh,
# also in .bench/table.txt and .bench/table.md), the last thing printed.
#   read.sh     first read, 1 GiB and 8 GiB, vs curl and curl | sha512sum
#   views.sh    .vmdk, .raw and compressed VMDK views vs qemu-img convert
#   migrate.sh  Glance -> vCD and Glance -> Glance cp vs curl/qemu-img pipelines
#   vcd-glance.sh  vCD -> Glance cp of a template's .ova vs the vCD download flow, qemu-img, curl
#   vsphere-glance.sh  vSphere VM -> Glance cp of its .qcow2 vs curl from the datastore, qemu-img, curl
#   cache.sh    second read from the block cache vs bindfs of a local copy
#   fuse.sh     FUSE settings (max_read, one thread, read-ahead, page cache) vs the defaults
#   list.sh     ls -l of 1,000 images vs openstack image list --long
# Each runs alone too, replacing its own rows in .bench/results.tsv.
# Sizes: see tests/bench/lib.sh (ROUNDS, BENCH_GIB, BENCH_BIG_GIB, LIST_IMAGES).
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_RESULTS=${BENCH_RESULTS:-$PWD/.bench/results.tsv}
mkdir -p "$(dirname "$BENCH_RESULTS")"
: >"$BENCH_RESULTS"
failed=()
for s in read views migrate vcd-glance vsphere-glance cache fuse list; do
    echo "bench: tests/bench/$s.sh"
    tests/bench/$s.sh || failed+=("$s.sh")
done
echo
[ ${#failed[@]} = 0 ] || echo "bench: failed: ${failed[*]} (their rows are missing)"
tests/bench/table.sh
[ ${#failed[@]} = 0 ]
