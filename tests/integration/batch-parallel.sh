#!/bin/bash
# examples/batch/migrate.sh on this host (GNU parallel's login ':'), two
# jobs at once: it mounts cloudfs itself, copies each of four Glance images'
# .vmdk views into a vCD catalog (one job each; the templates are checked
# with qemu-img against the uploaded disks), lists the one image that cannot
# be converted as failed and exits 1, and unmounts. Run again, through a
# mount that was already there (and stays), it copies nothing: no upload in
# the cloudfs log, the same templates (ids) in vCD, and still that one
# failure. Names given on stdin instead are the jobs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/xfer.lib"
MIGRATE=$TOP/examples/batch/migrate.sh
[ -x "$MIGRATE" ] || fail "no $MIGRATE"
command -v parallel >/dev/null || skip "GNU parallel missing (tests/deps.sh installs it)"
BMNT=$WORK/bmnt   # the mount migrate.sh makes
trap 'fusermount3 -uz "$BMNT" 2>/dev/null; xfer_cleanup; vcd_knobs_reset; cleanup' EXIT

# Four small raw disks of random data, one "qcow2" that is text.
n=bp$$
names=()
for i in 1 2 3 4; do
    head -c $((i * 256 * 1024)) /dev/urandom >"$WORK/$n-$i.raw"
    glance_upload "$n-$i" "$WORK/$n-$i.raw" raw >/dev/null || fail "cannot upload $n-$i to Glance"
    names+=("$n-$i")
    XFER_TEMPLATES+=("migrated/$n-$i")
done
head -c 65536 /etc/services >"$WORK/text"
glance_upload "$n-bad" "$WORK/text" qcow2 >/dev/null || fail "cannot upload $n-bad to Glance"
XFER_TEMPLATES+=("migrated/$n-bad")

# run LABEL ARGS...: migrate.sh of the images $n-*.vmdk into the catalog
# migrated, its output in $WORK/LABEL, its exit status in RC.
run() {
    local label=$1
    shift
    timed 300 "$MIGRATE" -S 2/: -c "$CLOUDFS" -l "$WORK/$label.joblog" "$@" \
        openstack/images vcloud/catalogs/migrated "$n-*.vmdk" >"$WORK/$label" 2>&1
    echo "--- migrate.sh ($label) exited $RC"
    cat "$WORK/$label"
}
uploads() { log_count "upload of /vcloud/catalogs/migrated/$n-.*bytes to"; }
ids() {
    for name in "${names[@]}"; do echo "$name $(vcd_template migrated "$name" id)"; done
}

# 1. migrate.sh mounts, copies, reports, unmounts.
run first -m "$BMNT" -o "config=$CLOUDS_CLOUDFS_YAML,cache_dir=$WORK/cache,log=$LOG"
[ "$RC" = 1 ] || fail "the first run exited $RC, not 1 (one image cannot be converted)"
grep -qx ":	mounted $BMNT" "$WORK/first" || fail "the first run did not say it mounted $BMNT"
grep -qx 'batch: 4 copied, 0 already there, 1 failed .*' "$WORK/first" ||
    fail "the first run's summary: $(grep '^batch: .* copied' "$WORK/first")"
grep -A1 -x 'batch: failed .*' "$WORK/first" | grep -q "^  $n-bad.vmdk (host :, exit 1)" ||
    fail "the failure is not listed at the end"
mountpoint -q "$BMNT" && fail "migrate.sh left its mount at $BMNT"
for name in "${names[@]}"; do
    check_imported migrated "$name" "$WORK/$name.raw" raw
done
[ "$(vcd_count migrated "$n-bad")" = 0 ] || fail "the failed image left a template"
# Two jobs ran at once: some job started before the one before it ended.
awk -F'\t' 'NR > 1 { printf "%.3f %.3f\n", $3, $3 + $4 }' "$WORK/first.joblog" | sort -n |
    awk 'NR > 1 && $1 < end { overlap = 1 } { if ($2 > end) end = $2 } END { exit !overlap }' ||
    fail "no two jobs ran at the same time: $(cat "$WORK/first.joblog")"
[ "$(uploads)" = 4 ] || fail "$(uploads) uploads in the log after the first run, not 4"
ids >"$WORK/ids1"

# 2. Again, through an existing mount: nothing copied, the mount stays.
mount_vcd
run second -m "$MNT"
[ "$RC" = 1 ] || fail "the second run exited $RC, not 1"
grep -qx 'batch: 0 copied, 4 already there, 1 failed .*' "$WORK/second" ||
    fail "the second run's summary: $(grep '^batch: .* copied' "$WORK/second")"
grep -q "^  $n-bad.vmdk " "$WORK/second" || fail "the second run does not list the failure"
grep -q "mounted $MNT" "$WORK/second" && fail "the second run mounted over an existing mount"
mountpoint -q "$MNT" || fail "the second run unmounted a mount it did not make"
[ "$(uploads)" = 4 ] || fail "the second run uploaded: $(uploads) uploads in the log"
ids >"$WORK/ids2"
cmp -s "$WORK/ids1" "$WORK/ids2" || fail "the templates changed: $(diff "$WORK/ids1" "$WORK/ids2")"
for name in "${names[@]}"; do
    [ "$(vcd_count migrated "$name")" = 1 ] || fail "$name: $(vcd_count migrated "$name") templates"
done

# 3. The names on stdin ('-' for GLOB): those, and only those, are jobs.
printf '%s\n' "$n-2.vmdk" "$n-4.vmdk" >"$WORK/names"
timed 300 "$MIGRATE" -S 2/: -c "$CLOUDFS" -l "$WORK/third.joblog" -m "$MNT" \
    openstack/images vcloud/catalogs/migrated - <"$WORK/names" >"$WORK/third" 2>&1
cat "$WORK/third"
[ "$RC" = 0 ] || fail "the run of names on stdin exited $RC"
grep -qx 'batch: 0 copied, 2 already there, 0 failed .*' "$WORK/third" ||
    fail "the run of names on stdin: $(grep '^batch: .* copied' "$WORK/third")"
[ "$(uploads)" = 4 ] || fail "the run of names on stdin uploaded"
exit 0
