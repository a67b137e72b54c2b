#!/usr/bin/python3
"""samples.py CACHE_ROOT DEST_DIR: provides the sample image files and prints the plan.

The sample images (a real ext4 file system as qcow2 / compressed qcow2 / raw, twins,
a name with a slash, a >2 GiB sparse raw image, small fillers, two images of the second
project) take a while to build, so they are built once into CACHE_ROOT/VERSION and
then hard-linked (or copied, sparse, across file systems) into DEST_DIR by every `up`.
The cache index records size, mtime and sha256 of each file; a file that was changed
since (e.g. a test wrote into a hard link) makes the cache rebuild.

Output on stdout, one line per image to upload, tab-separated:
    cloud  name  disk_format  container_format  size  sha256  path
"""
import fcntl
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

VERSION = "v1"      # bump when the list or the content of the samples changes
MiB = 1 << 20
GiB = 1 << 30

# The directories copied into the ext4 sample (as top-level directories named like
# them): real files, many of them (~1400), stable contents (package code, without the
# __pycache__ directories that running the services writes).
EXT4_SOURCES = ["/usr/lib/python3/dist-packages/glance", "/usr/lib/python3/dist-packages/keystone"]
EXT4_SIZE = 128 * MiB
BIG_SIZE = 2 * GiB + 1 * MiB + 123          # > 2 GiB and not a multiple of 4096

FILLER_SIZES = [1024, 1500, 4096, 4097, 8191, 12345, 16384, 20000, 24576, 30000,
                32768, 33333, 40960, 45000, 49152, 50001, 57344, 60000, 65535, 65536]

# (cloud, image name, file, disk_format)
PLAN = ([("openstack", "ext4", "ext4.qcow2", "qcow2"),
         ("openstack", "ext4-compressed", "ext4-compressed.qcow2", "qcow2"),
         ("openstack", "ext4-raw", "ext4.raw", "raw"),
         ("openstack", "big", "big.raw", "raw"),
         ("openstack", "twin", "twin-1.qcow2", "qcow2"),
         ("openstack", "twin", "twin-2.qcow2", "qcow2"),
         ("openstack", "a/b", "a_b.raw", "raw")]
        + [("openstack", "filler-%02d" % (i + 1), "filler-%02d.raw" % (i + 1), "raw")
           for i in range(len(FILLER_SIZES))]
        + [("openstack2", "only-in-2", "only-in-2.qcow2", "qcow2"),
           ("openstack2", "twin", "twin-3.qcow2", "qcow2")])


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def write_regions(path, size, regions, seed):
    """A sparse file of `size` bytes: pseudo-random data in `regions` [(offset, length)],
    holes (zeros) elsewhere.  Deterministic for a given seed."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        for off, length in regions:
            f.seek(off)
            left = length
            while left:
                n = min(left, 4 * MiB)
                f.write(rnd.randbytes(n))
                left -= n


def qcow2_from_regions(path, size, regions, seed, tmp):
    raw = os.path.join(tmp, os.path.basename(path) + ".raw")
    write_regions(raw, size, regions, seed)
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, path)
    os.unlink(raw)


def build(d):
    tmp = tempfile.mkdtemp(dir=d)
    try:
        # ext4: a real file system with the files of EXT4_SOURCES (no __pycache__).
        src = os.path.join(tmp, "src")
        for s in EXT4_SOURCES:
            shutil.copytree(s, os.path.join(src, os.path.basename(s)),
                            ignore=shutil.ignore_patterns("__pycache__"))
        raw = os.path.join(d, "ext4.raw")
        with open(raw, "wb") as f:
            f.truncate(EXT4_SIZE)
        run("mkfs.ext4", "-q", "-F", "-L", "cloudfs-sample", "-m", "0",
            "-U", "6b1e3b0e-6f1a-4c55-9d2e-0c1f5a7c2b01",
            "-E", "root_owner=0:0,hash_seed=2c9a4f7e-1d3b-4e8a-b5c6-7f0e9d8c1a2b",
            "-d", src, raw)
        shutil.rmtree(src)
        plain = subprocess.Popen(["qemu-img", "convert", "-f", "raw", "-O", "qcow2",
                                  raw, os.path.join(d, "ext4.qcow2")])
        run("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2",
            raw, os.path.join(d, "ext4-compressed.qcow2"))
        if plain.wait() != 0:
            raise RuntimeError("qemu-img convert failed")

        # big: data at the start, in the middle, across the 2 GiB boundary and at the
        # end (which is not 4096-aligned); zeros, kept as holes, everywhere else.
        write_regions(os.path.join(d, "big.raw"), BIG_SIZE,
                      [(0, 1 * MiB), (GiB + 12345, 100000),
                       (2 * GiB - 512 * 1024, MiB), (BIG_SIZE - 300000, 300000)], seed=1)

        qcow2_from_regions(os.path.join(d, "twin-1.qcow2"), 6 * MiB,
                           [(0, 2 * MiB), (4 * MiB + 4096, 1 * MiB)], 11, tmp)
        qcow2_from_regions(os.path.join(d, "twin-2.qcow2"), 6 * MiB,
                           [(MiB, 3 * MiB)], 12, tmp)
        qcow2_from_regions(os.path.join(d, "twin-3.qcow2"), 1 * MiB,
                           [(0, 256 * 1024)], 13, tmp)
        qcow2_from_regions(os.path.join(d, "only-in-2.qcow2"), 2 * MiB,
                           [(64 * 1024, 512 * 1024)], 14, tmp)
        write_regions(os.path.join(d, "a_b.raw"), 10000, [(0, 10000)], seed=2)
        for i, n in enumerate(FILLER_SIZES):
            write_regions(os.path.join(d, "filler-%02d.raw" % (i + 1)), n, [(0, n)], 100 + i)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    with open(os.path.join(d, "index.tsv.tmp"), "w") as idx:
        for fname in sorted({p[2] for p in PLAN}):
            path = os.path.join(d, fname)
            st = os.stat(path)
            idx.write("%s\t%d\t%d\t%s\n" % (fname, st.st_size, st.st_mtime_ns, sha256(path)))
    with open(os.path.join(d, "SOURCE"), "w") as f:
        f.write("ext4 sample: mkfs.ext4 -d copy of %s (without __pycache__), %d bytes\n"
                % (" ".join(EXT4_SOURCES), EXT4_SIZE))
    os.replace(os.path.join(d, "index.tsv.tmp"), os.path.join(d, "index.tsv"))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MiB)
            if not b:
                return h.hexdigest()
            h.update(b)


def load_index(d):
    """{file: (size, sha256)} if every cached file is as recorded, else None."""
    try:
        with open(os.path.join(d, "index.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
    except OSError:
        return None
    idx = {}
    for fname, size, mtime, digest in rows:
        try:
            st = os.stat(os.path.join(d, fname))
        except OSError:
            return None
        if st.st_size != int(size) or st.st_mtime_ns != int(mtime):
            return None
        idx[fname] = (int(size), digest)
    if any(p[2] not in idx for p in PLAN):
        return None
    return idx


def place(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        subprocess.run(["cp", "--reflink=auto", "--sparse=always", src, dst], check=True)


def main():
    root, dest = sys.argv[1], sys.argv[2]
    d = os.path.join(root, VERSION)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(root, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # one builder at a time
        idx = load_index(d)
        if idx is None:
            sys.stderr.write("samples: building the sample images in %s (once)\n" % d)
            for name in os.listdir(d):
                p = os.path.join(d, name)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
            build(d)
            idx = load_index(d)
            if idx is None:
                sys.exit("samples: cache index inconsistent after build")
        os.makedirs(dest, exist_ok=True)
        for fname in idx:
            place(os.path.join(d, fname), os.path.join(dest, fname))
    for cloud, name, fname, fmt in PLAN:
        size, digest = idx[fname]
        print("\t".join([cloud, name, fmt, "bare", str(size), digest,
                         os.path.join(os.path.abspath(dest), fname)]))


if __name__ == "__main__":
    main()
