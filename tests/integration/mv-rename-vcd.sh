#!/bin/bash
# mv of a template's file within its catalog renames the vApp template
# (PUT of the template, a task awaited): the same template id, every file
# of it follows, one log line. A rename whose task fails leaves the
# template under its name, and mv fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
a=mva$$ b=mvb$$ c=mvc$$
trap 'for n in $a $b $c; do vcd_remove migrated $n; done; vcd_knobs_reset; cleanup' EXIT
mount_vcd
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
qemu-img create -q -f qcow2 "$WORK/d.qcow2" 8M || fail "qemu-img create failed"
cp "$WORK/d.qcow2" "$MIGRATED/$a.qcow2" || fail "cp into the catalog failed"
id=$(vcd_template migrated "$a" id) || fail "no template $a"
ls "$MIGRATED" >"$WORK/ls.before"
files=$(grep "^$a\." "$WORK/ls.before") || fail "the catalog lists no file of $a"

mv "$MIGRATED/$a.vmdk" "$MIGRATED/$b.vmdk" 2>"$WORK/err" || fail "mv in the catalog failed: $(cat "$WORK/err")"
[ "$(vcd_template migrated "$b" id)" = "$id" ] || fail "template $b is not $id: $(vcd_template migrated "$b" id)"
[ "$(vcd_count migrated "$a")" = 0 ] || fail "a template named $a is left"
[ "$(log_count "renamed $a \($id\) to $b")" = 1 ] || fail "no single log line of the rename: $(grep -i renam "$LOG")"
[ "$(log_count "upload of .* bytes to")" = 1 ] || fail "the rename uploaded: $(grep "bytes to" "$LOG")"
for f in $files; do
    [ -e "$MIGRATED/$f" ] && fail "$f is still listed"
    [ -f "$MIGRATED/$b.${f#"$a".}" ] || fail "$b.${f#"$a".} is not listed"
done
qemu-img compare -q -f qcow2 -F vmdk "$WORK/d.qcow2" "$MIGRATED/$b.vmdk" || fail "the renamed template's disk differs"

# The server fails the rename's task: mv fails, the name stays.
vcd_knobs '{"rename_fail": true}'
mv "$MIGRATED/$b.vmdk" "$MIGRATED/$c.vmdk" 2>"$WORK/err" && fail "mv succeeded although vCD failed it"
[ "$(vcd_template migrated "$b" id)" = "$id" ] || fail "the failed rename changed template $b"
[ -f "$MIGRATED/$b.vmdk" ] || fail "$b.vmdk is gone after a failed rename"
[ -e "$MIGRATED/$c.vmdk" ] && fail "$c.vmdk is listed after a failed rename"
grep -q "renaming template $b to $c" "$LOG" || fail "no log line names the failed rename"
exit 0
