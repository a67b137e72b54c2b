#!/bin/bash
# SIGTERM while a slow upload into a vCD catalog runs: fusermount3 -u is
# refused (busy) while the cp waits in close(), the upload completes
# (status 8), then cloudfs unmounts and exits 0. With unmount_timeout=1 the
# upload is cancelled instead: the cp fails, no template is left, and
# cloudfs exits 0. A second SIGINT cancels at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
[ -n "${CLOUDS_VCD_FAULTPROXY_URL:-}" ] || skip "no fault proxy in front of the emulator"
fault() { curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/$1" >/dev/null; }
fault "clear?stats=1" || fail "the vCD fault proxy does not answer"
trap 'fault clear; vcd_knobs_reset; cleanup' EXIT
gone() { ! kill -0 "$CFS_PID" 2>/dev/null; }
has() { [ "$(vcd_count migrated "$1")" = "$2" ]; }   # has NAME COUNT
transfer_seen() { curl -sf "$CLOUDS_VCD_FAULTPROXY_URL/__fault/stats" | grep -q '/transfer/'; }
src=$MNT/openstack/images/ext4-compressed.vmdk

# slow_upload RATE NAME: cp into the catalog through the slowed proxy, in
# the background (CP_PID); returns once the template exists and bytes flow.
slow_upload() {
    fault "add?mode=slow&on=request&method=PUT&match=/transfer/&rate=$1&count=-1" ||
        fail "cannot slow the proxy down"
    cp "$src" "$MNT/vcloud-proxy/catalogs/migrated/$2.vmdk" 2>"$WORK/cp.err" &
    CP_PID=$!
    BG_PIDS+=("$CP_PID")
    wait_until 60 has "$2" 1 || fail "no template $2 appeared"
    wait_until 30 transfer_seen || fail "no transfer PUT reached the proxy"
}

# 1. Finish: the view is ~12 MiB, ~12 s of transfer at 1 MiB/s.
mount_vcd -o clouds=vcloud-proxy:openstack
t=finish-$$
slow_upload 1048576 "$t"
fusermount3 -u "$MNT" 2>"$WORK/umount.err" && fail "fusermount3 -u succeeded while cp waits in close()"
grep -qi busy "$WORK/umount.err" || fail "fusermount3 -u did not say busy: $(cat "$WORK/umount.err")"
kill -TERM "$CFS_PID"
wait "$CP_PID"
rc=$?
[ $rc = 0 ] || fail "cp exited $rc after SIGTERM (should finish): $(cat "$WORK/cp.err")"
[ "$(vcd_template migrated "$t" status)" = 8 ] || fail "template $t is not complete"
wait_until 20 gone || fail "cloudfs still runs 20 s after the upload finished"
wait "$CFS_PID"
rc=$?
CFS_PID=
[ $rc = 0 ] || fail "cloudfs exited $rc after SIGTERM"
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
[ "$(log_count 'finishing 1 upload')" = 1 ] || fail "the log does not say it waits for the upload"
vcd_remove migrated "$t"
fault clear

# 2. Cancel: ~50 s of transfer at 256 KiB/s, unmount_timeout=1.
mount_vcd -o clouds=vcloud-proxy:openstack,unmount_timeout=1
t=cancel-$$
slow_upload 262144 "$t"
t0=$(now_ms)
kill -TERM "$CFS_PID"
wait "$CP_PID"
rc=$?
[ $rc != 0 ] || fail "cp succeeded although its upload was cancelled"
wait_until 30 gone || fail "cloudfs still runs 30 s after SIGTERM with unmount_timeout=1"
wait "$CFS_PID"
rc=$?
CFS_PID=
ms=$(($(now_ms) - t0))
[ $rc = 0 ] || fail "cloudfs exited $rc after cancelling"
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
[ "$(vcd_count migrated "$t")" = 0 ] || fail "the cancelled upload left template $t"
[ "$(log_count 'unmount_timeout: cancelling 1 upload')" = 1 ] || fail "the log does not say it cancelled"
no_spool_left
fault clear

# 3. A second signal cancels at once (SIGINT twice, as Ctrl-C twice).
mount_vcd -o clouds=vcloud-proxy:openstack
t=twice-$$
slow_upload 262144 "$t"
kill -INT "$CFS_PID"
sleep 1
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs ended at the first SIGINT during an upload"
kill -INT "$CFS_PID"
wait "$CP_PID" && fail "cp succeeded although its upload was cancelled"
wait_until 30 gone || fail "cloudfs still runs 30 s after the second SIGINT"
wait "$CFS_PID"
rc=$?
CFS_PID=
[ $rc = 0 ] || fail "cloudfs exited $rc after cancelling"
[ "$(vcd_count migrated "$t")" = 0 ] || fail "the cancelled upload left template $t"
[ "$(log_count 'a second signal: cancelling 1 upload')" = 1 ] || fail "the log does not say the second signal cancelled"
echo "SIGTERM: upload finished (status 8), exit 0; unmount_timeout=1: cancelled in $ms ms, nothing left, exit 0; a second SIGINT cancels"
