#!/bin/bash
# A migration over many hosts, scheduled by GNU parallel: one job per image,
# run on the SSH logins given (-S), each host copying through its own
# cloudfs mount, cloud to cloud. Re-runnable: an image already in the
# target is skipped, so a second run copies nothing and a run after a
# failure copies only what is missing. The failed images are listed at the
# end, and the exit status is then 1. README.md ("Beyond one machine") has
# the whole picture; examples/batch/k8s/ runs the same script as an Indexed
# Job, one shard (-s) per pod.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=examples/batch/jobs.sh
. "$here/jobs.sh"

usage() {
    cat <<EOF
usage: $0 [options] SRC DST [GLOB | -]
  Copies every file of MNT/SRC that GLOB matches (default '*.vmdk'; '-': the
  names on stdin, one a line) to MNT/DST, one parallel job per file.
  SRC and DST are directories of the mount: openstack/images,
  vcloud/catalogs/migrated ...
  -S LOGINS   the hosts, as parallel's --sshlogin: host1,8/alice@host2
              (N/ sets the jobs of that host; default ':', this host alone)
  -j N        jobs per host (default 2)
  -m MNT      the cloudfs mount on every host (default /mnt/clouds); a host
              where nothing is mounted there mounts cloudfs for the run
  -o OPTIONS  cloudfs -o options for such a mount (log=...,cache_dir=...)
  -c CLOUDFS  the cloudfs binary on the hosts (default: cloudfs)
  -s I/N      copy only shard I (0 to N-1) of N of the files
  -l JOBLOG   parallel's job log (default ./cloudfs-batch.joblog)
Each host mounts with its own clouds.yaml and cloudfs.yaml (~/.config/openstack/,
~/.config/cloudfs/, /etc/openstack/, /etc/cloudfs/, or -o config=...).
Further parallel options (--retries 2, --filter-hosts ...) go in \$PARALLEL.
EOF
    exit 2
}

logins=: jobs=2 mnt=/mnt/clouds opts="" cloudfs=cloudfs shard="" joblog=$PWD/cloudfs-batch.joblog
while getopts S:j:m:o:c:s:l:h opt; do
    case $opt in
    S) logins=$OPTARG ;;
    j) jobs=$OPTARG ;;
    m) mnt=$OPTARG ;;
    o) opts=$OPTARG ;;
    c) cloudfs=$OPTARG ;;
    s) shard=$OPTARG ;;
    l) joblog=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] && [ $# -le 3 ] || usage
src=$1 dst=$2 glob=${3:-*.vmdk}
if [ -n "$shard" ]; then
    [[ $shard =~ ^([0-9]+)/([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ] || {
        echo "$0: -s wants I/N with 0 <= I < N, not '$shard'" >&2
        exit 2
    }
fi
command -v parallel >/dev/null || { echo "$0: GNU parallel is missing (apt install parallel)" >&2; exit 2; }

export -f cfs_batch_mount cfs_batch_umount cfs_batch_list cfs_batch_copy
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cloudfs-batch.XXXXXX") || exit 2
mounted=()
finish() {
    # Only the hosts where this run mounted: a mount that was there stays.
    if [ ${#mounted[@]} -gt 0 ]; then
        parallel --nonall --tag -S "$(IFS=,; echo "${mounted[*]}")" --env cfs_batch_umount \
            -q cfs_batch_umount "$mnt"
    fi
    rm -rf "$tmp"
}
trap finish EXIT

# 1. A mount on every host. --nonall runs once per login; --tag prefixes
# each line with the login, so the hosts this run mounted are known.
parallel --nonall --tag -S "$logins" --env cfs_batch_mount -q cfs_batch_mount "$mnt" "$cloudfs" "$opts" \
    >"$tmp/mount" 2>&1
rc=$?
cat "$tmp/mount"
while IFS=$'\t' read -r login what; do
    [ "$what" = "mounted $mnt" ] && mounted+=("$login")
done <"$tmp/mount"
[ $rc = 0 ] || { echo "batch: not every host has its mount at $mnt: nothing copied" >&2; exit 1; }

# 2. The images, listed once (through the first host's mount), or from stdin.
if [ "$glob" = - ]; then
    cat >"$tmp/list"
else
    parallel --nonall -S "${logins%%,*}" --env cfs_batch_list -q cfs_batch_list "$mnt" "$src" "$glob" \
        >"$tmp/list" || { echo "batch: cannot list $mnt/$src" >&2; exit 1; }
fi
if [ -n "$shard" ]; then
    cfs_batch_shard "${shard%/*}" "${shard#*/}" <"$tmp/list" >"$tmp/shard"
    mv "$tmp/shard" "$tmp/list"
fi
total=$(grep -c '' "$tmp/list")
echo "batch: $total file(s) of $src${shard:+ (shard $shard)} to $dst, on ${logins}"

# 3. One job per image. The job log says which ran and which failed (its
# Seq is the image's line in the list), whatever a job printed or whether
# its host answered at all. A SIGTERM or SIGINT (^C) becomes a SIGHUP to
# parallel: it starts no new job and waits for the running ones. parallel
# and the copies run in a session of their own, so that a ^C reaches only
# this script: an INT or TERM would have parallel kill the copies halfway.
: >"$joblog" || exit 2
: >"$tmp/out"
if [ "$total" -gt 0 ]; then
    # (A background job of a script leads no process group: setsid execs
    # parallel itself, and $! is parallel.)
    setsid parallel -S "$logins" -j "$jobs" --joblog "$joblog" --env cfs_batch_copy \
        -q cfs_batch_copy "$mnt" "$src" "$dst" :::: "$tmp/list" >"$tmp/out" 2>&1 </dev/null &
    par=$!
    trap 'echo "batch: stopping: no new copy starts, the running ones finish" >&2; kill -HUP "$par" 2>/dev/null' TERM INT
    (trap '' INT TERM && exec tail -n +1 -f --pid="$par" "$tmp/out") &
    show=$!
    while kill -0 "$par" 2>/dev/null; do wait "$par"; done
    wait "$show"
    trap - TERM INT
fi

copied=$(grep -c '^copied ' "$tmp/out")
exists=$(grep -c '^exists ' "$tmp/out")
awk -F'\t' 'NR > 1 && NF >= 9 && ($7 != 0 || $8 != 0) { print $1 "\t" $2 "\t" $7 "\t" $8 }' "$joblog" |
    sort -n >"$tmp/failed"
failed=$(grep -c '' "$tmp/failed")
unrun=$((total - $(awk -F'\t' 'NR > 1 && NF >= 9' "$joblog" | grep -c '')))
notrun=""
[ "$unrun" -gt 0 ] && notrun=", $unrun not run"
echo "batch: $copied copied, $exists already there, $failed failed$notrun (job log: $joblog)"
if [ "$failed" -gt 0 ]; then
    echo "batch: failed (a re-run copies these, and what was not run, again):"
    while IFS=$'\t' read -r seq host code sig; do
        name=$(sed -n "${seq}p" "$tmp/list")
        why=$(P="failed $name: " awk 'index($0, ENVIRON["P"]) == 1 { print; exit }' "$tmp/out")
        [ "$sig" = 0 ] && sig="" || sig=", signal $sig"
        echo "  $name (host $host, exit $code$sig)${why:+: ${why#"failed $name: "}}"
    done <"$tmp/failed"
fi
[ "$failed" = 0 ] && [ "$unrun" = 0 ]
