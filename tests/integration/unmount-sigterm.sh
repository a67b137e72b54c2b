#!/bin/bash
# kill PID (SIGTERM) of a daemonized cloudfs leaves no mount behind:
# mountpoint(1) says the mount point is not mounted and the process is
# gone, also while a shell has its working directory in the mount (the
# unmount waits, then detaches).
. "$(dirname "$0")/lib.sh"
mkdir -p "$MNT"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; fusermount3 -uz "$MNT" 2>/dev/null; cleanup' EXIT
for busy in no yes; do
    "$CLOUDFS" "$MNT" -o "log=$LOG,clouds=openstack" >>"$CFS_OUT" 2>&1 || fail "cloudfs did not start"
    wait_until 10 mountpoint -q "$MNT" || fail "not mounted"
    pid=$(pgrep -n -f "^$CLOUDFS $MNT") || fail "no cloudfs process"
    ls "$MNT/openstack/images" >/dev/null || fail "listing failed"
    if [ $busy = yes ]; then
        (cd "$MNT/openstack/images" && exec sleep 60) &
        holder=$!
        BG_PIDS+=("$holder")
        sleep 0.5
    fi
    kill "$pid"
    wait_until 30 sh -c "! mountpoint -q '$MNT'" || fail "still mounted 30 s after SIGTERM (busy: $busy): $(grep " $MNT " /proc/mounts)"
    wait_until 30 sh -c "! kill -0 $pid 2>/dev/null" || fail "cloudfs still runs 30 s after SIGTERM"
    grep -q "$MNT" /proc/mounts && fail "/proc/mounts still lists $MNT"
    [ $busy = yes ] && kill "$holder" 2>/dev/null
    echo "busy $busy: unmounted, exited"
done
exit 0
