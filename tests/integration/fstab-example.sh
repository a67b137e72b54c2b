#!/bin/bash
# The line of examples/fstab, its paths made the local clouds' and a
# temporary PREFIX's install, mounts with `mount MOUNTPOINT` under env -i
# (mount -T reads that fstab) and shows every local cloud; umount ends it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/install.lib"
example=$TOP/examples/fstab
line=$(grep -v '^[[:space:]]*#' "$example" | grep -v '^[[:space:]]*$')
[ "$(echo "$line" | wc -l)" = 1 ] || fail "examples/fstab should hold one line: $line"
for s in /mnt/clouds /etc/cloudfs/cloudfs.yaml /etc/openstack/clouds.yaml; do
    [[ $line == *"$s"* ]] || fail "examples/fstab no longer names $s: $line"
done
read -r source dir type opts dump pass <<<"$line"
[ "$type" = fuse.cloudfs ] || fail "examples/fstab's type is $type"
opts=${opts//\/etc\/cloudfs\/cloudfs.yaml/$CLOUDS_DIR/cloudfs.yaml}
opts=${opts//\/etc\/openstack\/clouds.yaml/$CLOUDS_DIR/clouds.yaml}
echo "$source $MNT $type $opts,log=$LOG,cache_dir=$WORK/cache $dump $pass" >"$WORK/fstab"

take_helper
make_in install PREFIX="$PREFIX"
mkdir -p "$MNT"
(cd / && env -i /bin/mount -T "$WORK/fstab" "$MNT") >>"$CFS_OUT" 2>&1 ||
    fail "env -i mount -T FSTAB $MNT failed with the line: $(cat "$WORK/fstab")"
[ "$(findmnt -n -o SOURCE,FSTYPE "$MNT")" = "cloudfs fuse.cloudfs" ] ||
    fail "findmnt: $(findmnt -n -o SOURCE,FSTYPE "$MNT")"
mount_pid || fail "no cloudfs process serving $MNT"
check_listing
umount_and_wait
make_in uninstall PREFIX="$PREFIX"
echo "examples/fstab's line mounted $ALL_CLOUDS under env -i"
exit 0
