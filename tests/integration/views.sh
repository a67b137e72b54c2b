#!/bin/bash
# Views of the qcow2 images in Glance, through the mount, judged by other
# readers: qemu-img compare says the .vmdk and .raw equal the uploaded qcow2,
# qemu-img check and vmdkinfo accept the .vmdk, the .ovf validates against
# the OVF schema, the .ova extracts to the .ovf and .vmdk, and every view's
# size in ls -l is the number of bytes cat returns.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip "qemu-img missing"
validate=$TOP/../shared/schemas/validate
[ -x "$validate" ] || validate=/work/shared/schemas/validate
mount_cloudfs -o views=all

n=0
while IFS=$'\t' read -r cloud name id fmt cfmt size sha path; do
    [ "$cloud" = openstack ] && [ "$fmt" = qcow2 ] || continue
    d=$MNT/openstack/images/by-id
    for v in vmdk raw ovf ova; do
        [ -f "$d/$id.$v" ] || fail "$name: no .$v view"
        got=$(cat "$d/$id.$v" | wc -c)
        [ "$got" = "$(stat -c %s "$d/$id.$v")" ] || fail "$name.$v: ls says $(stat -c %s "$d/$id.$v"), cat gives $got"
    done
    qemu-img compare -q -f qcow2 -F vmdk "$path" "$d/$id.vmdk" || fail "$name: .vmdk differs from the qcow2"
    qemu-img compare -q -f qcow2 -F raw "$path" "$d/$id.raw" || fail "$name: .raw differs from the qcow2"
    qemu-img check -q -f vmdk "$d/$id.vmdk" || fail "$name: qemu-img check refuses the .vmdk"
    if command -v vmdkinfo >/dev/null; then
        vmdkinfo "$d/$id.vmdk" >"$WORK/vmdkinfo" 2>&1 || { cat "$WORK/vmdkinfo"; fail "$name: vmdkinfo refuses the .vmdk"; }
    fi
    if [ -x "$validate" ]; then
        "$validate" ovf "$d/$id.ovf" || fail "$name: the .ovf does not validate"
    fi
    grep -q "ovf:href=\"$id.vmdk\"" "$d/$id.ovf" || fail "$name: the .ovf does not reference $id.vmdk"
    mkdir -p "$WORK/ova"
    (cd "$WORK/ova" && tar -xf "$d/$id.ova") || fail "$name: tar cannot extract the .ova"
    [ "$(tar -tf "$d/$id.ova" | tr '\n' ' ')" = "$id.ovf $id.vmdk " ] || fail "$name: .ova members: $(tar -tf "$d/$id.ova")"
    cmp -s "$WORK/ova/$id.ovf" "$d/$id.ovf" || fail "$name: the .ova's descriptor differs from the .ovf view"
    cmp -s "$WORK/ova/$id.vmdk" "$d/$id.vmdk" || fail "$name: the .ova's disk differs from the .vmdk view"
    rm -rf "$WORK/ova"
    n=$((n + 1))
done < <(grep -v '^#' "$CLOUDS_MANIFEST")
[ $n -ge 3 ] || fail "only $n qcow2 images checked"
# The names directory shows the views too, with the naming rules.
ls "$MNT/openstack/images" | grep -qx 'ext4.vmdk' || fail "no ext4.vmdk"
ls "$MNT/openstack/images" | grep -q '^twin~.*\.ova$' || fail "the twins' views are not marked"
grep -q "ovf:href=\"ext4.vmdk\"" "$MNT/openstack/images/ext4.ovf" || fail "ext4.ovf does not reference ext4.vmdk"
echo "$n images, 4 views each, checked"
exit 0
