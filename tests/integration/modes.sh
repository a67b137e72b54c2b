#!/bin/bash
# The mount's modes are the mounting user's only by default (so that
# allow_other does not hand private images to every local user): files
# 0400, directories 0500, 0700 where files can be created, .cloudfs/status
# 0400, all owned by the mounting user; -o umask=022 gives 0444, 0555 and
# 0755 (mode = 0444/0555/0777 less umask); a bad umask= is refused.
. "$(dirname "$0")/lib.sh"

modes() { # the modes and owner of a file, a view, images/, by-id/, the root, .cloudfs, status
    stat -c '%a %u:%g' "$MNT/openstack/images/ext4.qcow2" "$MNT/openstack/images/ext4.vmdk" \
        "$MNT/openstack/images" "$MNT/openstack/images/by-id" "$MNT" "$MNT/.cloudfs" \
        "$MNT/.cloudfs/status" | tr '\n' ' '
}
me="$(id -u):$(id -g)"

mount_cloudfs
got=$(modes)
want="400 $me 400 $me 700 $me 500 $me 500 $me 500 $me 400 $me "
[ "$got" = "$want" ] || fail "default modes: got '$got', want '$want'"
unmount_cloudfs

mount_cloudfs -o umask=022
got=$(modes)
want="444 $me 444 $me 755 $me 555 $me 555 $me 555 $me 444 $me "
[ "$got" = "$want" ] || fail "umask=022: got '$got', want '$want'"
unmount_cloudfs

mkdir -p "$MNT"
"$CLOUDFS" "$MNT" -f -o "log=$LOG,umask=0800" >"$WORK/bad.out" 2>&1 && fail "umask=0800 was accepted"
grep -q "umask= takes an octal" "$WORK/bad.out" || fail "no message for umask=0800: $(cat "$WORK/bad.out")"
mountpoint -q "$MNT" && fail "mounted with umask=0800"
echo "default modes 0400/0500/0700 (owner $me), umask=022: 0444/0555/0755, umask=0800 refused"
