#!/bin/bash
# §6/§10.4 round trip: a qemu-img-made streamOptimized VMDK with a hand-written OVF is
# uploaded, then read back through the download flow: enableDownload (202 + task) →
# the four download links (type text/xml, one transfer session, not inside Files) →
# GET download:default (text/xml, a schema-valid OVF 1 descriptor with regenerated file
# names) → each disk by replacing the last URL component with its ovf:href
# (application/octet-stream, ovf:size bytes) → qemu-img compare with the original says
# identical. disableDownload (204) removes the links.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/up.vmdk" 8
make_ovf "$W/up.ovf" up.vmdk "$(stat -c %s "$W/up.vmdk")" "$CAPACITY"
upload "$NAME_PREFIX-dl" "$W/up.vmdk" "$W/up.ovf" up.vmdk
expect "upload" success "$TASK_STATUS"
enable_download
for rel in default identity ovaDefault ovaIdentity; do
    expect "download:$rel links of type text/xml" 1 "$(xn "/_:VAppTemplate/_:Link[@rel='download:$rel' and @type='text/xml']" "$W/tpl.xml")"
done
expect "download links inside Files (media pattern)" 0 "$(xn "//_:Files//_:Link[starts-with(@rel,'download')]" "$W/tpl.xml")"
expect_match "download:default href" "^$CLOUDS_VCD_URL/transfer/[0-9a-f-]{36}/descriptor\\.ovf\$" "$DL"
base=$(dirname "$DL")
expect "download:identity href" "$base/descriptor-with-id.ovf" "$(xp "/_:VAppTemplate/_:Link[@rel='download:identity']/@href" "$W/tpl.xml")"
expect "download:ovaDefault href" "$base/descriptor.ova" "$(xp "/_:VAppTemplate/_:Link[@rel='download:ovaDefault']/@href" "$W/tpl.xml")"

tget "$DL" "$W/dl.ovf"
expect_match "descriptor Content-Type" '^text/xml' "$(hdr Content-Type)"
"$SCHEMAS/validate" ovf "$W/dl.ovf" 2>"$W/val" || fail "downloaded descriptor is not valid OVF 1: $(head -3 "$W/val")"
expect "envelope namespace" http://schemas.dmtf.org/ovf/envelope/1 "$(xp 'namespace-uri(/*)' "$W/dl.ovf")"
mapfile -t hrefs < <(xl '/_:Envelope/_:References/_:File/@_:href' "$W/dl.ovf")
expect "referenced files in the downloaded descriptor" 1 "${#hrefs[@]}"
h=${hrefs[0]}
[ "$h" != up.vmdk ] || fail "downloaded file name: expected a regenerated name, got the uploaded one ($h)"
size=$(xp "/_:Envelope/_:References/_:File[@_:href='$h']/@_:size" "$W/dl.ovf")
tget "$base/$h" "$W/dl.vmdk"
expect_match "disk Content-Type" '^application/octet-stream' "$(hdr Content-Type)"
expect "downloaded bytes vs ovf:size" "$size" "$(stat -c %s "$W/dl.vmdk")"
qemu-img info "$W/dl.vmdk" 2>/dev/null | grep -q 'create type: streamOptimized' || fail "downloaded disk: expected a streamOptimized VMDK, qemu-img says $(qemu-img info "$W/dl.vmdk" 2>&1 | grep -i 'format\|create' | tr '\n' ' ')"
out=$(qemu-img compare -f vmdk -F vmdk "$W/up.vmdk" "$W/dl.vmdk" 2>&1) || fail "qemu-img compare original vs downloaded: $out"
expect_match "capacity in the downloaded descriptor" "^$CAPACITY\$|^$((CAPACITY / 1048576))\$" "$(xp '//_:Disk/@_:capacity' "$W/dl.ovf")"

tget "$base/descriptor-with-id.ovf" "$W/id.ovf"
"$SCHEMAS/validate" ovf "$W/id.ovf" 2>"$W/val" || fail "identity descriptor is not valid OVF 1: $(head -3 "$W/val")"

api POST "$TPL/action/disableDownload"
expect "disableDownload" 204 "$CODE"
tpl
expect "download links after disableDownload" 0 "$(xn "/_:VAppTemplate/_:Link[starts-with(@rel,'download:')]" "$W/tpl.xml")"
exit 0
