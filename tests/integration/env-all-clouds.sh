#!/bin/bash
# The README's flow: with nothing but DIR/env of tests/clouds/up in a clean
# environment, a plain `cloudfs MNT` shows every local cloud: the two
# OpenStack projects and the vCD emulator's catalogs.
. "$(dirname "$0")/lib.sh"
mkdir -p "$MNT"
env -i PATH="$PATH" HOME="$WORK" bash -c '. "$1" && exec "$2" "$3" -f -o "log=$4"' _ \
    "$CLOUDS_ENV" "$CLOUDFS" "$MNT" "$LOG" >>"$CFS_OUT" 2>&1 &
CFS_PID=$!
wait_until 10 mountpoint -q "$MNT" || fail "cloudfs did not mount"
for c in openstack openstack2 vcloud; do
    [ -d "$MNT/$c" ] || fail "no $c in a plain mount with DIR/env: $(ls "$MNT")"
done
ls "$MNT/vcloud/catalogs" | grep -qx migrated || fail "vcloud shows no catalog migrated: $(ls "$MNT/vcloud/catalogs")"
ls "$MNT/openstack/images" | grep -q '^ext4\.qcow2$' || fail "openstack shows no ext4.qcow2"
echo "a plain mount with DIR/env shows: $(ls "$MNT" | tr '\n' ' ')"
exit 0
