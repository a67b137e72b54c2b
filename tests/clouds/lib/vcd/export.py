"""enableDownload's export (vcd-api.md §6): a regenerated descriptor (VirtualSystemCollection,
new file names vm-<vm-uuid>-disk-N.vmdk, ovf:size of the re-encoded files) and every disk
re-encoded with qemu-img as streamOptimized, so names and bytes differ from the upload and
sizes are known only after the export, as on a real vCD.  qemu-img writes no end-of-stream
marker (formats.md §3.5, §3.10; qemu issue #1357), which the import check rightly refuses; the
export appends it (one zero sector after sector-aligning) so a downloaded disk re-imports."""
import os
import subprocess
import xml.etree.ElementTree as ET

from .ovfcheck import OVF1, q, oattr

RASD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
for _p, _u in (("ovf", OVF1), ("rasd", RASD),
               ("vssd", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"),
               ("vmw", "http://www.vmware.com/schema/ovf"),
               ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
               ("vcloud", "http://www.vmware.com/vcloud/v1.5")):
    ET.register_namespace(_p, _u)


def append_eos(path):
    """Pad the file to a whole sector and append the end-of-stream marker (a zero sector)."""
    n = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate((n + 511) // 512 * 512)
        f.seek(0, os.SEEK_END)
        f.write(b"\0" * 512)


def export(t, outdir):
    """Writes outdir/descriptor.ovf, descriptor-with-id.ovf and the re-encoded files.
    Returns [(name, path, size)] of the referenced files."""
    os.makedirs(outdir, exist_ok=True)
    with open(t.descriptor, "rb") as f:
        root = ET.fromstring(f.read())
    refs = root.find(q("References"))
    systems = root.findall(".//" + q("VirtualSystem"))
    vm_ids = [v[0] for v in t.vms] or ["00000000-0000-4000-8000-000000000000"]
    # disk id -> index of the VirtualSystem whose hardware mounts it
    owner = {}
    for i, vs in enumerate(systems):
        for hr in vs.iter("{%s}HostResource" % RASD):
            txt = (hr.text or "").strip()
            for pre in ("ovf:/disk/", "/disk/"):
                if txt.startswith(pre):
                    owner[txt[len(pre):]] = i
    file_owner = {}
    ds = root.find(q("DiskSection"))
    if ds is not None:
        for d in ds.findall(q("Disk")):
            if oattr(d, "fileRef"):
                file_owner[oattr(d, "fileRef")] = owner.get(oattr(d, "diskId"), 0)
    counters = {}
    out = []
    for fe in refs.findall(q("File")):
        old, fid = oattr(fe, "href"), oattr(fe, "id")
        src = t.file(old).path if t.file(old) else None
        if src is None:
            continue
        if fid in file_owner:
            vi = min(file_owner[fid], len(vm_ids) - 1)
            n = counters.get(vi, 0)
            counters[vi] = n + 1
            new = "vm-%s-disk-%d.vmdk" % (vm_ids[vi], n)
            dst = os.path.join(outdir, new)
            subprocess.run(["qemu-img", "convert", "-f", "vmdk", "-O", "vmdk", "-o", "subformat=streamOptimized",
                            src, dst], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            append_eos(dst)
        else:
            new = old
            dst = os.path.join(outdir, new)
            with open(src, "rb") as i, open(dst, "wb") as o:
                while True:
                    b = i.read(1 << 20)
                    if not b:
                        break
                    o.write(b)
        size = os.path.getsize(dst)
        for k in list(fe.attrib):
            if k in (q("href"), "href"):
                del fe.attrib[k]
            if k in (q("size"), "size"):
                del fe.attrib[k]
        fe.set(q("href"), new)
        fe.set(q("size"), str(size))
        out.append((new, dst, size))
    # vCD's exports always wrap the VMs in a VirtualSystemCollection
    top = [c for c in list(root) if c.tag == q("VirtualSystem")]
    if top:
        coll = ET.Element(q("VirtualSystemCollection"), {q("id"): t.name})
        info = ET.SubElement(coll, q("Info"))
        info.text = "A collection of virtual machines"
        name = ET.SubElement(coll, q("Name"))
        name.text = t.name
        at = list(root).index(top[0])
        for vs in top:
            root.remove(vs)
            coll.append(vs)
        root.insert(at, coll)
    body = ET.tostring(root, encoding="unicode")
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
    with open(os.path.join(outdir, "descriptor.ovf"), "w") as f:
        f.write(doc)
    with open(os.path.join(outdir, "descriptor-with-id.ovf"), "w") as f:
        f.write(doc.replace("\n<", "\n<!-- identity download: template %s -->\n<" % t.id, 1))
    return out
