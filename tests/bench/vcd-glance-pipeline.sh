#!/bin/bash
# The scripted migration cloudfs replaces (make bench compares them): a vCD
# vApp template into Glance by hand, its disk on local disk twice.
#   vcd-glance-pipeline.sh TMPDIR NAME
# Environment: VCD_URL, VCD_CACERT (optional), VCD_USER, VCD_ORG,
# VCD_PASSWORD, VCD_CATALOG, VCD_TEMPLATE (a template of one disk);
# GLANCE_URL, GLANCE_TOKEN.
# Steps (ref/vcd-api.md §6): vCD login, the template through its catalog
# item, enableDownload and its task, the download:default descriptor, the
# disk it references (the descriptor's URL with the last component replaced
# by the File's ovf:href); qemu-img convert to qcow2; Glance: POST the image
# NAME, PUT its file, wait until active.
# Prints one line: "export S download S convert S upload S image ID" (the
# seconds of each phase: vCD's export is the enableDownload task, before it
# the login and look-ups; and the new image's id).
set -euo pipefail
tmp=$1 name=$2
: "${VCD_URL:?}" "${VCD_USER:?}" "${VCD_ORG:?}" "${VCD_PASSWORD:?}" "${VCD_CATALOG:?}" "${VCD_TEMPLATE:?}"
: "${GLANCE_URL:?}" "${GLANCE_TOKEN:?}"
ME=vcd-glance-pipeline
. "$(dirname "$0")/vcd-curl.lib"
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

t0=$(now)
vcd_login
item=$(api GET "$catalog" | xp "string(//*[local-name()=\"CatalogItem\"][@name=\"$VCD_TEMPLATE\"]/@href)")
[ -n "$item" ] || { echo "vcd-glance-pipeline: no $VCD_TEMPLATE in catalog $VCD_CATALOG" >&2; exit 1; }
template=$(api GET "$item" | xp 'string(//*[local-name()="Entity"]/@href)')

# The export: a task, then the download links on the template.
task=$(api POST "$template/action/enableDownload" | xp 'string(/*/@href)')
vcd_wait "$task" "the export task" 3600
te=$(now)
desc_url=$(api GET "$template" | xp 'string(/*/*[local-name()="Link"][@rel="download:default"]/@href)')
[ -n "$desc_url" ] || { echo "vcd-glance-pipeline: no download:default link" >&2; exit 1; }
api GET "$desc_url" -o "$tmp/descriptor.ovf"
ref='//*[local-name()="References"]/*[local-name()="File"]'
[ "$(xp "count($ref)" <"$tmp/descriptor.ovf")" = 1 ] || { echo "vcd-glance-pipeline: not a template of one disk" >&2; exit 1; }
href=$(xp "string($ref/@*[local-name()=\"href\"])" <"$tmp/descriptor.ovf")
size=$(xp "string($ref/@*[local-name()=\"size\"])" <"$tmp/descriptor.ovf")
case $href in */* | "" | .*) echo "vcd-glance-pipeline: unsafe file name '$href'" >&2; exit 1 ;; esac
curl -sf "${tls[@]}" -H "x-vcloud-authorization: $auth" "${desc_url%/*}/$href" -o "$tmp/$href"
[ "$(stat -c %s "$tmp/$href")" = "$size" ] || { echo "vcd-glance-pipeline: $href is not $size bytes" >&2; exit 1; }
t1=$(now)
qemu-img convert -f vmdk -O qcow2 "$tmp/$href" "$tmp/disk.qcow2"
t2=$(now)

id=$(curl -sf -X POST "$GLANCE_URL/v2/images" -H "X-Auth-Token: $GLANCE_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$name\",\"disk_format\":\"qcow2\",\"container_format\":\"bare\"}" | jget id)
curl -sf -X PUT -H "X-Auth-Token: $GLANCE_TOKEN" -H 'Content-Type: application/octet-stream' \
    -T "$tmp/disk.qcow2" "$GLANCE_URL/v2/images/$id/file" >/dev/null
for _ in $(seq 36000); do
    st=$(curl -sf -H "X-Auth-Token: $GLANCE_TOKEN" "$GLANCE_URL/v2/images/$id" | jget status)
    case $st in
    active) break ;;
    killed | deleted) echo "vcd-glance-pipeline: image $id is $st" >&2; exit 1 ;;
    esac
    sleep 0.1
done
[ "$st" = active ] || { echo "vcd-glance-pipeline: image $id did not become active" >&2; exit 1; }
t3=$(now)
echo "export $(echo "$te - $t0" | bc -l) download $(echo "$t1 - $te" | bc -l) convert $(echo "$t2 - $t1" | bc -l) upload $(echo "$t3 - $t2" | bc -l) image $id"
