#!/bin/bash
# cloudfs makes itself undumpable (PR_SET_DUMPABLE 0), so that its
# passwords and tokens reach no core file, and other processes of the same
# user can neither ptrace it nor read its memory or /proc/PID/environ.
# Run as nobody (as root everything is root's anyway): the kernel then
# gives cloudfs's /proc/PID/environ to root, and nobody cannot read it,
# where a dumpable process of nobody's (the control) keeps it.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to run cloudfs as nobody"
command -v setpriv >/dev/null || skip "no setpriv"
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups) # not a function: $! is the process
as_nobody() { "${NOBODY[@]}" "$@"; }

# owner PID: the owner of /proc/PID/environ.
owner() { stat -c %u "/proc/$1/environ"; }

# The control: a dumpable process of nobody's.
"${NOBODY[@]}" sleep 300 &
pid=$!
BG_PIDS+=("$pid")
runs() { [ "$(readlink "/proc/$1/exe")" = "$2" ]; }
wait_until 20 runs "$pid" "$(readlink -f "$(command -v sleep)")" || fail "sleep did not start"
[ "$(owner "$pid")" = "$(id -u nobody)" ] || skip "/proc/PID/environ of nobody's process is uid $(owner "$pid")'s"

# Nobody's own mount: configuration, cache, log and mount point its own.
chmod 711 "$WORK"
NB=$WORK/nb
mkdir -p "$NB/mnt" "$NB/cache"
cp "$OS_CLIENT_CONFIG_FILE" "$NB/clouds.yaml"
cp "$CLOUDFS" "$NB/cloudfs" # the checkout may be where nobody cannot go
CLOUDFS=$NB/cloudfs
chown -R nobody "$NB"
as_nobody test -x "$CLOUDFS" || skip "nobody cannot run $CLOUDFS"
export OS_CLIENT_CONFIG_FILE=$NB/clouds.yaml CLOUDFS_CACHE_DIR=$NB/cache
MNT=$NB/mnt
LOG=$NB/cloudfs.log
cd "$NB" || fail "cd"
# Root cannot stat nobody's FUSE mount: /proc/mounts says when it is there.
"${NOBODY[@]}" "$CLOUDFS" "$MNT" -f -o "log=$LOG" >>"$CFS_OUT" 2>&1 &
CFS_PID=$!
mounted() { grep -q " $MNT fuse" /proc/mounts; }
for _ in $(seq 300); do
    mounted && break
    kill -0 "$CFS_PID" 2>/dev/null || skip "cloudfs cannot mount as nobody here: $(tail -1 "$CFS_OUT")"
    sleep 0.1
done
mounted || fail "cloudfs did not mount as nobody within 30 s"
as_nobody ls "$MNT/openstack/images" >/dev/null || fail "the mount does not list for nobody"

[ "$(owner "$CFS_PID")" = 0 ] ||
    fail "cloudfs's /proc/PID/environ belongs to uid $(owner "$CFS_PID"): cloudfs is dumpable"
as_nobody cat "/proc/$CFS_PID/environ" >/dev/null 2>&1 &&
    fail "nobody reads the /proc/PID/environ of nobody's cloudfs"
echo "cloudfs is not dumpable"
