#!/bin/bash
# A migration never completes on a source that does not match its digest:
# with one byte flipped in every Glance response longer than 600000 bytes,
# cp of a .vmdk view into a vCD catalog, of the native qcow2 (converted by
# the vCD upload, which skips the qcow2's own tables) into the catalog, and
# of the .vmdk view into Glance, and of the native qcow2 into Glance as
# .raw (converted while it streams, tables skipped), and of the native qcow2 into Glance as
# it is (whose sha512 is not computed again: the source's stands for it) all fail with EIO, the log names the
# mismatch, and neither cloud keeps the new object. The proxy clean again,
# the same copy imports a disk identical to the source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
. "$(dirname "$0")/xfer.lib"
use_proxy
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
[ -d "$MNT/t/images" ] || fail "no cloud t: $(ls "$MNT")"
id=$(manifest openstack ext4 id)
orig=$(manifest openstack ext4 path)
a=corrupt$$ b=corruptn$$ c=corruptg$$ d=corruptr$$ e=corruptq$$
XFER_TEMPLATES=("migrated/$a" "migrated/$b")
trap 'xfer_cleanup; vcd_knobs_reset; cleanup' EXIT
ls "$MNT/t/images" >/dev/null || fail "listing failed"

mismatches() { log_count "(do|does) not match the cloud's|differ from the image's own"; }

copy_fails() { # SRC DST WHAT
    local before
    before=$(mismatches)
    timed 180 cp "$1" "$2" 2>"$WORK/err"
    [ $RC = 124 ] && fail "$3: cp hangs"
    [ $RC != 0 ] || fail "$3: cp of a corrupted source succeeded"
    grep -q 'Input/output error' "$WORK/err" || fail "$3: cp failed, but not with EIO: $(cat "$WORK/err")"
    [ "$(mismatches)" -gt "$before" ] || fail "$3: the log does not name the mismatch"
}

proxy_ctl add mode=corrupt "match=$id/file" count=-1 after=600000 || fail "proxy rule"
copy_fails "$MNT/t/images/ext4.vmdk" "$MIGRATED/$a.vmdk" "view into vCD"
[ "$(vcd_count migrated "$a")" = 0 ] || fail "view into vCD: the template of a corrupt copy stayed"
copy_fails "$MNT/t/images/ext4.qcow2" "$MIGRATED/$b.qcow2" "native qcow2 into vCD"
[ "$(vcd_count migrated "$b")" = 0 ] || fail "native into vCD: the template of a corrupt copy stayed"
copy_fails "$MNT/t/images/ext4.vmdk" "$MNT/t/images/$c.vmdk" "view into Glance"
[ -z "$(glance_named "$TOK1" "$c")" ] || fail "view into Glance: the image stayed: $(glance_named "$TOK1" "$c")"
copy_fails "$MNT/t/images/ext4.qcow2" "$MNT/t/images/$d.raw" "native qcow2 converted into Glance"
[ -z "$(glance_named "$TOK1" "$d")" ] || fail "converted into Glance: the image stayed: $(glance_named "$TOK1" "$d")"
copy_fails "$MNT/t/images/ext4.qcow2" "$MNT/t/images/$e.qcow2" "native qcow2 into Glance as it is"
[ -z "$(glance_named "$TOK1" "$e")" ] || fail "native into Glance: the image stayed: $(glance_named "$TOK1" "$e")"
[ "$(proxy_applied)" -ge 5 ] || fail "the proxy corrupted too little"
proxy_ctl clear

cfr_cp "$MNT/t/images/ext4.vmdk" "$MIGRATED/$a.vmdk"
check_imported migrated "$a" "$orig" qcow2
exit 0
