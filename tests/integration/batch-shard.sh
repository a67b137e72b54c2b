#!/bin/bash
# The pods of examples/batch/k8s/job.yaml, run here as the Job runs them:
# three at once, each examples/batch/k8s/pod.sh with its JOB_COMPLETION_INDEX
# of SHARDS=3 and the clouds in OS_CLIENT_CONFIG_FILE and CLOUDFS_CONFIG,
# its own cloudfs mount. Pod I copies exactly the images whose name's cksum
# is I modulo 3 (so no two pods copy one image, and together they copy all;
# Glance to Glance, checked with Glance's API and sha256), and unmounts.
# Run again, as a Job applied anew, the pods copy nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
POD=$TOP/examples/batch/k8s/pod.sh
[ -x "$POD" ] || fail "no $POD"
command -v parallel >/dev/null || skip "GNU parallel missing (tests/deps.sh installs it)"
trap 'for i in 0 1 2; do fusermount3 -uz "$WORK/pod$i" 2>/dev/null; done; xfer_cleanup; cleanup' EXIT

# shard_of NAME: the shard of a file name, by POSIX cksum.
shard_of() {
    local sum
    sum=$(printf '%s' "$1" | cksum)
    echo $((${sum%% *} % 3))
}
# Images enough that every shard has one (names are per test run).
n=bk$$
declare -A want=()
i=0
while [ $i -lt 40 ]; do
    i=$((i + 1))
    s=$(shard_of "$n-$i.raw")
    [ -n "${want[$s]:-}" ] && [ $i -gt 4 ] && continue
    want[$s]="${want[$s]:-} $n-$i.raw"
    head -c $((i * 64 * 1024)) /dev/urandom >"$WORK/$n-$i.raw"
    glance_upload "$n-$i" "$WORK/$n-$i.raw" raw >/dev/null || fail "cannot upload $n-$i to Glance"
    [ ${#want[@]} = 3 ] && [ $i -ge 4 ] && break
done
[ ${#want[@]} = 3 ] || fail "no names found for every shard"

# pods LABEL: the three pods at once; pod I's output in $WORK/LABEL.I.
pods() {
    local pids=() i
    for i in 0 1 2; do
        env TMPDIR="$WORK" JOB_COMPLETION_INDEX=$i SHARDS=3 JOBS=2 CLOUDFS="$CLOUDFS" CLOUDFS_MOUNT="$WORK/pod$i" \
            CLOUDFS_OPTIONS="cache_dir=$WORK/cache$i,log=$WORK/pod$i.log" CLOUDFS_CONFIG="$CLOUDS_CLOUDFS_YAML" \
            timeout 300 "$POD" openstack/images openstack2/images "$n-*.raw" >"$WORK/$1.$i" 2>&1 &
        pids+=($!)
    done
    for i in 0 1 2; do
        wait "${pids[$i]}"
        rc=$?
        echo "--- pod $i ($1) exited $rc"
        cat "$WORK/$1.$i"
        [ $rc = 0 ] || fail "pod $i ($1) exited $rc"
        mountpoint -q "$WORK/pod$i" && fail "pod $i left its mount"
    done
    return 0
}
copied() { sed -n 's/^copied //p' "$WORK/$1.$2" | LC_ALL=C sort | xargs; }
sorted() { printf '%s\n' $1 | LC_ALL=C sort | xargs; }

pods first
for s in 0 1 2; do
    [ "$(copied first $s)" = "$(sorted "${want[$s]}")" ] ||
        fail "pod $s copied '$(copied first $s)', not shard $s: '$(sorted "${want[$s]}")'"
done
for s in 0 1 2; do
    for f in ${want[$s]}; do
        name=${f%.raw}
        lines=$(glance_named "$TOK2" "$name")
        [ "$(echo "$lines" | grep -c .)" = 1 ] || fail "$name: want one image in openstack2, Glance has: ${lines:-none}"
        glance_fetch "$TOK2" "$(echo "$lines" | cut -f1)" "$WORK/got" || fail "$name: cannot download it"
        [ "$(sha256_of "$WORK/got")" = "$(sha256_of "$WORK/$f")" ] || fail "$name: the copy differs"
    done
done
glance_list "$TOK2" | cut -f1 | sort >"$WORK/ids1"

pods again
for s in 0 1 2; do
    [ -z "$(copied again $s)" ] || fail "pod $s copied again: $(copied again $s)"
    grep -q "^batch: 0 copied, $(echo ${want[$s]} | wc -w) already there, 0 failed" "$WORK/again.$s" ||
        fail "pod $s, again: $(grep '^batch: .* copied' "$WORK/again.$s")"
done
glance_list "$TOK2" | cut -f1 | sort | cmp -s - "$WORK/ids1" || fail "openstack2's images changed on the second run"
exit 0
