#!/bin/bash
# What cannot become a template is refused early and clearly: a catalog
# without the upload right is read-only (EROFS before any byte is spooled),
# a lone .ovf is EINVAL with a log line saying what to copy instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
timed 30 cp "$MNT/openstack/images/ext4.vmdk" "$MNT/vcloud/catalogs/readonly/x-$$.vmdk" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp into the read-only catalog succeeded"
grep -q 'Read-only file system' "$WORK/err" || fail "cp into readonly/ says: $(cat "$WORK/err")"
timed 30 cp "$MNT/openstack/images/ext4.ovf" "$MIGRATED/lone-$$.ovf" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp of a lone .ovf succeeded"
grep -q 'Invalid argument' "$WORK/err" || fail "cp of a lone .ovf says: $(cat "$WORK/err")"
grep -q '\.ova' "$LOG" || fail "the log does not say to copy the .ova: $(tail -3 "$LOG")"
[ "$(vcd_count migrated "lone-$$")" = 0 ] || fail "a lone .ovf made a template"
mkdir "$MIGRATED/newdir" 2>/dev/null && fail "mkdir in a catalog succeeded"
no_spool_left
echo "read-only catalog and lone .ovf refused"
