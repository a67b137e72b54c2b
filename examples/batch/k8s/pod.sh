#!/bin/bash
# The entrypoint of the pods of job.yaml: mounts cloudfs, copies shard
# JOB_COMPLETION_INDEX of SHARDS with migrate.sh (SRC DST [GLOB], as for it),
# unmounts, and exits as migrate.sh did (1 when an image failed: that index
# then fails, and is retried up to backoffLimitPerIndex). cloudfs runs in the
# foreground beside it, so that its log is the pod's (kubectl logs).
# Environment: JOB_COMPLETION_INDEX and SHARDS (job.yaml sets both), JOBS
# (copies at once, default 2), CLOUDFS_MOUNT (default /mnt/clouds),
# CLOUDFS_OPTIONS (cloudfs -o ...), CLOUDFS (the binary, default cloudfs);
# the clouds come from OS_CLIENT_CONFIG_FILE and CLOUDFS_CONFIG.
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/migrate.sh" ] || here=$here/.. # run from the source tree
: "${JOB_COMPLETION_INDEX:?is not set: run as a pod of an Indexed Job}" "${SHARDS:?is not set}"
mnt=${CLOUDFS_MOUNT:-/mnt/clouds} opts=${CLOUDFS_OPTIONS:-}
mkdir -p "$mnt" || exit 1

"${CLOUDFS:-cloudfs}" "$mnt" -f ${opts:+-o "$opts"} &
cfs=$! job=""
# A pod being stopped gets SIGTERM: migrate.sh (parallel) starts no new
# copy, and cloudfs lets the running uploads finish (within its
# unmount_timeout, then cancels them: a cancelled upload removes what it
# made) and unmounts; what was not copied is the next run's.
# (PID 1 ignores a signal it has no trap for.)
trap 'kill -TERM $job "$cfs" 2>/dev/null' TERM INT
for _ in $(seq 300); do
    mountpoint -q "$mnt" && break
    kill -0 "$cfs" 2>/dev/null || { echo "pod: cloudfs exited before mounting $mnt" >&2; exit 1; }
    sleep 0.1
done
mountpoint -q "$mnt" || { echo "pod: cloudfs did not mount $mnt within 30 s" >&2; exit 1; }

"$here/migrate.sh" -S : -j "${JOBS:-2}" -s "$JOB_COMPLETION_INDEX/$SHARDS" -m "$mnt" \
    -l "${TMPDIR:-/tmp}/cloudfs-batch.$JOB_COMPLETION_INDEX.joblog" "$@" &
job=$!
wait "$job"
rc=$?
# A trapped signal ends the wait early (> 128): wait again for the end.
while [ "$rc" -gt 128 ]; do
    wait "$job"
    rc=$?
done
fusermount3 -u "$mnt" 2>/dev/null
wait "$cfs"
exit "$rc"
