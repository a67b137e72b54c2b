"""Parsing of XML request bodies (vcd-api.md §4.1, Appendix A.1): no DOCTYPE/entities,
UploadVAppTemplateParams with its element order, Metadata / MetadataValue."""
import re
import xml.etree.ElementTree as ET

from . import xmldocs as X


def _safe_xml(data):
    if re.search(rb"<!DOCTYPE|<!ENTITY", data or b"", re.IGNORECASE):
        return None, "DOCTYPE and entity declarations are not allowed."
    try:
        return ET.fromstring(data), None
    except ET.ParseError as e:
        return None, "The request body is not well-formed XML: %s" % e


def parse_upload_params(data):
    """UploadVAppTemplateParams, element order checked (vcd-api.md §4.1)."""
    root, why = _safe_xml(data)
    if why:
        return None, why
    if root.tag != "{%s}UploadVAppTemplateParams" % X.NS:
        return None, "Bad request: expected UploadVAppTemplateParams in namespace %s, got %s" % (X.NS, root.tag)
    order = ["Description", "VdcStorageProfile"]
    last = -1
    desc = ""
    for ch in root:
        tag = ch.tag.split("}", 1)[-1]
        ns = ch.tag[1:].split("}", 1)[0] if ch.tag.startswith("{") else ""
        if ns != X.NS or tag not in order:
            return None, "Bad request: unexpected element %s in UploadVAppTemplateParams" % tag
        i = order.index(tag)
        if i <= last:
            return None, "Bad request: element %s out of order in UploadVAppTemplateParams" % tag
        last = i
        if tag == "Description":
            desc = ch.text or ""
    name = root.get("name")
    if not name or not name.strip():
        return None, "Bad request: the name attribute is required"
    mr = (root.get("manifestRequired") or "false").strip()
    if mr not in ("true", "false", "1", "0"):
        return None, "Bad request: manifestRequired must be a boolean"
    return (name, desc, mr in ("true", "1")), None


def parse_template_edit(data):
    """The VAppTemplate of PUT /vAppTemplate/{id} (name, Description): (name, description or None)."""
    root, why = _safe_xml(data)
    if why:
        return None, why
    if root.tag != "{%s}VAppTemplate" % X.NS:
        return None, "Bad request: expected VAppTemplate in namespace %s, got %s" % (X.NS, root.tag)
    name = root.get("name")
    if not name or not name.strip():
        return None, "Bad request: the name attribute is required"
    desc = root.find("{%s}Description" % X.NS)
    return (name, None if desc is None else desc.text or ""), None


XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"


def parse_metadata(data, many):
    root, why = _safe_xml(data)
    if why:
        return None, why
    out = []
    if many:
        if root.tag != "{%s}Metadata" % X.NS:
            return None, "Bad request: expected a Metadata document"
        ents = root.findall("{%s}MetadataEntry" % X.NS)
    else:
        if root.tag != "{%s}MetadataValue" % X.NS:
            return None, "Bad request: expected a MetadataValue document"
        ents = [root]
    for e in ents:
        key = e.findtext("{%s}Key" % X.NS) if many else ""
        if many and not key:
            return None, "Bad request: MetadataEntry without Key"
        tv = e.find("{%s}TypedValue" % X.NS)
        if tv is None:
            return None, "Bad request: TypedValue missing"
        xt = (tv.get(XSI) or "MetadataStringValue").split(":")[-1]
        if xt not in ("MetadataStringValue", "MetadataNumberValue", "MetadataBooleanValue", "MetadataDateTimeValue"):
            return None, "Bad request: unknown metadata type %s" % xt
        v = tv.findtext("{%s}Value" % X.NS)
        if v is None:
            return None, "Bad request: Value missing"
        out.append((key, xt, v))
    return out, None
