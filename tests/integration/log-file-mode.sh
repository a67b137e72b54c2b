#!/bin/bash
# The log= file is created for its owner only (mode 600, whatever the
# umask), and a symbolic link in its place is not followed: cloudfs says
# so and exits non-zero, and the link's target stays untouched.
. "$(dirname "$0")/lib.sh"
umask 022
mount_cloudfs
ls "$MNT" >/dev/null || fail "the mount does not answer"
[ "$(stat -c %a "$LOG")" = 600 ] || fail "the log was created with mode $(stat -c %a "$LOG"), expected 600"
unmount_cloudfs

echo "someone else's file" >"$WORK/target"
before=$(sha256_of "$WORK/target")
ln -s "$WORK/target" "$WORK/link.log"
mkdir -p "$WORK/mnt2"
timed 60 "$CLOUDFS" "$WORK/mnt2" -f -o "log=$WORK/link.log" >"$WORK/out" 2>&1
if mountpoint -q "$WORK/mnt2"; then
    fusermount3 -uz "$WORK/mnt2"
    fail "cloudfs mounted with its log a symbolic link"
fi
case $RC in 0 | 124) fail "cloudfs exited $RC with its log a symbolic link" ;; esac
grep -q 'symbolic link' "$WORK/out" || fail "cloudfs does not say the log is a symbolic link: $(cat "$WORK/out")"
[ "$(sha256_of "$WORK/target")" = "$before" ] || fail "the link's target was written to"
echo "log created 600, a symbolic link refused"
