#!/bin/bash
# A vCD export is written to the cache directory, so it obeys cache_reserve:
# when its files (the descriptor's ovf:size) would eat into the reserve, the
# open fails with ENOSPC and a log line naming cache_reserve, and nothing is
# written; with room, the same read works. The exports a mount keeps for
# later opens are bounded by cache_size: past it the least recently opened
# one is dropped (its files removed) and exported again when next read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
d=$MNT/vcloud/catalogs/golden
mkdir -p "$WORK/cache"
free_mib() { df -Pm "$WORK/cache" | awk 'NR == 2 { print $4 }'; }
exports_left() { find "$WORK/cache" -mindepth 1 -maxdepth 1 -name 'vcloud-*' | wc -l; }

# A reserve above the free space: no export can be written.
mount_vcd -o "clouds=vcloud,cache_reserve=$(($(free_mib) + 102400))"
f=$(ls "$d"/*.vmdk | head -1)
[ -n "$f" ] || fail "no template in the golden catalog"
timed 120 cp "$f" "$WORK/got.vmdk" 2>"$WORK/err"
[ "$RC" = 124 ] && fail "cp hangs"
[ "$RC" != 0 ] || fail "an export was written into cache_reserve"
grep -q 'No space left on device' "$WORK/err" || fail "cp failed, but not with ENOSPC: $(cat "$WORK/err")"
[ "$(log_count 'would leave less than cache_reserve')" = 1 ] || fail "no log line names cache_reserve: $(grep -i reserve "$LOG")"
[ "$(exports_left)" = 0 ] || fail "the refused export left files: $(ls "$WORK/cache")"
unmount_cloudfs

# Room for it (a reserve well below the free space): the read works.
mount_vcd -o "clouds=vcloud,cache_reserve=$(($(free_mib) - 1024)),cache_size=3"
timed 120 cp "$f" "$WORK/got.vmdk"
[ "$RC" = 0 ] || fail "cp failed ($RC) with room above cache_reserve"
qemu-img compare -q -f vmdk -F vmdk "$(vcd_disk golden "$(basename "$f" .vmdk)")" "$WORK/got.vmdk" ||
    fail "the read differs from the template's disk"

# cache_size=3 (MiB) keeps one golden export (each is 1.8-2.8 MiB), not two.
g=$(ls "$d"/*.vmdk | sed -n 2p)
timed 120 cp "$g" "$WORK/got2.vmdk"
[ "$RC" = 0 ] || fail "cp of a second template failed ($RC)"
[ "$(exports_left)" = 1 ] || fail "$(exports_left) exports kept in the cache directory, cache_size allows one"
[ "$(log_count 'dropping the export of')" -ge 1 ] || fail "no log line says an export was dropped"
timed 120 cp "$f" "$WORK/got3.vmdk"
[ "$RC" = 0 ] || fail "reading the dropped template again failed ($RC)"
cmp -s "$WORK/got.vmdk" "$WORK/got3.vmdk" || qemu-img compare -q -f vmdk -F vmdk "$WORK/got.vmdk" "$WORK/got3.vmdk" ||
    fail "the dropped template read again differs"
[ "$(log_count "exported template $(basename "$f" .vmdk):")" = 2 ] || fail "the dropped template was not exported again"
echo "exports obey cache_reserve (ENOSPC) and cache_size (one kept)"
