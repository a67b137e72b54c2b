#!/bin/bash
# createImage (2.1): 202 with Location = Glance's /images/ID and no body; the image exists in
# the real Glance at once, queued, private, owned by the caller's project, qcow2/bare, with
# image_type=snapshot, instance_uuid, base_image_ref, the base image's properties and the given
# metadata; the server's task_state shows the snapshot; after snapshot_delay it becomes active
# with the server's disk bytes (sha256 of GET /v2/images/ID/file = the disk file's).
. "$(dirname "$0")/lib.sh"
knobs '{"snapshot_delay":5}' # long enough to observe under load (CI runs at load 6)
web1=$(sid web1)
snapshot "$web1" "$NAME_PREFIX-web1" '{"purpose":"nova-tests"}'
expect_match "Location" "^$CLOUDS_GLANCE_URL/images/[0-9a-f-]{36}\$" "$(hdr Location)"
[ ! -s "$W/body" ] || fail "createImage at 2.1 answered a body: $(head -c 200 "$W/body")"
glance GET "/v2/images/$IMAGE"
expect "GET the image in Glance" 200 "$CODE"
cp "$W/body" "$W/img.json"
expect "status right after createImage" queued "$(j .status)"
expect "name" "$NAME_PREFIX-web1" "$(j .name)"
expect "formats" "qcow2 bare" "$(j '"\(.disk_format) \(.container_format)"')"
expect "image_type" snapshot "$(j .image_type)"
expect "instance_uuid" "$web1" "$(j .instance_uuid)"
nova GET "/servers/$web1"
base=$(j .server.image.id)
expect "task_state during the snapshot" image_snapshot "$(j '.server["OS-EXT-STS:task_state"]')"
expect "status during the snapshot" ACTIVE "$(j .server.status)"
expect "base_image_ref" "$base" "$(jq -r .base_image_ref "$W/img.json")"
expect "metadata given" nova-tests "$(jq -r .purpose "$W/img.json")"
expect "base image property os_distro" ubuntu "$(jq -r .os_distro "$W/img.json")"
expect "visibility" private "$(jq -r .visibility "$W/img.json")"
expect "min_disk (flavor disk)" 10 "$(jq -r .min_disk "$W/img.json")"
pid=$(curl -s -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$CLOUDS_KEYSTONE_URL/auth/tokens" | jq -r .token.project.id)
expect "owner = the caller's project" "$pid" "$(jq -r .owner "$W/img.json")"
# a second snapshot while this one runs: Nova refuses it (task_state)
nova POST "/servers/$web1/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "createImage during a snapshot" 409 "$CODE"
expect_match "409 message" "task_state image_" "$(j .conflictingRequest.message)"
wait_image "$IMAGE" active 25
expect "size" "$(stat -c %s "$(disk web1)")" "$(image_field "$IMAGE" size)"
curl -s -H "X-Auth-Token: $TOKEN" "$CLOUDS_GLANCE_URL/v2/images/$IMAGE/file" -o "$W/file"
expect "sha256 of the image data = the disk file's" "$(sha256sum <"$(disk web1)")" "$(sha256sum <"$W/file")"
expect "the data is a qcow2" qcow2 "$(qemu-img info --output=json "$W/file" | jq -r .format)"
grep -qa "cloudfs nova fixture web1 sector" "$W/file" || fail "the recognisable fixture text is not in the data"
for i in $(seq 20); do [ "$(task_state "$web1")" = null ] && break; sleep 0.1; done
expect "task_state afterwards" null "$(task_state "$web1")"
expect "emulator's record" active "$(ctl GET state | jq -r --arg i "$IMAGE" '.snapshots[] | select(.image_id == $i) | .phase')"
exit 0
