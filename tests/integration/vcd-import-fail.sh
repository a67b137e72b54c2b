#!/bin/bash
# An import the server refuses after the whole upload (the disk format, a
# too-new hardware version) makes cp fail with EIO, one log line names the
# cause, and no template is left behind; the same for a refused descriptor.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
src=$MNT/openstack/images/ext4.vmdk
for knob in '"import_fail": "format"' '"import_fail": "hwversion"' '"descriptor_invalid_reason": "test: bad descriptor"'; do
    vcd_knobs_reset
    vcd_knobs "{\"descriptor_delay\": 0.1, \"import_delay\": 0.2, $knob}"
    t=fail-$$-$RANDOM
    timed 120 cp "$src" "$MIGRATED/$t.vmdk" 2>"$WORK/err"
    [ "$RC" != 0 ] || fail "cp succeeded although the emulator fails the import ($knob)"
    grep -Eq 'Input/output error|Invalid argument' "$WORK/err" || fail "cp says: $(cat "$WORK/err")"
    wait_until 10 test "$(vcd_count migrated "$t")" = 0 || fail "a failed import left template $t ($knob)"
    [ "$(grep -c "$t" "$LOG" | head -1)" -ge 1 ] || fail "no log line names $t"
    grep -E "error.*$t|$t.*(refused|failed)" "$LOG" >/dev/null || fail "no error line for $t: $(grep "$t" "$LOG")"
done
ls "$MIGRATED" | grep -q "^fail-$$" && fail "a failed template is listed"
no_spool_left
echo "failed imports: cp fails, nothing left"
