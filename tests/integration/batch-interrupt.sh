#!/bin/bash
# examples/batch/migrate.sh stopped as a terminal's ^C or a service
# manager stops it, by a signal to its whole process group, while a copy
# runs: that copy is not cut off but finishes (the new Glance image has the
# source's checksums), the next one never starts, migrate.sh says so (one
# not run), exits 1 and unmounts what it mounted. (SIGTERM stands in for
# SIGINT here: a script's background job starts with SIGINT ignored.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
MIGRATE=$TOP/examples/batch/migrate.sh
[ -x "$MIGRATE" ] || fail "no $MIGRATE"
command -v parallel >/dev/null || skip "GNU parallel missing (tests/deps.sh installs it)"
BMNT=$WORK/bmnt
trap 'fusermount3 -uz "$BMNT" 2>/dev/null; xfer_cleanup; cleanup' EXIT
[ "$(manifest openstack big size)" -gt $((1 << 30)) ] || skip "no big sample image"

# big.raw (2 GiB), then ext4-raw.raw, one at a time, in a process group of
# their own (setsid), as a shell's foreground job has.
setsid "$MIGRATE" -S : -j 1 -m "$BMNT" -c "$CLOUDFS" -o "cache_dir=$WORK/cache,log=$LOG" \
    -l "$WORK/joblog" openstack/images openstack2/images '[be]*.raw' >"$WORK/out" 2>&1 &
job=$!
BG_PIDS+=("$job")
wait_until 60 grep -qs 'upload of /openstack2/images/big.raw' "$LOG" || fail "the copy of big.raw did not start"
kill -TERM -- -"$job" || fail "no process group $job"
wait "$job"
rc=$?
echo "--- migrate.sh exited $rc"
cat "$WORK/out"
[ "$rc" = 1 ] || fail "the stopped run exited $rc, not 1"
grep -q '^batch: 1 copied, 0 already there, 0 failed, 1 not run ' "$WORK/out" ||
    fail "the summary: $(grep '^batch: .* copied' "$WORK/out")"
grep -qx 'copied big.raw' "$WORK/out" || fail "the running copy did not finish"
mountpoint -q "$BMNT" && fail "migrate.sh left its mount"
lines=$(glance_named "$TOK2" big)
[ "$(echo "$lines" | grep -c .)" = 1 ] || fail "want one image big in openstack2, Glance has: ${lines:-none}"
got=$(glance_image "$(echo "$lines" | cut -f1)" "$TOK2" | json_get os_hash_value)
want=$(glance_image "$(manifest openstack big id)" "$TOK1" | json_get os_hash_value)
[ -n "$got" ] && [ "$got" = "$want" ] || fail "the copy of big is not the source: $got, not $want"
[ -z "$(glance_named "$TOK2" ext4-raw)" ] || fail "the copy not yet started when stopped was made"
exit 0
