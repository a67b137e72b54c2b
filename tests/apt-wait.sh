#!/bin/bash
# apt_wait: waits (up to APT_WAIT_SECONDS, default 600) while another apt or
# dpkg holds its locks, saying so once, so that a shared machine's other
# install does not make ours fail at random. apt-get itself is also given
# DPkg::Lock::Timeout (APT_LOCK_OPT) for the lock it takes later. Sourced by
# tests/deps.sh; run alone, it waits and exits 0, or 1 when the wait ran out.
APT_LOCK_OPT=(-o "DPkg::Lock::Timeout=${APT_WAIT_SECONDS:-600}")

apt_wait() {
    /usr/bin/python3 - "${APT_WAIT_SECONDS:-600}" /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock \
        /var/lib/apt/lists/lock <<'PYEOF'
import errno, fcntl, os, sys, time
limit, paths = float(sys.argv[1]), sys.argv[2:]
end, said = time.monotonic() + limit, False
def held(path):
    # apt and dpkg lock with fcntl(F_SETLK): a test lock of our own tells.
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError as e:
        return e.errno in (errno.EAGAIN, errno.EACCES)
    finally:
        os.close(fd)
while any(held(p) for p in paths):
    if not said:
        print("deps: another apt or dpkg is running: waiting for it (up to %d s)" % limit, flush=True)
        said = True
    if time.monotonic() > end:
        print("deps: apt is still busy after %d s" % limit, file=sys.stderr)
        sys.exit(1)
    time.sleep(1)
PYEOF
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    apt_wait
fi
