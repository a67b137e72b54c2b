#!/bin/bash
# A file that is no disk the name agrees with never becomes a vApp
# template: a text file as migrated/bad.vmdk and as migrated/notes (raw
# content only as .raw, .img or .iso) fail with EINVAL, one log line names
# the reason, and vCD has no such template; a raw disk as .raw still imports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
raw=rawok$$
trap 'vcd_remove migrated bad; vcd_remove migrated notes; vcd_remove migrated $raw; vcd_knobs_reset; cleanup' EXIT
for f in bad.vmdk notes; do
    before=$(log_count "upload of .*$f refused")
    timed 60 cp /etc/services "$MIGRATED/$f" 2>"$WORK/err"
    [ $RC = 0 ] && fail "cp of a text file as $f succeeded"
    grep -q 'Invalid argument' "$WORK/err" || fail "$f: not EINVAL: $(cat "$WORK/err")"
    [ "$(log_count "upload of .*$f refused")" = $((before + 1)) ] || fail "$f: not one log line naming the refusal"
    [ "$(vcd_count migrated "${f%.vmdk}")" = 0 ] || fail "$f: vCD has a template of the text file"
done
truncate -s 1M "$WORK/disk.raw"
printf 'data' | dd of="$WORK/disk.raw" bs=1 seek=70000 conv=notrunc 2>/dev/null
timed 120 cp "$WORK/disk.raw" "$MIGRATED/$raw.raw"
[ $RC = 0 ] || fail "cp of a raw disk as .raw failed: $(tail -3 "$LOG")"
[ "$(vcd_template migrated "$raw" status)" = 8 ] || fail "the raw disk did not import"
exit 0
