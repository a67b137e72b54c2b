#!/bin/bash
# -o allow_other lets other users reach the mount; the modes keep private
# images the mounting user's unless umask= says otherwise: without umask=
# the log warns and user nobody can read neither an image, nor its
# extended attributes, nor .cloudfs/status; with umask=022 nobody reads
# them and there is no warning. (allow_other needs root or
# user_allow_other in /etc/fuse.conf.)
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || grep -q '^user_allow_other' /etc/fuse.conf 2>/dev/null ||
    skip "allow_other needs root or user_allow_other in /etc/fuse.conf"
command -v setpriv >/dev/null || skip "no setpriv to act as another user"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 711 "$WORK" # the way to the mount point, for user nobody
f=$MNT/openstack/images/ext4.qcow2
want=$(manifest openstack ext4 sha256)

mount_cloudfs -o allow_other
[ "$(sha256_of "$f")" = "$want" ] || fail "the mounting user cannot read $f"
[ "$(log_count 'allow_other without umask=')" = 1 ] || fail "no warning for allow_other without umask="
as_nobody head -c 1 "$f" >/dev/null 2>&1 && fail "user nobody read a private image"
as_nobody cat "$MNT/.cloudfs/status" >/dev/null 2>&1 && fail "user nobody read .cloudfs/status"
as_nobody ls "$MNT/openstack/images" >/dev/null 2>&1 && fail "user nobody listed images/"
if command -v getfattr >/dev/null; then
    getfattr -d -m - "$f" 2>/dev/null | grep -q user.cloudfs || fail "the mounting user reads no xattrs"
    as_nobody getfattr -d -m - "$f" 2>/dev/null | grep -q user. && fail "user nobody read the xattrs"
fi
unmount_cloudfs

: >"$LOG"
mount_cloudfs -o allow_other,umask=022
[ "$(as_nobody sha256sum "$f" | cut -d' ' -f1)" = "$want" ] || fail "user nobody cannot read $f with umask=022"
as_nobody cat "$MNT/.cloudfs/status" >/dev/null || fail "user nobody cannot read .cloudfs/status with umask=022"
[ "$(log_count 'allow_other without umask=')" = 0 ] || fail "a warning although umask= is given"
echo "allow_other alone: a warning, user nobody refused; allow_other,umask=022: nobody reads"
