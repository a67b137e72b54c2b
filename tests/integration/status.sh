#!/bin/bash
# Seeing transfers: /.cloudfs/status lists a running upload (done < total,
# a rate) while a slowed cp runs, then "done"; a refused import is listed
# "failed" with its error; `cloudfs status` prints the table with a
# progress bar; each upload has one start and one end line in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
[ -n "${CLOUDS_VCD_FAULTPROXY_URL:-}" ] || skip "no fault proxy in front of the emulator"
curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/clear" >/dev/null || fail "the vCD fault proxy does not answer"
trap 'curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/clear" >/dev/null; vcd_knobs_reset; cleanup' EXIT
mount_vcd -o clouds=vcloud-proxy:openstack
STATUS=$MNT/.cloudfs/status

# transfer_field NAME KEY: KEY of the (last) transfer whose path ends in NAME.
transfer_field() {
    "$PY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="replace")]
hits = [r for r in rows if r["path"].endswith("/" + sys.argv[2])]
if not hits:
    sys.exit(1)
v = hits[-1][sys.argv[3]]
print("null" if v is None else v)' "$STATUS" "$@"
}

# The control directory: hidden from ls, listed by ls -a, read-only.
ls "$MNT" | grep -q cloudfs && fail "ls shows .cloudfs"
ls -a "$MNT" | grep -qx .cloudfs || fail "ls -a does not show .cloudfs: $(ls -a "$MNT" | tr '\n' ' ')"
[ "$(stat -c %a "$MNT/.cloudfs")" = 500 ] || fail ".cloudfs has mode $(stat -c %a "$MNT/.cloudfs")"
[ "$(ls "$MNT/.cloudfs")" = status ] || fail ".cloudfs holds: $(ls "$MNT/.cloudfs")"
[ "$(stat -c %a:%s "$STATUS")" = 400:0 ] || fail "status: mode:size $(stat -c %a:%s "$STATUS")"
[ -z "$(cat "$STATUS")" ] || fail "transfers before any upload: $(cat "$STATUS")"
"$CLOUDFS" status "$MNT" --once | grep -q 'no transfers' || fail "cloudfs status on an idle mount: $("$CLOUDFS" status "$MNT" --once)"
echo x 2>/dev/null >"$STATUS" && fail "status is writable"

# Not a mount: exit 1 with a message.
out=$("$CLOUDFS" status "$WORK" --once 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "cloudfs status on a plain directory exits $rc"
grep -q "not a cloudfs mount" <<<"$out" || fail "cloudfs status on a plain directory says: $out"

# A slow upload: ~12 MB at 2 MiB/s.
curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/add?mode=slow&on=request&method=PUT&match=/transfer/&rate=2097152&count=-1" >/dev/null ||
    fail "cannot slow the proxy down"
t=status-$$
cp "$MNT/openstack/images/ext4.vmdk" "$MNT/vcloud-proxy/catalogs/migrated/$t.vmdk" 2>"$WORK/cp.err" &
CP=$!
BG_PIDS+=("$CP")
running() {
    [ "$(transfer_field "$t.vmdk" state 2>/dev/null)" = running ] &&
        [ "$(transfer_field "$t.vmdk" done)" -gt 0 ] 2>/dev/null
}
wait_until 60 running || fail "no running transfer with bytes done in the status: $(cat "$STATUS")"
sleep 1.5 # a window of rate
cat "$STATUS" >"$WORK/running.json"
"$PY" - "$WORK/running.json" "$t.vmdk" <<'PY' || fail "running transfer: $(cat "$WORK/running.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = [r for r in rows if r["path"].endswith("/" + sys.argv[2])]
assert len(r) == 1, rows
r = r[0]
assert r["path"] == "/vcloud-proxy/catalogs/migrated/" + sys.argv[2], r
# cp between two paths of the mount: the copy_file_range path, a "copy".
assert r["direction"] == "copy" and r["from"] == "/openstack/images/ext4.vmdk", r
assert r["state"] == "running" and r["error"] is None and r["ended"] is None, r
assert 0 < r["done"] < r["total"], r
assert r["rate"] > 0, r
assert r["started"] > 1e9, r
PY
"$CLOUDFS" status "$MNT" --once >"$WORK/table" || fail "cloudfs status exited $?"
grep "$t.vmdk" "$WORK/table" | grep -E 'copy .*[0-9]+% +\[#+-*\] .*/s +running' >/dev/null ||
    fail "no row with a progress bar: $(cat "$WORK/table")"
# Not a terminal: one print, no escape codes.
grep -q $'\033' "$WORK/table" && fail "escape codes when not a terminal"
[ "$(grep -c PATH "$WORK/table")" = 1 ] || fail "printed more than once: $(cat "$WORK/table")"
wait "$CP" || fail "cp exited $?: $(cat "$WORK/cp.err")"
[ "$(transfer_field "$t.vmdk" state)" = done ] || fail "after cp: $(cat "$STATUS")"
[ "$(transfer_field "$t.vmdk" done)" = "$(transfer_field "$t.vmdk" total)" ] || fail "done != total: $(cat "$STATUS")"
[ "$(transfer_field "$t.vmdk" ended)" != null ] || fail "no end time: $(cat "$STATUS")"
curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/clear" >/dev/null

# A refused import: failed, with its error.
f=status-fail-$$
vcd_knobs '{"import_fail": "format"}'
cp "$MNT/openstack/images/ext4-compressed.vmdk" "$MNT/vcloud-proxy/catalogs/migrated/$f.vmdk" 2>/dev/null &&
    fail "cp succeeded although the emulator fails the import"
vcd_knobs_reset
[ "$(transfer_field "$f.vmdk" state)" = failed ] || fail "a failed upload: $(cat "$STATUS")"
err=$(transfer_field "$f.vmdk" error)
[ "$err" = "Input/output error" ] || [ "$err" = "Invalid argument" ] || fail "failed upload's error: $err"
"$CLOUDFS" status "$MNT" --once | grep "$f.vmdk" | grep -q "failed *$err" ||
    fail "the table does not show the failure: $("$CLOUDFS" status "$MNT" --once)"

# The log: one start and one end line per upload, the failure with its cause.
for n in "$t" "$f"; do
    [ "$(log_count "upload of [^ ]*/$n\.vmdk: [0-9]+ bytes to")" = 1 ] || fail "start lines of $n: $(grep "$n" "$LOG")"
    [ "$(log_count "upload of [^ ]*/$n\.vmdk: (done in|failed after)")" = 1 ] || fail "end lines of $n: $(grep "$n" "$LOG")"
done
grep -q "upload of [^ ]*/$f\.vmdk: failed after .*: $err" "$LOG" || fail "no failure line with its error: $(grep "$f" "$LOG")"
grep -q "error: .*$f\.vmdk.*not a supported disk format" "$LOG" || fail "no line with the cloud's reason: $(grep "$f" "$LOG")"
vcd_remove migrated "$t"
echo "transfers: running with progress and rate, done, failed with its error; cloudfs status prints them"
