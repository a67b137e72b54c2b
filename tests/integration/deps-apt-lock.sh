#!/bin/bash
# make deps waits for another apt instead of failing: while a process holds
# dpkg's lock (as apt-get does, with fcntl), tests/apt-wait.sh says that it
# waits, and returns 0 once the lock is released; the apt-get calls of
# tests/deps.sh go through it and get DPkg::Lock::Timeout as well.
. "$(dirname "$0")/lib.sh"
lock=/var/lib/dpkg/lock-frontend
[ -e "$lock" ] || skip "no $lock"
export WORK
"$PY" - "$lock" <<'PYEOF' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(os.environ["WORK"] + "/locked", "w").close()
time.sleep(3)
PYEOF
holder=$!
BG_PIDS+=("$holder")
wait_until 10 test -e "$WORK/locked" || fail "could not take the dpkg lock for the test"
t0=$(now_ms)
APT_WAIT_SECONDS=60 bash "$TOP/tests/apt-wait.sh" >"$WORK/out" 2>&1 || fail "apt-wait failed: $(cat "$WORK/out")"
ms=$(($(now_ms) - t0))
grep -q 'waiting for it' "$WORK/out" || fail "no message about the wait: $(cat "$WORK/out")"
[ "$ms" -ge 1500 ] || fail "returned after $ms ms while the lock was held"
grep -q 'apt_wait' "$TOP/tests/deps.sh" && grep -q 'APT_LOCK_OPT' "$TOP/tests/deps.sh" ||
    fail "tests/deps.sh does not wait for apt's lock"
echo "waited $ms ms for the lock, with a message"
exit 0
