#!/bin/bash
# -o clouds= limits the mount to some clouds; ':' separates names.
. "$(dirname "$0")/lib.sh"

mount_cloudfs -o clouds=openstack2
[ "$(ls "$MNT")" = "openstack2" ] || fail "clouds=openstack2 shows: $(ls "$MNT" | tr '\n' ' ')"
unmount_cloudfs
mount_cloudfs -o clouds=openstack:openstack2
[ "$(ls "$MNT" | tr '\n' ' ')" = "openstack openstack2 " ] || fail "clouds=openstack:openstack2 shows: $(ls "$MNT" | tr '\n' ' ')"
unmount_cloudfs
"$CLOUDFS" "$MNT" -f -o clouds=nosuchcloud,log="$LOG" >/dev/null 2>&1 && fail "a mount with no cloud should fail"
exit 0
