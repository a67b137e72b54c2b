#!/bin/bash
# §4/§10.3 the public upload flow with a qemu-img-made streamOptimized VMDK and a
# hand-written OVF: 201 + Location + CatalogItem; state A (status 0, descriptor not
# uploaded, one File descriptor.ovf size -1, running task with Owner, task:cancel and
# Progress 1); descriptor PUT 200 empty; state C (descriptor File size = bytesTransferred
# = its length, one File per reference with name = ovf:href, size = ovf:size, bt 0,
# Progress still 1); disk PUT 200 empty; task success with endTime; state E (status 8,
# no Files, no Tasks, Children/Vm, item size set, query status RESOLVED).
. "$(dirname "$0")/lib.sh"
login
name=$NAME_PREFIX-flow
make_disk "$W/disk1.vmdk" 8
size=$(stat -c %s "$W/disk1.vmdk")
make_ovf "$W/d.ovf" disk1.vmdk "$size" "$CAPACITY"
catalog_href migrated
params "$name"
api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' --data-binary "@$W/params.xml"
expect "POST action/upload" 201 "$CODE"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.catalogItem\+xml; ?version=37\.2' "$(hdr Content-Type)"
ITEM=$(xp /_:CatalogItem/@href)
CREATED+=("$ITEM")
expect "Location header" "$ITEM" "$(hdr Location)"
expect "CatalogItem name" "$name" "$(xp /_:CatalogItem/@name)"
expect_match "CatalogItem id" '^urn:vcloud:catalogitem:[0-9a-f-]{36}$' "$(xp /_:CatalogItem/@id)"
TPL=$(xp /_:CatalogItem/_:Entity/@href)
expect_match "Entity href" "^$CLOUDS_VCD_URL/api/vAppTemplate/vappTemplate-[0-9a-f-]{36}\$" "$TPL"

tpl
expect "A: status" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
expect "A: ovfDescriptorUploaded" false "$(xp /_:VAppTemplate/@ovfDescriptorUploaded "$W/tpl.xml")"
expect "A: Files/File" 1 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
expect "A: File name" descriptor.ovf "$(xp '//_:Files/_:File/@name' "$W/tpl.xml")"
expect "A: File size" -1 "$(xp '//_:Files/_:File/@size' "$W/tpl.xml")"
expect "A: File bytesTransferred" 0 "$(xp '//_:Files/_:File/@bytesTransferred' "$W/tpl.xml")"
expect "A: links of the File" 1 "$(xn '//_:Files/_:File/_:Link' "$W/tpl.xml")"
expect "A: rel of the File link" upload:default "$(xp '//_:Files/_:File/_:Link/@rel' "$W/tpl.xml")"
expect "A: type on the upload link" 0 "$(xn '//_:Files/_:File/_:Link/@type' "$W/tpl.xml")"
expect_match "A: upload href" "/transfer/[0-9a-f-]{36}/descriptor\\.ovf\$" "$(file_link descriptor.ovf)"
expect "A: tasks" 1 "$(xn '//_:Tasks/_:Task' "$W/tpl.xml")"
expect "A: task status" running "$(xp '//_:Tasks/_:Task/@status' "$W/tpl.xml")"
expect "A: task Owner name" "$name" "$(xp '//_:Tasks/_:Task/_:Owner/@name' "$W/tpl.xml")"
expect "A: task Owner href" "$TPL" "$(xp '//_:Tasks/_:Task/_:Owner/@href' "$W/tpl.xml")"
TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
expect "A: task:cancel link" "$TASK/action/cancel" "$(xp "//_:Tasks/_:Task/_:Link[@rel='task:cancel']/@href" "$W/tpl.xml")"
expect "A: Progress" 1 "$(xp '//_:Tasks/_:Task/_:Progress' "$W/tpl.xml")"
expect "A: cancelRequested" false "$(xp '//_:Tasks/_:Task/@cancelRequested' "$W/tpl.xml")"
in_order "$W/tpl.xml" Link Description Tasks Files Owner Children LeaseSettingsSection CustomizationSection DateCreated || fail "A: children out of order: $(children "$W/tpl.xml" | uniq | tr '\n' ' ')"
expect "control state: status in A" 0 "$(tstate "$name" status)"

put_descriptor "$W/d.ovf"
expect "descriptor PUT body length" 0 "$(body_len)"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true' or @status='-1']" 5
dlen=$(stat -c %s "$W/d.ovf")
expect "C: status" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
expect "C: Files" 2 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
expect "C: descriptor size" "$dlen" "$(xp "//_:File[@name='descriptor.ovf']/@size" "$W/tpl.xml")"
expect "C: descriptor bytesTransferred" "$dlen" "$(xp "//_:File[@name='descriptor.ovf']/@bytesTransferred" "$W/tpl.xml")"
expect "C: disk File size" "$size" "$(xp "//_:File[@name='disk1.vmdk']/@size" "$W/tpl.xml")"
expect "C: disk File bytesTransferred" 0 "$(xp "//_:File[@name='disk1.vmdk']/@bytesTransferred" "$W/tpl.xml")"
du=$(file_link disk1.vmdk)
expect "C: disk link in the same transfer session" "$(dirname "$(file_link descriptor.ovf)")/disk1.vmdk" "$du"
expect "C: Progress" 1 "$(xp '//_:Tasks/_:Task/_:Progress' "$W/tpl.xml")"
expect "C: task status" running "$(xp '//_:Tasks/_:Task/@status' "$W/tpl.xml")"

tput "$du" "$W/disk1.vmdk"
expect "disk PUT" 200 "$CODE"
expect "disk PUT body length" 0 "$(body_len)"
wait_task "$TASK"
expect "task status at the end" success "$TASK_STATUS"
[ -n "$(xp /_:Task/@endTime "$W/task.xml")" ] || fail "task: no endTime after success"
expect "task Owner name" "$name" "$(xp /_:Task/_:Owner/@name "$W/task.xml")"
tpl
expect "E: status" 8 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
expect "E: Files" 0 "$(xn '//_:Files' "$W/tpl.xml")"
expect "E: Tasks" 0 "$(xn '//_:Tasks' "$W/tpl.xml")"
[ "$(xn '//_:Children/_:Vm' "$W/tpl.xml")" -ge 1 ] || fail "E: no Children/Vm"
api GET "$ITEM"
[ "$(xp /_:CatalogItem/@size)" -gt 0 ] 2>/dev/null || fail "E: catalog item size: expected > 0, got '$(xp /_:CatalogItem/@size)'"
query vAppTemplate "format=records&filter=name==$name"
expect "E: query status" RESOLVED "$(xp //_:VAppTemplateRecord/@status)"
expect "control state: bytes of the disk" "$size" "$(state | jq -r --arg n "$name" '.templates[] | select(.name == $n) | .files[] | select(.name == "disk1.vmdk") | .bytes')"
exit 0
