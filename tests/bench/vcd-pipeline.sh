#!/bin/bash
# The scripted migration cloudfs replaces (make bench compares them): a Glance
# image to a vCD catalog by hand, with the whole image on local disk twice.
#   vcd-pipeline.sh TMPDIR NAME
# Environment: GLANCE_URL, GLANCE_TOKEN, IMAGE_ID (a qcow2 image); VCD_URL,
# VCD_CACERT (optional), VCD_USER, VCD_ORG, VCD_PASSWORD, VCD_CATALOG.
# Steps: curl download; qemu-img convert to streamOptimized VMDK; append the
# end-of-stream marker qemu-img leaves out (ESXi refuses the disk without
# it); an OVF descriptor; vCD: login, catalog upload action, descriptor PUT,
# wait for the disk's File entry, disk PUT, wait for the task.
# Prints one line: "download S convert S upload S" (seconds of each phase).
set -euo pipefail
tmp=$1 name=$2
: "${GLANCE_URL:?}" "${GLANCE_TOKEN:?}" "${IMAGE_ID:?}" "${VCD_URL:?}" "${VCD_USER:?}" "${VCD_ORG:?}"
: "${VCD_PASSWORD:?}" "${VCD_CATALOG:?}"
ME=vcd-pipeline
. "$(dirname "$0")/vcd-curl.lib"

t0=$(now)
curl -sf -H "X-Auth-Token: $GLANCE_TOKEN" "$GLANCE_URL/v2/images/$IMAGE_ID/file" -o "$tmp/src.qcow2"
t1=$(now)
qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized "$tmp/src.qcow2" "$tmp/disk.vmdk"
truncate -s %512 "$tmp/disk.vmdk"                 # whole sectors, then the
head -c 512 /dev/zero >>"$tmp/disk.vmdk"          # end-of-stream marker
t2=$(now)

size=$(stat -c %s "$tmp/disk.vmdk")
capacity=$(qemu-img info --output=json "$tmp/disk.vmdk" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
cat >"$tmp/descriptor.ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="disk.vmdk" ovf:id="file1" ovf:size="$size"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="$capacity" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="$name">
    <Info>A virtual machine</Info>
    <Name>$name</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>$name</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>1 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>1</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>1024MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>1024</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VMXNET3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF

# vCD: a session, the catalog's upload link, the new template.
vcd_login
upload=$(api GET "$catalog" |
    xp 'string(//*[local-name()="Link"][@rel="add" and @type="application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml"]/@href)')
[ -n "$upload" ] || { echo "vcd-pipeline: catalog $VCD_CATALOG has no upload link" >&2; exit 1; }
template=$(api POST "$upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' \
    --data-binary "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<UploadVAppTemplateParams xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"$name\" manifestRequired=\"false\"><Description>vcd-pipeline</Description></UploadVAppTemplateParams>" |
    xp 'string(//*[local-name()="Entity"]/@href)')
doc=$(api GET "$template")
desc_url=$(echo "$doc" | xp 'string(//*[local-name()="File"][@name="descriptor.ovf"]/*[local-name()="Link"]/@href)')
task=$(echo "$doc" | xp 'string(//*[local-name()="Tasks"]/*[local-name()="Task"]/@href)')
api PUT "$desc_url" -H 'Content-Type: text/xml' --data-binary "@$tmp/descriptor.ovf" >/dev/null

# The disk's upload link appears once vCD has read the descriptor.
disk_url=
for _ in $(seq 600); do
    doc=$(api GET "$template")
    [ "$(echo "$doc" | xp 'string(/*/@status)')" != -1 ] || { echo "vcd-pipeline: descriptor refused" >&2; exit 1; }
    disk_url=$(echo "$doc" | xp 'string(//*[local-name()="File"][@name="disk.vmdk"]/*[local-name()="Link"]/@href)')
    [ -z "$disk_url" ] || break
    sleep 0.1
done
[ -n "$disk_url" ] || { echo "vcd-pipeline: no upload link for the disk" >&2; exit 1; }
curl -sf "${tls[@]}" -X PUT -H "x-vcloud-authorization: $auth" -H 'Content-Type: application/octet-stream' \
    -T "$tmp/disk.vmdk" "$disk_url" >/dev/null
vcd_wait "$task" "the upload task" 600
t3=$(now)
echo "download $(echo "$t1 - $t0" | bc -l) convert $(echo "$t2 - $t1" | bc -l) upload $(echo "$t3 - $t2" | bc -l)"
