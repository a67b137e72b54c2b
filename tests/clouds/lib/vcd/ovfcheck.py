"""OVF descriptor checks (vcd-api.md §5.1-5.2, §10.3): OVF 1.x envelope namespace, no DTD or
entities, References/File with simple ovf:href names, Disk fileRefs that exist, the
VirtualSystems and their vmx-NN hardware versions.  parse(bytes) -> (info, None) or (None, why)."""
import re
import xml.etree.ElementTree as ET

OVF1 = "http://schemas.dmtf.org/ovf/envelope/1"
VSSD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def q(tag):
    return "{%s}%s" % (OVF1, tag)


def oattr(el, name):
    v = el.get(q(name))
    return v if v is not None else el.get(name)


def parse(data):
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        return None, "The OVF descriptor is invalid: DOCTYPE and entity declarations are not allowed"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        return None, "The OVF descriptor is invalid: not well-formed XML (%s)" % e
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if root.tag != q("Envelope"):
        if root.tag.endswith("}Envelope") or root.tag == "Envelope":
            return None, "The OVF descriptor is invalid: unsupported OVF version (namespace %s)" % (ns or "none")
        return None, "The OVF descriptor is invalid: root element is not an OVF Envelope"
    refs = root.find(q("References"))
    if refs is None:
        return None, "The OVF descriptor is invalid: no References section"
    files, ids = [], {}
    for fe in refs.findall(q("File")):
        href, fid, size = oattr(fe, "href"), oattr(fe, "id"), oattr(fe, "size")
        if not href or not fid:
            return None, "The OVF descriptor is invalid: File without ovf:href or ovf:id"
        if not NAME_RE.match(href) or href in ("descriptor.ovf", "descriptor.mf"):
            return None, "The OVF descriptor is invalid: unsupported file reference %r" % href
        if oattr(fe, "chunkSize") or oattr(fe, "compression"):
            return None, "The OVF descriptor is invalid: chunked or compressed file %s not supported" % href
        if href in [f[0] for f in files] or fid in ids:
            return None, "The OVF descriptor is invalid: duplicate file reference %s" % href
        try:
            n = int(size) if size is not None else -1
            if size is not None and n < 0:
                raise ValueError
        except ValueError:
            return None, "The OVF descriptor is invalid: bad ovf:size %r for %s" % (size, href)
        files.append((href, fid, n))
        ids[fid] = href
    disks = []
    ds = root.find(q("DiskSection"))
    if ds is not None:
        for d in ds.findall(q("Disk")):
            ref = oattr(d, "fileRef")
            if ref is not None and ref not in ids:
                return None, "The OVF descriptor is invalid: Disk %s references missing file %s" % (
                    oattr(d, "diskId"), ref)
            if ref is not None:
                disks.append((oattr(d, "diskId"), ids[ref]))
    systems = root.findall(".//" + q("VirtualSystem"))
    if not systems:
        return None, "The OVF descriptor is invalid: no VirtualSystem"
    vms, hw = [], []
    for vs in systems:
        name = vs.findtext(q("Name")) or oattr(vs, "id") or "vm"
        vms.append(name)
        for t in vs.iter("{%s}VirtualSystemType" % VSSD):
            for part in (t.text or "").split():
                m = re.match(r"^vmx-(\d+)$", part.strip())
                if m:
                    hw.append(int(m.group(1)))
    return {"files": files, "disks": disks, "vms": vms, "hw": hw, "root": root}, None
