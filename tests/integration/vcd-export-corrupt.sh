#!/bin/bash
# vCD gives no digest of an export: one byte flipped in the disk's download
# (the vCD fault proxy, inside a grain's zlib stream) makes cp of the
# template's .vmdk fail with EIO and one log line naming the corrupt grain;
# nothing of the bad export stays in the cache directory, and the next read
# in the same mount (the proxy clean) exports the template again and gives
# the template's disk (qemu-img compare with the emulator's), not the bad copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
[ -n "${CLOUDS_VCD_FAULTPROXY_URL:-}" ] || skip "no fault proxy in front of the emulator"
fp() { curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/$1" >/dev/null; }
fp_stats() { curl -sf "$CLOUDS_VCD_FAULTPROXY_URL/__fault/stats"; }
fp "clear?stats=1" || fail "the vCD fault proxy does not answer"
trap 'fp clear; vcd_knobs_reset; cleanup' EXIT
disk_gets() { # GETs of an exported disk the proxy has answered since it was cleared
    fp_stats | "$PY" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["recent"] if r["method"] == "GET" and r["path"].endswith(".vmdk") and "/transfer/" in r["path"]))'
}

mount_vcd -o clouds=vcloud-proxy
d=$MNT/vcloud-proxy/catalogs/golden
f=$(ls "$d"/*.vmdk | head -1)
[ -n "$f" ] || fail "no template in the golden catalog"
name=$(basename "$f" .vmdk)
stored=$(vcd_disk golden "$name")
[ -f "$stored" ] || fail "$name: the emulator has no disk for it"

# A clean export first (another mount): where its grains' zlib streams lie.
# The emulator's export is qemu-img's, the same bytes each time.
timed 120 cp "$f" "$WORK/clean.vmdk"
[ "$RC" = 0 ] || fail "a clean read of $name.vmdk failed ($RC)"
off=$("$PY" - "$WORK/clean.vmdk" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
off, best = struct.unpack_from("<Q", b, 64)[0] * 512, None
while off + 16 <= len(b):
    lba, size = struct.unpack_from("<QI", b, off)
    if size == 0:
        break
    if best is None or size > best[1]:
        best = (off, size)
    off = (off + 12 + size + 511) // 512 * 512
print(best[0] + 12 + best[1] // 2)
PY
) || fail "cannot find a grain in the clean export"
unmount_cloudfs
rm -rf "$WORK/cache"

mount_vcd -o clouds=vcloud-proxy
fp "clear?stats=1"
fp "add?mode=corrupt&method=GET&match=.vmdk&count=1&after=$off" || fail "cannot add the proxy's corrupt rule"
timed 120 cp "$f" "$WORK/bad.vmdk" 2>"$WORK/err"
[ "$RC" = 124 ] && fail "cp hangs"
[ "$(disk_gets)" = 1 ] || fail "the proxy saw $(disk_gets) GETs of the disk, expected 1"
[ "$RC" != 0 ] || fail "cp of a corrupted export succeeded"
grep -q 'Input/output error' "$WORK/err" || fail "cp failed, but not with EIO: $(cat "$WORK/err")"
[ "$(log_count 'corrupt VMDK: grain')" = 1 ] || fail "no one log line names the corrupt grain: $(grep -i corrupt "$LOG")"
left=$(find "$WORK/cache" -path '*vcloud-*' 2>/dev/null | head -3)
[ -z "$left" ] || fail "the bad export left files in the cache directory: $left"

fp clear
timed 120 cp "$f" "$WORK/again.vmdk"
[ "$RC" = 0 ] || fail "reading $name.vmdk again after the corrupt export failed ($RC)"
[ "$(disk_gets)" = 2 ] || fail "the second read did not export the disk again ($(disk_gets) GETs)"
qemu-img compare -q -f vmdk -F vmdk "$stored" "$WORK/again.vmdk" || fail "$name.vmdk read again differs from the template's disk"
cmp -s "$WORK/clean.vmdk" "$WORK/again.vmdk" || echo "note: the second export's bytes differ from the first's (same disk)"
echo "corrupt export refused (flip at byte $off), fetched again and right"
