#!/bin/bash
# A Keystone that accepts connections and never answers (a local listener):
# with timeout=2 and retries=1, `ls MNT/t/images` fails within a bound
# instead of hanging, cloudfs keeps running, the mount root still answers,
# and a second attempt fails quickly too.
. "$(dirname "$0")/lib.sh"
"$PY" - "$WORK/port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)          # never read, never answer, never close
PY
BG_PIDS+=($!)
wait_until 10 test -s "$WORK/port" || fail "the silent listener did not start"
port=$(cat "$WORK/port")

clouds_yaml "$WORK/clouds.yaml" "http://127.0.0.1:$port/v3" </dev/null
export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
mount_cloudfs -o clouds=t,timeout=2,connect_timeout=2,retries=1

timed 60 ls "$MNT/t/images" >/dev/null 2>"$WORK/err"
[ $RC = 124 ] && fail "ls of a cloud whose Keystone never answers still hangs after 60 s"
[ $RC != 0 ] || fail "ls succeeded against a silent Keystone"
[ $MS -lt 20000 ] || fail "ls took $MS ms to fail (timeout=2, retries=1)"
echo "ls failed after $MS ms: $(cat "$WORK/err")"
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"
timed 5 ls "$MNT" >"$WORK/root"
[ $RC = 0 ] && grep -qx t "$WORK/root" || fail "the mount root does not answer (exit $RC)"
timed 60 ls "$MNT/t/images" >/dev/null 2>&1
[ $RC != 0 ] && [ $RC != 124 ] || fail "the second ls: exit $RC"
[ $MS -lt 20000 ] || fail "the second ls took $MS ms to fail"
[ "$(log_count 'keystone: cloud t')" -ge 1 ] || fail "the log does not say what failed"
kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited"
exit 0
