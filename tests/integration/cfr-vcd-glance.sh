#!/bin/bash
# cp of a vCD template's .vmdk (exported into the download cache) into
# OpenStack images/ goes through copy_file_range, cloud to cloud: the new
# image is a vmdk whose bytes (sha256, through Glance's API) are the
# exported disk's, and no spool file ever holds data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
mount_cfr
gold=$MNT/vcloud/catalogs/golden
[ -d "$gold" ] || skip "this cloudfs has no vcloud provider"
src=$(ls "$gold"/*.vmdk | head -1)
name=cfrv$$
trap 'os_delete_image openstack $name; vcd_knobs_reset; cleanup' EXIT

spool_watch_start
cfr_cp "$src" "$MNT/openstack/images/$name.vmdk"
spool_watch_check
want=$(sha256_of "$src")
tok=$(os_token)
id=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=$name" | json_get images 0 id) ||
    fail "Glance has no image $name"
img=$(glance_image "$id" "$tok")
[ "$(echo "$img" | json_get disk_format)" = vmdk ] || fail "disk_format $(echo "$img" | json_get disk_format), want vmdk"
got=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id/file" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the image's bytes differ from the exported vmdk's"
# Only the export's download is in the cache, no spool file.
no_spool_files
exit 0
