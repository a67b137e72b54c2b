#!/bin/bash
# Reading a template back: opening its .vmdk exports it (enableDownload),
# after which the size is exact; the disk read equals the disk the emulator
# holds (qemu-img compare: vCD re-encodes, so bytes differ), the .ovf names
# the files as cloudfs shows them and validates, and the .ova holds both.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
d=$MNT/vcloud/catalogs/golden
f=$(ls "$d"/*.vmdk | head -1)
name=$(basename "$f" .vmdk)
stored=$(vcd_disk golden "$name")
[ -f "$stored" ] || fail "$name: the emulator has no disk for it"

exec 3<"$f" || fail "cannot open $f"
size=$(stat -L -c %s /proc/self/fd/3)
exec 3<&-
[ "$size" -gt 0 ] || fail "$name.vmdk: size after open is $size"
cp "$f" "$WORK/got.vmdk" || fail "cp $f failed"
[ "$(stat -c %s "$WORK/got.vmdk")" = "$(stat -c %s "$f")" ] || fail "$name.vmdk: stat says $(stat -c %s "$f"), cp got $(stat -c %s "$WORK/got.vmdk")"
qemu-img compare -q -f vmdk -F vmdk "$stored" "$WORK/got.vmdk" || fail "$name.vmdk read back differs from the template's disk"
qemu-img info "$WORK/got.vmdk" | grep -q 'create type: streamOptimized' || fail "$name.vmdk is not streamOptimized"

cp "$d/$name.ovf" "$WORK/got.ovf" || fail "cp $name.ovf failed"
grep -q "ovf:href=\"$name.vmdk\"" "$WORK/got.ovf" || fail "$name.ovf does not reference $name.vmdk: $(grep -o 'ovf:href="[^"]*"' "$WORK/got.ovf")"
if [ -x "$VALIDATE" ]; then
    "$VALIDATE" ovf "$WORK/got.ovf" || fail "$name.ovf does not validate"
fi
mkdir "$WORK/ova"
(cd "$WORK/ova" && tar -xf "$d/$name.ova") || fail "tar cannot extract $name.ova"
[ "$(tar -tf "$d/$name.ova" | tr '\n' ' ')" = "$name.ovf $name.vmdk " ] || fail "$name.ova members: $(tar -tf "$d/$name.ova")"
cmp -s "$WORK/ova/$name.vmdk" "$WORK/got.vmdk" || fail "the .ova's disk differs from the .vmdk"
cmp -s "$WORK/ova/$name.ovf" "$WORK/got.ovf" || fail "the .ova's descriptor differs from the .ovf"
echo "$name read back: $(stat -c %s "$WORK/got.vmdk") bytes"
