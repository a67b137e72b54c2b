#!/bin/bash
# A second cp to a template name the catalog already holds fails with
# EEXIST ("File exists") and leaves the catalog as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
src=$MNT/openstack/images/ext4.vmdk
cp "$src" "$MIGRATED/dup-$$.vmdk" || fail "the first cp failed"
[ "$(vcd_template migrated "dup-$$" status)" = 8 ] || fail "the first template is not complete"
timed 60 cp "$src" "$MIGRATED/dup-$$.vmdk" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "the second cp to the same name succeeded"
grep -q 'File exists' "$WORK/err" || fail "cp says: $(cat "$WORK/err") (expected File exists)"
[ "$(vcd_count migrated "dup-$$")" = 1 ] || fail "$(vcd_count migrated "dup-$$") templates named dup-$$"
# The emulator's own DUPLICATE_NAME answer (the pre-check raced): same errno.
vcd_knobs '{"duplicate_name_code": 500}'
timed 60 cp "$src" "$MIGRATED/dup-$$.vmdk" 2>"$WORK/err"
[ "$RC" != 0 ] && grep -q 'File exists' "$WORK/err" || fail "with a 500 DUPLICATE_NAME: $(cat "$WORK/err")"
vcd_remove migrated "dup-$$"
no_spool_left
echo "duplicate refused with EEXIST"
