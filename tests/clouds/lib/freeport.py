#!/usr/bin/python3
"""freeport.py N: prints N distinct free TCP ports on 127.0.0.1, one per line.

Several instances of the local clouds run at once (the shared one and the private
ones of tests), so ports are picked at random from 20000-32767 (below Linux's
ephemeral range, so outgoing connections do not take them meanwhile), tested by
binding, and remembered for two minutes in a small registry under a lock so that two
`up` running at the same moment do not pick the same port before binding it.
"""
import fcntl
import os
import random
import socket
import sys
import time

REGISTRY = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cloudfs-clouds-ports")
HOLD = 120


def free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))   # no SO_REUSEADDR: also avoids ports in TIME_WAIT
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    n = int(sys.argv[1])
    now = time.time()
    with open(REGISTRY + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        recent = {}
        try:
            with open(REGISTRY) as f:
                for line in f:
                    p, t = line.split()
                    if now - float(t) < HOLD:
                        recent[int(p)] = float(t)
        except (OSError, ValueError):
            pass
        picked = []
        for _ in range(5000):
            p = random.randint(20000, 32767)
            if p not in recent and p not in picked and free(p):
                picked.append(p)
                if len(picked) == n:
                    break
        if len(picked) < n:
            sys.exit("freeport: no free ports found")
        for p in picked:
            recent[p] = now
        tmp = REGISTRY + ".tmp"
        with open(tmp, "w") as f:
            f.writelines("%d %f\n" % kv for kv in recent.items())
        os.replace(tmp, REGISTRY)
    print("\n".join(map(str, picked)))


if __name__ == "__main__":
    main()
