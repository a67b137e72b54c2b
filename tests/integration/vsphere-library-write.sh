#!/bin/bash
# cp of a disk into libraries/<lib> of a vsphere cloud (vcsim) makes an OVF
# item: the server's own item listing shows its .ovf and .vmdk with the
# sizes cloudfs shows, vSphere deploys a VM from it, and the item reads back
# through the mount as the same disk (qemu-img compare with the original),
# leaving no download session open.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
mount_vsphere
dir=$MNT/vsphere/libraries/$LIB
t=t$$
LIB_ITEMS+=("$t")
LIB_VMS+=("${t}vm")
head -c 3M /dev/urandom >"$WORK/in.raw" && truncate -s 16M "$WORK/in.raw"
# A raw disk is only accepted under .raw or .img: the .vmdk is qemu-img's.
qemu-img convert -f raw -O vmdk "$WORK/in.raw" "$WORK/in.vmdk" || fail "qemu-img convert"
timed 120 cp "$WORK/in.vmdk" "$dir/$t.vmdk"
[ "$RC" = 0 ] || fail "cp into libraries/$LIB: exit $RC"

items=$("$PY" "$VM_PY" library-items "$LIB") || fail "vm.py library-items"
line=$(echo "$items" | awk -F'\t' -v t="$t" '$1 == t')
[ -n "$line" ] || fail "the library has no item $t: $items"
[ "$(echo "$line" | cut -f2)" = ovf ] || fail "item $t is not of type ovf: $line"
files=$(echo "$line" | cut -f3)
ovf_size=$(echo "$files" | tr ',' '\n' | awk -F: '$1 ~ /\.ovf$/ {print $2}')
vmdk_size=$(echo "$files" | tr ',' '\n' | awk -F: '$1 ~ /\.vmdk$/ {print $2}')
[ -n "$ovf_size" ] && [ -n "$vmdk_size" ] || fail "item $t lacks an .ovf or a .vmdk: $files"
[ "$(stat -c %s "$dir/$t.ovf")" = "$ovf_size" ] || fail "$t.ovf is $(stat -c %s "$dir/$t.ovf") bytes, the server says $ovf_size"
[ "$(stat -c %s "$dir/$t.vmdk")" = "$vmdk_size" ] || fail "$t.vmdk is $(stat -c %s "$dir/$t.vmdk") bytes, the server says $vmdk_size"

out=$("$PY" "$VM_PY" deploy "$LIB" "$t" "${t}vm" 2>&1) || fail "vSphere does not deploy item $t: $out"

qemu-img compare -q -f raw "$WORK/in.raw" "$dir/$t.vmdk" || fail "$t.vmdk read back differs from what was copied"
xmllint --noout "$dir/$t.ovf" || fail "$t.ovf is not XML"
tar tf "$dir/$t.ova" >"$WORK/ova.list" || fail "$t.ova is no tar"
[ "$(wc -c <"$dir/$t.ova")" = "$(stat -c %s "$dir/$t.ova")" ] || fail "$t.ova's stat size is not its length"
head -1 "$WORK/ova.list" | grep -q '\.ovf$' || fail "$t.ova does not start with the descriptor: $(cat "$WORK/ova.list")"
# Every open made a download session; the last close deleted it.
[ "$(vmpy download-sessions)" = 0 ] || fail "$(vmpy download-sessions) download sessions left open after the reads"
[ "$(log_count "upload of /vsphere/libraries/$LIB/$t.vmdk: done")" -ge 1 ] || fail "no log line of the upload"
echo "cp made item $t: listed by the server, deployed, read back identical"
