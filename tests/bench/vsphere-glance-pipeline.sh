#!/bin/bash
# The scripted migration cloudfs replaces (make bench compares them): a
# vSphere VM's disk into Glance by hand, as its admin does it today: the
# flat extent downloaded from the datastore with curl (basic auth on
# /folder, as govc datastore.download does), qemu-img convert -O qcow2,
# then Glance: POST the image NAME, PUT its file, wait until active.
#   vsphere-glance-pipeline.sh TMPDIR NAME DATASTORE-PATH
# DATASTORE-PATH: the flat extent, "VMDIR/VM-flat.vmdk".
# Environment: VSPHERE_URL, VSPHERE_USER, VSPHERE_PASSWORD, VSPHERE_DC,
# VSPHERE_DS, VSPHERE_CACERT; GLANCE_URL, GLANCE_TOKEN.
# Prints one line: "download S convert S upload S image ID".
set -euo pipefail
tmp=$1 name=$2 path=$3
: "${VSPHERE_URL:?}" "${VSPHERE_USER:?}" "${VSPHERE_PASSWORD:?}" "${VSPHERE_DC:?}" "${VSPHERE_DS:?}"
: "${GLANCE_URL:?}" "${GLANCE_TOKEN:?}"
now() { date +%s.%N; }
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

t0=$(now)
curl -sf --cacert "$VSPHERE_CACERT" -u "$VSPHERE_USER:$VSPHERE_PASSWORD" -o "$tmp/disk-flat.vmdk" \
    "$VSPHERE_URL/folder/$path?dcPath=$VSPHERE_DC&dsName=$VSPHERE_DS"
t1=$(now)
qemu-img convert -f raw -O qcow2 "$tmp/disk-flat.vmdk" "$tmp/disk.qcow2"
rm -f "$tmp/disk-flat.vmdk"
t2=$(now)
id=$(curl -sf -X POST "$GLANCE_URL/v2/images" -H "X-Auth-Token: $GLANCE_TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\": \"$name\", \"disk_format\": \"qcow2\", \"container_format\": \"bare\"}" | jget id)
curl -sf -X PUT -T "$tmp/disk.qcow2" -H "X-Auth-Token: $GLANCE_TOKEN" \
    -H 'Content-Type: application/octet-stream' "$GLANCE_URL/v2/images/$id/file"
st=
for _ in $(seq 600); do
    st=$(curl -sf -H "X-Auth-Token: $GLANCE_TOKEN" "$GLANCE_URL/v2/images/$id" | jget status)
    [ "$st" = active ] && break
    sleep 0.1
done
[ "$st" = active ] || { echo "vsphere-glance-pipeline: image $id is $st" >&2; exit 1; }
t3=$(now)
echo "download $(echo "$t1 - $t0" | bc -l) convert $(echo "$t2 - $t1" | bc -l) upload $(echo "$t3 - $t2" | bc -l) image $id"
