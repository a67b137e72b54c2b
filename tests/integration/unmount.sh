#!/bin/bash
# Unmounting: while a file is open `fusermount3 -u` refuses (busy) and the
# mount keeps working; once it is closed, `fusermount3 -u` unmounts and
# cloudfs exits 0. SIGTERM to cloudfs also unmounts it and ends it with
# exit status 0 (fs/shutdown.c; unmount-finish.sh has uploads running).
. "$(dirname "$0")/lib.sh"
gone() { ! kill -0 "$CFS_PID" 2>/dev/null; }
mount_cloudfs
f=$MNT/openstack/images/ext4.qcow2
[ "$(sha256_of "$f")" = "$(manifest openstack ext4 sha256)" ] || fail "reading failed"

exec 3<"$f"
fusermount3 -u "$MNT" 2>/dev/null && fail "fusermount3 -u succeeded with a file open"
mountpoint -q "$MNT" || fail "the mount went away with a file open"
head -c 1000 <&3 >/dev/null || fail "the open file is no longer readable"
ls "$MNT/openstack/images" >/dev/null || fail "the mount no longer answers"
exec 3<&-

fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
wait_until 10 gone || fail "cloudfs still runs 10 s after fusermount3 -u"
wait "$CFS_PID"
rc=$?
CFS_PID=
[ $rc = 0 ] || fail "cloudfs exited with $rc after fusermount3 -u"
mountpoint -q "$MNT" && fail "still mounted"

mount_cloudfs
ls "$MNT/openstack/images" >/dev/null || fail "the second mount does not list"
kill -TERM "$CFS_PID"
wait_until 10 gone || fail "cloudfs still runs 10 s after SIGTERM"
wait "$CFS_PID"
rc=$?
CFS_PID=
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
[ $rc = 0 ] || fail "cloudfs exited with $rc after SIGTERM"
exit 0
