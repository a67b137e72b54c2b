#!/bin/bash
# createImage from 2.45: 202 with {"image_id": ID} in the body and no Location header; the
# image is the one in Glance (SHUTOFF servers are snapshotted too: db1), and turns active.
. "$(dirname "$0")/lib.sh"
db1=$(sid db1)
MV=2.45 snapshot "$db1" "$NAME_PREFIX-db1"
expect_match "body image_id" '^[0-9a-f-]{36}$' "$(j .image_id)"
expect "Location header at 2.45" "" "$(hdr Location)"
expect "answer version" "compute 2.45" "$(hdr OpenStack-API-Version)"
expect "instance_uuid of the image" "$db1" "$(image_field "$IMAGE" instance_uuid)"
wait_image "$IMAGE" active 10
curl -s -H "X-Auth-Token: $TOKEN" "$CLOUDS_GLANCE_URL/v2/images/$IMAGE/file" -o "$W/file"
expect "sha256 of the db1 snapshot" "$(sha256sum <"$(disk db1)")" "$(sha256sum <"$W/file")"
# and 2.44 still has the Location form
sleep 0.5
MV=2.44 snapshot "$(sid app-01)" "$NAME_PREFIX-app01"
expect_match "2.44 Location" "/images/$IMAGE\$" "$(hdr Location)"
exit 0
