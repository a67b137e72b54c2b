#!/bin/bash
# kill -9 during an upload leaves a half-made object; the next mount finds
# it by its marker and removes it, logging each (DESIGN.md §5):
#  1. vCD: a slow cp into a catalog, cloudfs killed mid-transfer: the
#     emulator holds an unresolved template; a remount removes it.
#  1b. vCD: a template whose import failed (FAILED_CREATION) with the
#     marker of a dead process, made with curl: removed too.
#  2. Glance: images carrying the marker property cloudfs_upload of a dead
#     process of this host are removed; one of a live process stays. And
#     a slow cp into images/ killed mid-upload: a remount removes the image.
#  3. A second live mount's upload is never swept: mount A uploads slowly,
#     mount B starts and sweeps, A's upload completes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
[ -n "${CLOUDS_VCD_FAULTPROXY_URL:-}" ] || skip "no fault proxy in front of the emulator"
fault() { curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/$1" >/dev/null; }
fault "clear?stats=1" || fail "the vCD fault proxy does not answer"
MNT_B=$WORK/mnt-b
LOG_B=$WORK/cloudfs-b.log
B_PID=
IMAGES=()
tok=$(os_token)
[ -n "$tok" ] || fail "no Keystone token"
finish() {
    if [ -n "$B_PID" ]; then
        fusermount3 -u "$MNT_B" 2>/dev/null
        kill -9 "$B_PID" 2>/dev/null
        wait "$B_PID" 2>/dev/null
    fi
    for id in "${IMAGES[@]}"; do
        curl -s -X DELETE -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null
    done
    fault clear
    vcd_knobs_reset
    cleanup
}
trap finish EXIT
src=$MNT/openstack/images/ext4-compressed.vmdk
has() { [ "$(vcd_count migrated "$1")" = "$2" ]; } # has NAME COUNT
slow() {
    fault "add?mode=slow&on=request&method=PUT&match=/transfer/&rate=$1&count=-1" ||
        fail "cannot slow the proxy down"
}

# 1. vCD: ~50 s of transfer at 256 KiB/s, killed once the template exists.
mount_vcd -o clouds=vcloud-proxy:openstack
t=crash-$$
slow 262144
cp "$src" "$MNT/vcloud-proxy/catalogs/migrated/$t.vmdk" 2>/dev/null &
BG_PIDS+=("$!")
wait_until 60 has "$t" 1 || fail "no template $t appeared"
sleep 1
kill -9 "$CFS_PID"
wait "$CFS_PID" 2>/dev/null
CFS_PID=
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
fault clear
st=$(vcd_template migrated "$t" status) || fail "the killed upload left no template to sweep"
[ "$st" != 8 ] || fail "template $t is complete although its upload was killed"
desc=$(vcd_api GET "/api/vAppTemplate/vappTemplate-$(vcd_template migrated "$t" id)" |
    sed -n 's:.*<Description>\(.*\)</Description>.*:\1:p')
[[ $desc == cloudfs-upload:v1:$(hostname):* ]] || fail "template $t carries no marker: '$desc'"
t0=$(now_ms)
mount_vcd -o clouds=vcloud
wait_until 15 has "$t" 0 || fail "the remount did not remove the half-made template $t"
ms=$(($(now_ms) - t0))
wait_until 5 grep -q "removed half-made template $t (catalog migrated) left by $(hostname) pid" "$LOG" ||
    fail "the log does not say the template was removed"
[ "$(log_count "half-made template $t ")" = 1 ] || fail "not one log line for the removal: $(grep half-made "$LOG")"
unmount_cloudfs

# 1b. A failed template with a dead process's marker, made by hand (§4).
dead=$(sh -c 'echo $$')  # a process of this host that has exited
f=failed-$$
vcd_api GET /api/session >/dev/null || fail "cannot log in to the emulator" # sets VCD_TOKEN here
cat_href=$(vcd_api GET "/api/query?type=catalog&format=records&filter=name==migrated" |
    sed -n 's:.*<CatalogRecord[^>]* href="\([^"]*\)".*:\1:p')
[ -n "$cat_href" ] || fail "no catalog migrated"
item=$(curl -sf -X POST -H "x-vcloud-authorization: $VCD_TOKEN" -H 'Accept: application/*+xml;version=36.0' \
    -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' \
    --data "<UploadVAppTemplateParams xmlns=\"http://www.vmware.com/vcloud/v1.5\" name=\"$f\"><Description>cloudfs-upload:v1:$(hostname):$dead:1:$(date +%s)</Description></UploadVAppTemplateParams>" \
    "$cat_href/action/upload") || fail "cannot start an upload by hand"
tpl=$(echo "$item" | sed -n 's:.*<Entity[^>]* href="\([^"]*\)".*:\1:p')
put_href=$(vcd_api GET "$tpl" | grep -o 'href="[^"]*/transfer/[^"]*"' | head -1 | cut -d'"' -f2)
[ -n "$put_href" ] || fail "the template offers no descriptor upload"
vcd_knobs '{"descriptor_invalid_reason": "refused by the test"}'
curl -sf -X PUT -H "x-vcloud-authorization: $VCD_TOKEN" -H 'Content-Type: text/xml' \
    --data '<Envelope/>' "$put_href" >/dev/null || fail "descriptor PUT refused"
failed() { [ "$(vcd_template migrated "$f" status)" = -1 ]; }
wait_until 10 failed || fail "the hand-made template did not fail"
vcd_knobs '{"descriptor_invalid_reason": null}'
mount_vcd -o clouds=vcloud
wait_until 15 has "$f" 0 || fail "the remount did not remove the failed template $f"
wait_until 5 grep -q "removed half-made template $f (catalog migrated) left by $(hostname) pid $dead" "$LOG" ||
    fail "the log does not say the failed template was removed"
[ "$(log_count 'upload of half-made')" = 0 ] || fail "the clean-up's steps are logged at info: $(grep 'upload of half-made' "$LOG")"
unmount_cloudfs

# 2. Glance: queued images with markers, created as an upload would.
mine_start=$(sed 's/.*) //' "/proc/$$/stat" | cut -d' ' -f20)
new_image() { # NAME MARKER: prints the id
    curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\",\"cloudfs_upload\":\"$2\",\"tags\":[\"cloudfs-upload\"]}" |
        json_get id
}
stale_id=$(new_image "half-$$" "cloudfs-upload:v1:$(hostname):$dead:12345:$(date +%s)") ||
    fail "cannot create an image with a marker"
IMAGES+=("$stale_id")
live_id=$(new_image "live-$$" "cloudfs-upload:v1:$(hostname):$$:$mine_start:$(date +%s)") ||
    fail "cannot create a second image with a marker"
IMAGES+=("$live_id")
glance_image "$stale_id" "$tok" | json_get cloudfs_upload | grep -q "^cloudfs-upload:v1:" ||
    fail "Glance did not keep the property cloudfs_upload"
image_gone() { ! glance_image "$1" "$tok" >/dev/null; }
mount_cloudfs -o clouds=openstack
wait_until 15 image_gone "$stale_id" || fail "the mount did not remove the half-made image"
wait_until 5 grep -q "removed half-made image half-$$ ($stale_id) left by $(hostname) pid $dead" "$LOG" ||
    fail "the log does not say the image was removed"
sleep 1
glance_image "$live_id" "$tok" >/dev/null || fail "the image of a live process was removed"
[ "$(log_count "live-$$")" = 0 ] || fail "the log mentions the live process's image"
unmount_cloudfs

# 2b. A real upload into Glance (cloud t, through the slowed fault proxy),
# killed once its image exists.
saved_config=$OS_CLIENT_CONFIG_FILE
use_proxy
proxy_ctl add mode=slow on=request method=PUT match=/file rate=262144 count=-1 || fail "proxy rule"
g=gcrash-$$
mount_cloudfs -o clouds=t
cp "$(manifest openstack ext4 path)" "$MNT/t/images/$g.qcow2" 2>/dev/null &
BG_PIDS+=("$!")
image_named() { # NAME: the id of the one image of that name, any status
    curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=$1" |
        "$PY" -c 'import json, sys; i = json.load(sys.stdin)["images"]; print(i[0]["id"] if len(i) == 1 else "")'
}
uploading() { [ -n "$(image_named "$g")" ] && proxy_hit 1; }
wait_until 60 uploading || fail "no image $g appeared"
gid=$(image_named "$g")
IMAGES+=("$gid")
sleep 1
kill -9 "$CFS_PID"
wait "$CFS_PID" 2>/dev/null
CFS_PID=
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
proxy_ctl clear
st=$(glance_image "$gid" "$tok" | json_get status)
[ "$st" != active ] || fail "image $g is active although its upload was killed"
glance_image "$gid" "$tok" | json_get cloudfs_upload | grep -q "^cloudfs-upload:v1:$(hostname):" ||
    fail "image $g carries no marker"
mount_cloudfs -o clouds=t
wait_until 15 image_gone "$gid" || fail "the remount did not remove the half-made image $g ($st)"
wait_until 5 grep -q "removed half-made image $g ($gid) left by $(hostname) pid" "$LOG" ||
    fail "the log does not say the image was removed"
unmount_cloudfs
export OS_CLIENT_CONFIG_FILE=$saved_config

# 3. A live mount's upload: A uploads (~12 s at 1 MiB/s), B mounts and sweeps.
mount_vcd -o clouds=vcloud-proxy:openstack
t=live-$$
slow 1048576
cp "$src" "$MNT/vcloud-proxy/catalogs/migrated/$t.vmdk" 2>"$WORK/cp.err" &
cp_pid=$!
BG_PIDS+=("$cp_pid")
wait_until 60 has "$t" 1 || fail "no template $t appeared"
mkdir -p "$MNT_B"
"$CLOUDFS" "$MNT_B" -f -o "log=$LOG_B,log_level=debug,config=$CLOUDS_CLOUDFS_YAML,cache_dir=$WORK/cache-b,clouds=vcloud" \
    >>"$CFS_OUT" 2>&1 &
B_PID=$!
swept() { grep -q "cloud vcloud: sweep for half-made uploads done" "$LOG_B" 2>/dev/null; }
wait_until 20 swept ||
    fail "mount B did not finish its sweep: $(grep -i sweep "$LOG_B")"
grep -q "removed half-made" "$LOG_B" && fail "mount B removed something: $(grep 'removed half-made' "$LOG_B")"
has "$t" 1 || fail "mount B removed A's template in progress"
wait "$cp_pid" || fail "A's upload failed: $(cat "$WORK/cp.err")"
[ "$(vcd_template migrated "$t" status)" = 8 ] || fail "A's template is not complete"
vcd_remove migrated "$t"
fusermount3 -u "$MNT_B" || fail "cannot unmount B"
wait "$B_PID"
rc=$?
B_PID=
[ $rc = 0 ] || fail "mount B exited $rc"
echo "vCD template of a killed upload removed $ms ms after the remount, a failed one too; Glance images of a dead process (and a killed upload, $st) removed, a live one kept; a live mount's upload untouched"
