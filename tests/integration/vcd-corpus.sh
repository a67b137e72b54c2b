#!/bin/bash
# Real-world images (../shared/corpus) copied into a catalog: each disk the
# corpus README calls readable becomes a template equal to it; the broken
# ones make cp fail and leave no template behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
corpus=$TOP/../shared/corpus
[ -d "$corpus" ] || corpus=/work/shared/corpus
[ -d "$corpus" ] || skip "no corpus"
mount_vcd
for f in ext2.qcow2:qcow2 windows_volume.qcow2:qcow2 ext2.vmdk:vmdk ext2.vhd:vpc iso9660.raw:raw; do
    file=${f%%:*} fmt=${f##*:}
    t=corpus-${file%%.*}-${file##*.}
    timed 120 cp "$corpus/$file" "$MIGRATED/$t.${file##*.}"
    [ "$RC" = 0 ] || fail "cp $file into migrated/ exited $RC"
    check_imported migrated "$t" "$corpus/$file" "$fmt"
    vcd_remove migrated "$t"
done
for file in fat-differential.vhd image.vhd image-differential.vhd; do
    t=corpus-bad-${file%%.*}
    timed 60 cp "$corpus/$file" "$MIGRATED/$t.vhd" 2>"$WORK/err"
    [ "$RC" != 0 ] || fail "cp of the broken $file succeeded"
    [ "$(vcd_count migrated "$t")" = 0 ] || fail "the broken $file left a template"
    grep -q "$t" "$LOG" || fail "no log line names $t"
done
no_spool_left
echo "corpus: 5 imported, 3 refused"
