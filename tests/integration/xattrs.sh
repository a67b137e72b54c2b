#!/bin/bash
# Metadata as extended attributes: user.glance.* equal Glance's own answer,
# user.cloudfs.id and user.cloudfs.digest name the image and its digest.
. "$(dirname "$0")/lib.sh"
mount_cloudfs

id=$(manifest openstack ext4 id)
f=$MNT/openstack/images/ext4.qcow2
token=$(os_token)
json=$(curl -sf -H "X-Auth-Token: $token" "$CLOUDS_GLANCE_URL/v2/images/$id") || fail "Glance GET image"
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$json" "$1"; }

[ "$(getfattr --absolute-names -n user.cloudfs.id --only-values "$f")" = "$id" ] || fail "user.cloudfs.id"
for k in name disk_format container_format checksum os_hash_value owner; do
    got=$(getfattr --absolute-names -n "user.glance.$k" --only-values "$f") || fail "no user.glance.$k"
    [ "$got" = "$(field "$k")" ] || fail "user.glance.$k is '$got', Glance says '$(field "$k")'"
done
[ "$(getfattr --absolute-names -n user.cloudfs.digest --only-values "$f")" = "sha512:$(field os_hash_value)" ] ||
    fail "user.cloudfs.digest"
getfattr --absolute-names -d -m - "$f" | grep -q '^user.glance.size="' || fail "listxattr lacks user.glance.size"
getfattr --absolute-names -n user.glance.nope "$f" 2>&1 | grep -q "No such attribute" || fail "unknown attribute"
exit 0
