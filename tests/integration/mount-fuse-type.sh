#!/bin/bash
# With cloudfs installed into a temporary PREFIX, `mount -t fuse.cloudfs`
# under env -i (no PATH, no HOME, no OS_* variables) mounts every local cloud
# by config= and clouds_yaml=, fstab's options that are not cloudfs's
# (_netdev, nofail, noauto, x-systemd.*) included; umount unmounts and
# cloudfs exits; make uninstall takes the helper away again, and then the
# type is no longer mountable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/install.lib"
take_helper
make_in install PREFIX="$PREFIX"
[ -x "$HELPER" ] || fail "make install put no $HELPER"
mkdir -p "$MNT"
opts=$CFG_OPTS,_netdev,nofail,noauto,x-systemd.mount-timeout=30,log=$LOG,cache_dir=$WORK/cache
(cd / && env -i /bin/mount -t fuse.cloudfs cloudfs "$MNT" -o "$opts") >>"$CFS_OUT" 2>&1 ||
    fail "env -i mount -t fuse.cloudfs failed"
mountpoint -q "$MNT" || fail "mount returned but $MNT is not mounted"
[ "$(findmnt -n -o FSTYPE "$MNT")" = fuse.cloudfs ] || fail "type $(findmnt -n -o FSTYPE "$MNT"), not fuse.cloudfs"
mount_pid || fail "no cloudfs process serving $MNT"
pid=$CFS_PID
[ "$(readlink "/proc/$pid/exe")" = "$PREFIX/bin/cloudfs" ] ||
    fail "the mount runs $(readlink "/proc/$pid/exe"), not $PREFIX/bin/cloudfs"
tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^OS_' && fail "cloudfs got OS_* variables"
check_listing
umount_and_wait

make_in uninstall PREFIX="$PREFIX"
[ -e "$HELPER" ] && fail "make uninstall left $HELPER"
left=$(find "$PREFIX" ! -type d)
[ -z "$left" ] || fail "make uninstall left $left"
# (unless another cloudfs is where /bin/sh's default PATH finds it)
if ! env -i /bin/sh -c 'command -v cloudfs' >/dev/null; then
    (cd / && env -i /bin/mount -t fuse.cloudfs cloudfs "$MNT" -o "$opts") >>"$CFS_OUT" 2>&1 &&
        fail "mount -t fuse.cloudfs still works after make uninstall"
    mountpoint -q "$MNT" && fail "mounted after make uninstall"
fi
echo "env -i mount -t fuse.cloudfs mounted $ALL_CLOUDS from $PREFIX; umount and uninstall undid it"
exit 0
