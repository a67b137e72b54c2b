#!/usr/bin/python3
"""copy_file_range calls as cp makes them, and some it never makes, for the
cfr-*.sh tests: cfr-calls.py MODE SRC DST. Prints what each step answered."""
import os, sys, errno
mode, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
fi = os.open(src, os.O_RDONLY)
size = os.fstat(fi).st_size
fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
def close_rc():
    try:
        os.close(fo); return 0
    except OSError as e:
        return e.errno
if mode == "chunks":          # several calls, as cp does for files over 4 GiB
    off = 0
    while off < size:
        n = os.copy_file_range(fi, fo, 4 << 20, off, off)
        assert n > 0, n
        off += n
    print("calls", (size + (4 << 20) - 1) >> 22, "close", close_rc())
elif mode == "extents":       # coreutils >= 9.2 on a sparse source
    off, calls = 0, 0
    while True:
        try:
            d = os.lseek(fi, off, os.SEEK_DATA)
        except OSError as e:
            assert e.errno == errno.ENXIO; break
        h = os.lseek(fi, d, os.SEEK_HOLE)
        while d < h:
            n = os.copy_file_range(fi, fo, h - d, d, d); assert n > 0; d += n; calls += 1
        off = h
    os.ftruncate(fo, size)
    print("calls", calls, "close", close_rc())
elif mode == "write-after":   # direct mode, then a write(): the copy fails
    os.copy_file_range(fi, fo, 1 << 20, 0, 0)
    try:
        os.pwrite(fo, b"x", 2 << 20); print("write ok")
    except OSError as e:
        print("write", errno.errorcode[e.errno])
    print("close", errno.errorcode.get(close_rc(), 0))
elif mode == "short":         # stops halfway: close fails, nothing is made
    os.copy_file_range(fi, fo, size // 2, 0, 0)
    print("close", errno.errorcode.get(close_rc(), 0))
elif mode == "write-first":   # written first: not direct, the kernel falls back
    os.pwrite(fo, os.pread(fi, 65536, 0), 0)
    off = 65536
    while off < size:
        n = os.copy_file_range(fi, fo, size - off, off, off); assert n > 0; off += n
    print("close", close_rc())
elif mode == "bad-truncate":
    os.copy_file_range(fi, fo, size, 0, 0)
    try:
        os.ftruncate(fo, size + 1); print("truncate ok")
    except OSError as e:
        print("truncate", errno.errorcode[e.errno])
    print("close", errno.errorcode.get(close_rc(), 0))
