#!/bin/bash
# rm and stored times in a catalog: touch -d stores the time on the
# template (catalog item metadata cloudfs_mtime) for all its files, also
# after a remount, and a time set while a file is written (cp -p) is
# stored once it is uploaded; rm is EACCES without allow_delete, with it
# rm of any file of a template deletes the template; a read-only catalog
# keeps its templates (EACCES).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd

mig=$MNT/vcloud/catalogs/migrated
name=m$$
src=$(manifest openstack ext4-compressed path)
cp "$src" "$WORK/$name.qcow2"
touch -d '2019-03-04 05:06:07' "$WORK/$name.qcow2"
timed 300 cp -p "$WORK/$name.qcow2" "$mig/"
[ "$RC" = 0 ] || fail "cp -p into the catalog: exit $RC"
[ "$(vcd_count migrated "$name")" = 1 ] || fail "no template $name"
[ "$(stat -c %Y "$mig/$name.ovf")" = 1551675967 ] || fail "cp -p: the time was not stored ($(stat -c %y "$mig/$name.ovf"))"

rm -f "$mig/$name.ova" 2>"$WORK/err" && fail "rm without allow_delete succeeded"
grep -q "Permission denied" "$WORK/err" || fail "rm: not EACCES: $(cat "$WORK/err")"

touch -d '2021-05-06 07:08:09.5' "$mig/$name.ovf" || fail "touch -d failed"
for f in ova ovf vmdk; do
    [ "$(stat -c %y "$mig/$name.$f")" = "2021-05-06 07:08:09.500000000 +0000" ] ||
        fail "$name.$f: $(stat -c %y "$mig/$name.$f")"
done
unmount_cloudfs
mount_vcd -o allow_delete
[ "$(stat -c %Y "$mig/$name.vmdk")" = 1620284889 ] || fail "the time is lost after a remount"

ro=$MNT/vcloud/catalogs/readonly
f=$(ls "$ro" | head -1)
rm "$ro/$f" 2>"$WORK/err" && fail "rm in a read-only catalog succeeded"
grep -q "Permission denied\|Read-only" "$WORK/err" || fail "rm in a read-only catalog: $(cat "$WORK/err")"

rm "$mig/$name.vmdk" || fail "rm with allow_delete failed"
[ "$(vcd_count migrated "$name")" = 0 ] || fail "the template is still in the catalog"
ls "$mig" | grep -q "^$name\." && fail "files of the removed template are still listed"
[ "$(log_count "removed $name \(.*\) from vcloud")" = 1 ] || fail "no single log line for the removal"
exit 0
