#!/bin/bash
# §6.2/§10.4 a golden template's OVA (download:ovaDefault): a tar whose first member is
# the .ovf descriptor, then its files, each of its ovf:size; the disks are the same
# bytes as the plain file downloads, streamOptimized VMDKs that qemu-img checks clean,
# and named unlike any upload (vm-…-disk-N.vmdk style).
. "$(dirname "$0")/lib.sh"
login
query vAppTemplate "format=records&filter=catalogName==golden&sortAsc=name"
TPL=$(xp '(//_:VAppTemplateRecord)[1]/@href')
[ -n "$TPL" ] || fail "no golden template"
enable_download
ova=$(xp "/_:VAppTemplate/_:Link[@rel='download:ovaDefault']/@href" "$W/tpl.xml")
tget "$ova" "$W/t.ova"
mkdir "$W/x"
tar -xf "$W/t.ova" -C "$W/x" || fail "the OVA is not a tar"
mapfile -t members < <(tar -tf "$W/t.ova")
[[ ${members[0]} == *.ovf ]] || fail "first OVA member: expected the .ovf, got ${members[0]}"
"$SCHEMAS/validate" ovf "$W/x/${members[0]}" 2>"$W/val" || fail "OVA descriptor not valid OVF 1: $(head -3 "$W/val")"
mapfile -t hrefs < <(xl '/_:Envelope/_:References/_:File/@_:href' "$W/x/${members[0]}")
expect "OVA members" $((${#hrefs[@]} + 1)) "${#members[@]}"
tget "$DL" "$W/plain.ovf"
base=$(dirname "$DL")
for h in "${hrefs[@]}"; do
    [ -f "$W/x/$h" ] || fail "OVA lacks member $h"
    s=$(xp "/_:Envelope/_:References/_:File[@_:href='$h']/@_:size" "$W/x/${members[0]}")
    expect "size of OVA member $h" "$s" "$(stat -c %s "$W/x/$h")"
    tget "$base/$h" "$W/plain-$h"
    cmp -s "$W/x/$h" "$W/plain-$h" || fail "OVA member $h differs from the plain download"
    qemu-img check -q -f vmdk "$W/x/$h" || fail "qemu-img check of $h failed"
    qemu-img info "$W/x/$h" | grep -q 'create type: streamOptimized' || fail "$h: expected streamOptimized"
    expect_match "golden disk name" '^vm-[0-9a-f-]{36}-disk-[0-9]+\.vmdk$' "$h"
done
exit 0
