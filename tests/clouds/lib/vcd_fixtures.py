#!/usr/bin/python3
"""vcd_fixtures.py CACHE_ROOT DEST_DIR: the vCD emulator's fixtures (vcd-api.md §10.1).

Writes DEST_DIR/fixtures.json and the stored template files under DEST_DIR/files/.  The disks
are streamOptimized VMDKs made by `qemu-img convert -O vmdk -o subformat=streamOptimized` from
small generated raw disks whose sectors carry recognisable text ("cloudfs vcd fixture NAME
sector N"), with the end-of-stream marker qemu-img omits appended (as in vCD's exports); they
are built once into CACHE_ROOT/vcd-v2 and hard-linked (or copied) from there.

World: org `demo` (VDC demo-vdc; users alice/alice-secret with upload rights, reader/reader-secret
without), catalogs `migrated` (empty), `golden` (3 templates with distinct disks and metadata),
`archive` (140 items sharing one tiny disk: more than one query page of 128), `readonly` (one
template, no upload link for anyone); org `other` with its own user and catalog, invisible to demo.
"""
import fcntl
import json
import os
import random
import shutil
import subprocess
import sys
import uuid

VERSION = "vcd-v2"      # bump when the cached disks change (v2: end-of-stream marker appended)
MiB = 1 << 20
GOLDEN = [("ubuntu-22.04-golden", 8 * MiB), ("debian-12-golden", 6 * MiB), ("alpine-3.19-golden", 5 * MiB)]
ARCHIVE_N = 140
NS = uuid.UUID("6b1e6a3e-0d1c-4c55-9a0e-2f1d7f0c9e11")     # stable ids across runs


def sid(*parts):
    """A stable id shaped as an RFC-4122 v4 UUID (vcd-api.md §10.1): uuid5 bytes with the
    version nibble set to 4 and the variant bits to 10."""
    b = bytearray(uuid.uuid5(NS, "/".join(parts)).bytes)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


def append_eos(path):
    """Sector-align the file and append the end-of-stream marker (one zero sector) that
    qemu-img's streamOptimized output lacks (formats.md §3.5, §3.10; qemu issue #1357), so
    the disk imports into vCD/ESXi as vCD's own exports do."""
    n = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate((n + 511) // 512 * 512)
        f.seek(0, os.SEEK_END)
        f.write(b"\0" * 512)


def raw_disk(path, name, size):
    """Recognisable content: grains with a text line naming the disk and sector, grains of
    seeded pseudo-random bytes (so the file is a few MiB), and empty grains."""
    rnd = random.Random(name)
    with open(path, "wb") as f:
        f.truncate(size)
        for off in range(0, size, 64 * 1024):
            kind = (off // (64 * 1024)) % 3
            if kind == 2:
                continue
            f.seek(off)
            if kind == 1:
                f.write(rnd.randbytes(64 * 1024))
            else:
                f.write(("cloudfs vcd fixture %s sector %d\n" % (name, off // 512)).encode() * 8)


def vmdk(cache, name, size):
    out = os.path.join(cache, name + ".vmdk")
    if not os.path.exists(out):
        raw = out + ".raw"
        raw_disk(raw, name, size)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                        raw, out + ".tmp"], check=True, stdout=subprocess.DEVNULL)
        append_eos(out + ".tmp")
        os.unlink(raw)
        os.replace(out + ".tmp", out)
    return out


def descriptor(vm, disk_name, disk_size, capacity, hw=13):
    return """<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" \
xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" \
xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" \
xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
    <File ovf:href="{disk}" ovf:id="file1" ovf:size="{size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="{cap}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" \
ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="{vm}">
    <Info>A virtual machine</Info>
    <Name>{vm}</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{vm}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-{hw}</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
""".format(disk=disk_name, size=disk_size, cap=capacity, vm=vm, hw=hw)


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.exists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def template(dest, cache, org, cat, name, disk_src, capacity, metadata):
    tid = sid(org, cat, name)
    vm_id = sid(org, cat, name, "vm")
    disk_name = "vm-%s-disk-0.vmdk" % vm_id
    d = os.path.join(dest, "files", tid)
    place(disk_src, os.path.join(d, disk_name))
    size = os.path.getsize(disk_src)
    desc = os.path.join(d, "descriptor.ovf")
    with open(desc, "w") as f:
        f.write(descriptor(name.split("-golden")[0] if "golden" in name else "vm1", disk_name, size, capacity))
    return {"id": tid, "item_id": sid(org, cat, name, "item"), "name": name,
            "description": "fixture template %s" % name, "descriptor": desc,
            "files": [{"name": disk_name, "path": os.path.join(d, disk_name)}],
            "vms": [{"id": vm_id, "name": "vm1"}], "metadata": metadata}


def main():
    cache_root, dest = sys.argv[1], sys.argv[2]
    cache = os.path.join(cache_root, VERSION)
    os.makedirs(cache, exist_ok=True)
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        disks = {n: vmdk(cache, n, s) for n, s in GOLDEN}
        tiny = vmdk(cache, "archive-tiny", 256 * 1024)
        other = vmdk(cache, "other-secret", 1 * MiB)
    golden = [template(dest, cache, "demo", "golden", n, disks[n], s,
                       {"os": n.split("-golden")[0], "origin": "fixture", "index": str(i)})
              for i, (n, s) in enumerate(GOLDEN)]
    archive = [template(dest, cache, "demo", "archive", "archive-%03d" % i, tiny, 256 * 1024,
                        {"index": str(i)}) for i in range(ARCHIVE_N)]
    readonly = [template(dest, cache, "demo", "readonly", "readonly-base", tiny, 256 * 1024, {"ro": "yes"})]
    secret = [template(dest, cache, "other", "other-private", "other-secret", other, 1 * MiB, {})]
    fx = {"orgs": [
        {"name": "demo", "id": sid("org", "demo"), "full_name": "Demo Organization",
         "vdc": {"name": "demo-vdc", "id": sid("vdc", "demo")},
         "users": [{"name": "alice", "password": "alice-secret", "id": sid("user", "alice"),
                    "can_upload": True, "can_download": True},
                   {"name": "reader", "password": "reader-secret", "id": sid("user", "reader"),
                    "can_upload": False, "can_download": True}],
         "catalogs": [
             {"name": "migrated", "id": sid("cat", "migrated"), "description": "uploads land here",
              "templates": []},
             {"name": "golden", "id": sid("cat", "golden"), "description": "golden images", "templates": golden},
             {"name": "archive", "id": sid("cat", "archive"), "description": "many items", "templates": archive},
             {"name": "readonly", "id": sid("cat", "readonly"), "description": "subscribed, read-only",
              "read_only": True, "templates": readonly}]},
        {"name": "other", "id": sid("org", "other"), "full_name": "Other Organization",
         "vdc": {"name": "other-vdc", "id": sid("vdc", "other")},
         "users": [{"name": "bob", "password": "bob-secret", "id": sid("user", "bob")}],
         "catalogs": [{"name": "other-private", "id": sid("cat", "other-private"), "templates": secret}]}]}
    with open(os.path.join(dest, "fixtures.json"), "w") as f:
        json.dump(fx, f, indent=1)
    print(os.path.join(dest, "fixtures.json"))


if __name__ == "__main__":
    main()
