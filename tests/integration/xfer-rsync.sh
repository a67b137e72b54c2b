#!/bin/bash
# rsync -a between clouds of one mount (the write path: rsync writes
# .NAME.XXXXXX, closes it, renames it to NAME, then sets its mtime):
# Glance to Glance, Glance to vCD and vCD to Glance. Each result is checked
# outside cloudfs with qemu-img compare against the original source (the
# image downloaded from Glance with curl, the emulator's stored disk); the
# staged dot-file never becomes an image; no spool file stays, and the cache
# dir is empty after unmounting (the template's export, read from vCD, stays
# there while mounted); a second identical rsync -a into Glance transfers
# nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/xfer.lib"
command -v rsync >/dev/null || skip "rsync missing"
mount_vcd

n=x$$
qcow=$MNT/openstack/images/ext4.qcow2                        # native qcow2
view=$MNT/openstack/images/ext4.vmdk                         # its streamOptimized view
gold=$MNT/vcloud/catalogs/golden/debian-12-golden.vmdk       # a template's disk
orig=$(manifest openstack ext4 path)
orig_gold=$(vcd_disk golden debian-12-golden)
[ -f "$orig" ] && [ -f "$orig_gold" ] || fail "no original source files ($orig, $orig_gold)"
XFER_TEMPLATES+=("migrated/$n-g2v")

# rs LABEL SRC DST [OPTION...]: rsync -a --stats SRC DST; its output in
# $WORK/LABEL.
rs() {
    local label=$1 src=$2 dst=$3
    shift 3
    timed 300 rsync -a --stats "$@" "$src" "$dst" >"$WORK/$label" 2>"$WORK/$label.err"
    [ "$RC" = 0 ] || fail "$label: rsync -a $* $src $dst exited $RC: $(cat "$WORK/$label.err")"
}
transferred() { sed -n 's/^Number of regular files transferred: //p' "$WORK/$1"; }

# one_image TOKEN NAME FORMAT: sets ID to the one active image NAME of that
# disk_format the token's project has.
one_image() {
    local lines
    lines=$(glance_named "$1" "$2")
    [ "$(echo "$lines" | grep -c .)" = 1 ] || fail "$2: want one image, Glance has: ${lines:-none}"
    [ "$(echo "$lines" | cut -f2)" = active ] || fail "$2: not active: $lines"
    [ "$(echo "$lines" | cut -f3)" = "$3" ] || fail "$2: disk_format is not $3: $lines"
    ID=$(echo "$lines" | cut -f1)
}

# Glance to Glance: the native qcow2 into the other project.
rs g2g "$qcow" "$MNT/openstack2/images/$n-g2g.qcow2"
[ "$(transferred g2g)" = 1 ] || fail "g2g: rsync transferred $(transferred g2g) files"
one_image "$TOK2" "$n-g2g" qcow2
glance_fetch "$TOK2" "$ID" "$WORK/g2g.qcow2" || fail "g2g: cannot download the new image"
qemu-img compare -q -f qcow2 -F qcow2 "$orig" "$WORK/g2g.qcow2" || fail "g2g: the image differs from $orig"
[ "$(sha256_of "$WORK/g2g.qcow2")" = "$(manifest openstack ext4 sha256)" ] ||
    fail "g2g: a homogeneous copy is not byte-identical"
rm -f "$WORK/g2g.qcow2"

# Glance to vCD: the .vmdk view into a catalog; the emulator checks and
# stores the disk.
rs g2v "$view" "$MIGRATED/$n-g2v.vmdk"
[ "$(transferred g2v)" = 1 ] || fail "g2v: rsync transferred $(transferred g2v) files"
check_imported migrated "$n-g2v" "$orig" qcow2
[ "$(stat -c %Y "$MIGRATED/$n-g2v.vmdk")" = "$(stat -c %Y "$view")" ] ||
    fail "g2v: rsync -a did not keep the mtime on the template"

# vCD to Glance: a template's disk into images/ (sniffed: vmdk).
rs v2g "$gold" "$MNT/openstack/images/$n-v2g.vmdk"
[ "$(transferred v2g)" = 1 ] || fail "v2g: rsync transferred $(transferred v2g) files"
one_image "$TOK1" "$n-v2g" vmdk
glance_fetch "$TOK1" "$ID" "$WORK/v2g.vmdk" || fail "v2g: cannot download the new image"
qemu-img compare -q -f vmdk -F vmdk "$orig_gold" "$WORK/v2g.vmdk" || fail "v2g: the image differs from $orig_gold"
rm -f "$WORK/v2g.vmdk"

# rsync's staged .NAME.XXXXXX never became an image or a template.
glance_list "$TOK1" | cut -f4 | grep -q "^\.$n" && fail "a staged dot-file became an image in openstack"
glance_list "$TOK2" | cut -f4 | grep -q "^\.$n" && fail "a staged dot-file became an image in openstack2"
ls -a "$MIGRATED" "$MNT/openstack/images" "$MNT/openstack2/images" | grep -q "^\.$n" &&
    fail "a staged dot-file is still listed"
left=$(find "$WORK/cache" -name 'spool-*' | head -3)
[ -z "$left" ] || fail "spool files left: $left"

# The same rsync -a again: size and mtime (stored on the image by utimensat)
# match, nothing is sent.
rs g2g-again "$qcow" "$MNT/openstack2/images/$n-g2g.qcow2"
[ "$(transferred g2g-again)" = 0 ] || fail "the second rsync -a into openstack2 transferred $(transferred g2g-again) files"
# The template's size is exact now (rsync read it), as for the first run.
rs v2g-again "$gold" "$MNT/openstack/images/$n-v2g.vmdk"
[ "$(transferred v2g-again)" = 0 ] || fail "the second rsync -a from vCD transferred $(transferred v2g-again) files"
# Into vCD, rsync's quick check cannot hold: vCD re-encodes a template's disk
# when it exports it (as the emulator does), so the template's .vmdk is
# listed with size 0 until opened and then with the export's size, never
# the size rsync sent; a second rsync -a sees a different size and sends
# again (and fails with EEXIST without allow_delete). What cloudfs owes there
# is the mtime (checked above); re-running a batch into a catalog is
# `rsync -a --ignore-existing`, which finds the template and sends nothing:
rs g2v-again "$view" "$MIGRATED/$n-g2v.vmdk" --ignore-existing
[ "$(transferred g2v-again)" = 0 ] || fail "rsync -a --ignore-existing into vCD transferred $(transferred g2v-again) files"
[ "$(vcd_count migrated "$n-g2v")" = 1 ] || fail "g2v: $(vcd_count migrated "$n-g2v") templates after the second rsync"
unmount_cloudfs
no_spool_left
exit 0
