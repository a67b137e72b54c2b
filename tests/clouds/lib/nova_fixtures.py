#!/usr/bin/python3
"""nova_fixtures.py CACHE_ROOT DEST_DIR: the Nova emulator's fixtures (ISSUE8 contract).

Writes DEST_DIR/fixtures.json (flavors, servers), DEST_DIR/servers.tsv (`# project name id status
flavor vcpus ram_mib disk_path`) and the servers' disks DEST_DIR/disks/<server id>.qcow2.  A disk
is a qcow2 made by `qemu-img convert -O qcow2` from a sparse raw disk whose 64 KiB grains carry
recognisable text ("cloudfs nova fixture NAME sector N"), seeded pseudo-random bytes or nothing;
the disks are built once into CACHE_ROOT/nova-v1 and hard-linked (or copied) from there.

World: project demo has web1 (ACTIVE, m1.small, ~8 MiB of data, 64 MiB virtual), db1 (SHUTOFF,
m1.medium), broken (ERROR), app-01 .. app-07 (ACTIVE/SHUTOFF, small disks): 10 servers, more than
two pages of 5; project demo2 has other1.  Ids are stable (uuid5) across runs.
"""
import fcntl
import json
import os
import random
import shutil
import subprocess
import sys
import uuid

VERSION = "nova-v1"     # bump when the cached disks change
MiB = 1 << 20
NS = uuid.UUID("0c6f5f3e-5b2a-4d8e-9a57-3f1e0e5a7c21")

FLAVORS = [  # id, name, vcpus, ram MiB, disk GiB
    ("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 10), ("3", "m1.medium", 2, 4096, 20),
    ("4", "m1.large", 4, 8192, 40), ("5", "m1.xlarge", 8, 16384, 80)]

IMAGES = {  # the servers' base images (not in Glance): id, name, properties copied into snapshots
    "ubuntu": {"name": "ubuntu-22.04", "properties": {"os_distro": "ubuntu", "os_version": "22.04",
                                                        "hw_disk_bus": "virtio"}},
    "debian": {"name": "debian-12", "properties": {"os_distro": "debian", "os_version": "12"}},
}

# project, name, status, flavor name, image, data MiB, virtual MiB
SERVERS = [
    ("demo", "web1", "ACTIVE", "m1.small", "ubuntu", 8, 64),
    ("demo", "db1", "SHUTOFF", "m1.medium", "debian", 4, 32),
    ("demo", "broken", "ERROR", "m1.small", "ubuntu", 1, 16),
] + [("demo", "app-%02d" % i, "SHUTOFF" if i % 3 == 0 else "ACTIVE", "m1.tiny", "debian", 1, 16)
     for i in range(1, 8)] + [
    ("demo2", "other1", "ACTIVE", "m1.small", "ubuntu", 2, 16),
]


def sid(*parts):
    return str(uuid.uuid5(NS, "/".join(parts)))


def raw_disk(path, name, data, size):
    """`size` bytes, sparse; `data` bytes of content spread over the first grains: text grains
    naming the disk and sector alternating with pseudo-random grains."""
    rnd = random.Random(name)
    g = 64 * 1024
    with open(path, "wb") as f:
        f.truncate(size)
        for i in range(data // g):
            off = i * g * 2 if i * g * 2 < size else i * g
            f.seek(off)
            if i % 2:
                f.write(rnd.randbytes(g))
            else:
                f.write(("cloudfs nova fixture %s sector %d\n" % (name, off // 512)).encode().ljust(512, b".")
                        * (g // 512))


def qcow2(cache, name, data, size):
    out = os.path.join(cache, name + ".qcow2")
    if not os.path.exists(out):
        raw = out + ".raw"
        raw_disk(raw, name, data, size)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, out + ".tmp"],
                       check=True, stdout=subprocess.DEVNULL)
        os.unlink(raw)
        os.replace(out + ".tmp", out)
    return out


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.exists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def main():
    cache_root, dest = sys.argv[1], sys.argv[2]
    cache = os.path.join(cache_root, VERSION)
    os.makedirs(cache, exist_ok=True)
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        disks = {s[1]: qcow2(cache, s[1], s[5] * MiB, s[6] * MiB) for s in SERVERS}
    flavors = [{"id": i, "name": n, "vcpus": c, "ram": r, "disk": d} for i, n, c, r, d in FLAVORS]
    byname = {f["name"]: f for f in flavors}
    images = {k: {"id": sid("image", k), "name": v["name"], "properties": v["properties"]}
              for k, v in IMAGES.items()}
    servers = []
    tsv = ["# project\tname\tid\tstatus\tflavor\tvcpus\tram_mib\tdisk_path"]
    for n, (project, name, status, flavor, image, _data, virt) in enumerate(SERVERS):
        id_ = sid("server", project, name)
        disk = os.path.abspath(os.path.join(dest, "disks", id_ + ".qcow2"))
        place(disks[name], disk)
        fl = byname[flavor]
        servers.append({
            "id": id_, "name": name, "project": project, "status": status, "flavor": fl["id"],
            "image": images[image]["id"], "disk": disk, "virtual_size": virt * MiB,
            "created": "2024-03-%02dT10:%02d:00Z" % (1 + n, n),
            "address": "10.0.%d.%d" % (0 if project == "demo" else 1, 10 + n),
            "mac": "fa:16:3e:00:%02x:%02x" % (n // 256, n % 256),
            "metadata": {"role": name.rstrip("0123456789-")},
            "fault": ({"code": 500, "message": "Exceeded maximum number of retries. Exhausted all hosts "
                       "available for retrying build failures for instance %s." % id_}
                      if status == "ERROR" else None)})
        tsv.append("\t".join([project, name, id_, status, flavor, str(fl["vcpus"]), str(fl["ram"]), disk]))
    with open(os.path.join(dest, "fixtures.json"), "w") as f:
        json.dump({"flavors": flavors, "images": list(images.values()), "servers": servers}, f, indent=1)
    with open(os.path.join(dest, "servers.tsv"), "w") as f:
        f.write("\n".join(tsv) + "\n")
    print(os.path.join(dest, "fixtures.json"))


if __name__ == "__main__":
    main()
