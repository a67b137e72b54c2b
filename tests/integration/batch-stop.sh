#!/bin/bash
# A pod of examples/batch/k8s/job.yaml being stopped (SIGTERM to its
# pod.sh, as the kubelet sends it) in the middle of a copy: no new copy
# starts, the running one is cancelled by cloudfs (unmount_timeout=0) and
# leaves nothing in Glance, the pod lists it as failed and the one never
# started as not run, exits 1, and its mount and cloudfs are gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
POD=$TOP/examples/batch/k8s/pod.sh
[ -x "$POD" ] || fail "no $POD"
command -v parallel >/dev/null || skip "GNU parallel missing (tests/deps.sh installs it)"
PMNT=$WORK/pod
trap 'fusermount3 -uz "$PMNT" 2>/dev/null; xfer_cleanup; cleanup' EXIT
[ "$(manifest openstack big size)" -gt $((1 << 30)) ] || skip "no big sample image"

# Shard 0 of 1: big.raw (2 GiB), then ext4-raw.raw; one copy at a time. No
# timeout(1) around it: that would signal the whole process group.
env TMPDIR="$WORK" JOB_COMPLETION_INDEX=0 SHARDS=1 JOBS=1 CLOUDFS="$CLOUDFS" CLOUDFS_MOUNT="$PMNT" \
    CLOUDFS_OPTIONS="cache_dir=$WORK/cache,log=$LOG,unmount_timeout=0" CLOUDFS_CONFIG="$CLOUDS_CLOUDFS_YAML" \
    "$POD" openstack/images openstack2/images '[be]*.raw' >"$WORK/out" 2>&1 &
pod=$!
BG_PIDS+=("$pod")
wait_until 60 grep -qs 'upload of /openstack2/images/big.raw' "$LOG" || fail "the copy of big.raw did not start"
kill -TERM "$pod"
wait "$pod"
rc=$?
echo "--- pod.sh exited $rc"
cat "$WORK/out"
[ "$rc" = 1 ] || fail "the stopped pod exited $rc, not 1"
grep -q '^batch: 0 copied, 0 already there, 1 failed, 1 not run ' "$WORK/out" ||
    fail "the summary: $(grep '^batch: .* copied' "$WORK/out")"
grep -q '^  big.raw (host :, exit 1): .*Operation canceled' "$WORK/out" || fail "big.raw is not listed as cancelled"
grep -q 'ext4-raw' "$WORK/out" && fail "the copy not started yet was started"
mountpoint -q "$PMNT" && fail "the pod left its mount"
[ "$(log_count 'upload of /openstack2/images/big.raw cancelled')" = 1 ] || fail "cloudfs did not cancel the upload"
new=$(glance_list "$TOK2" | cut -f1 | sort | comm -13 "$WORK/images-before.2" -)
[ -z "$new" ] || fail "the cancelled copy left images in openstack2: $new"
exit 0
