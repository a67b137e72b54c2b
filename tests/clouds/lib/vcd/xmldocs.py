"""XML documents in the API-30 shape (vcd-api.md §2.5, §3, §4, §7, §8, Appendix A); every one
validates with /work/shared/schemas/validate vcloud (Session excepted: session.xsd wants a
Location/@name that real servers omit).  Builders take the base URL (scheme://Host) so every
href is absolute and follows the request's Host header."""
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from .model import now_iso

NS = "http://www.vmware.com/vcloud/v1.5"
OVF_NS = "http://schemas.dmtf.org/ovf/envelope/1"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MT = "application/vnd.vmware.vcloud."


def attrs(**kw):
    out = []
    for k, v in kw.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        out.append(" %s=%s" % (k.rstrip("_").replace("__", ":"), quoteattr(str(v))))
    return "".join(out)


def link(rel, href, type_=None, name=None):
    return "<Link%s/>" % attrs(rel=rel, href=href, name=name, type_=type_)


def text(tag, value):
    return "<%s>%s</%s>" % (tag, escape(str(value)), tag)


# ------------------------------------------------------------ hrefs
def h_org(b, org):
    return "%s/api/org/%s" % (b, org.id)


def h_vdc(b, org):
    return "%s/api/vdc/%s" % (b, org.vdc_id)


def h_catalog(b, c):
    return "%s/api/catalog/%s" % (b, c.id)


def h_item(b, t):
    return "%s/api/catalogItem/%s" % (b, t.item_id)


def h_tpl(b, t):
    return "%s/api/vAppTemplate/vappTemplate-%s" % (b, t.id)


def h_task(b, task):
    return "%s/api/task/%s" % (b, task.id)


def h_user(b, u):
    return "%s/api/admin/user/%s" % (b, u.id)


def h_transfer(b, sid, name):
    return "%s/transfer/%s/%s" % (b, sid, name)


# ------------------------------------------------------------ documents
def error(major, minor, message):
    return DECL + '<Error xmlns="%s"%s/>' % (NS, attrs(minorErrorCode=minor, message=message,
                                                       majorErrorCode=major))


def session(b, s):
    u, org = s.user, s.user.org
    loc = "%s@%s" % (org.id, "cb33a646-6652-4628-95b0-24bd981783b6")
    return (DECL + '<Session xmlns="%s"%s>' % (NS, attrs(locationId=loc, org=org.name, roles="vApp Author",
                                                         user=u.name, userId="urn:vcloud:user:" + u.id,
                                                         href=b + "/api/session", type_=MT + "session+xml"))
            + link("down", b + "/api/org/", MT + "orgList+xml")
            + link("remove", b + "/api/session")
            + link("down", h_org(b, org), MT + "org+xml", org.name)
            + link("down", b + "/api/query", MT + "query.queryList+xml")
            + link("entityResolver", b + "/api/entity/", MT + "entity+xml")
            + link("openapi", b + "/cloudapi", "application/json")
            + "<AuthorizedLocations><Location>"
            + text("LocationId", loc) + text("SiteName", b.split("//", 1)[1]) + text("OrgName", org.name)
            + text("RestApiEndpoint", b) + text("UIEndpoint", b) + text("AuthContext", org.name)
            + "</Location></AuthorizedLocations></Session>")


def org_list(b, orgs):
    return (DECL + '<OrgList xmlns="%s"%s>' % (NS, attrs(href=b + "/api/org/", type_=MT + "orgList+xml"))
            + "".join('<Org%s/>' % attrs(href=h_org(b, o), name=o.name, type_=MT + "org+xml") for o in orgs)
            + "</OrgList>")


def h_org_query(b, qtype, o):
    """A typed query of the records of one org (orgName==, the filter a tenant may use: its
    catalog and orgVdc records have no `org` attribute); the name backslash-escaped where the
    filter syntax needs it, then percent-encoded (vcd-api.md §3.2)."""
    name = "".join("\\" + ch if ch in "(),;\\" else ch for ch in o.name)
    return "%s/api/query?type=%s&format=records&filter=orgName==%s" % (b, qtype, quote(name, safe=""))


def org(b, o, version):
    """Up to 32.0 the Org links its VDC and each catalog; from 33.0 it lists neither and links
    the orgVdc and catalog queries of its own records instead, which pyvcloud follows (it picks
    the query.records link whose href names "vdc" / "catalog") (vcd-api.md §3.1)."""
    links = []
    if version < 33.0:
        links.append(link("down", h_vdc(b, o), MT + "vdc+xml", o.vdc_name))
        for c in o.catalogs:
            links.append(link("down", h_catalog(b, c), MT + "catalog+xml", c.name))
    else:
        for qtype in ("orgVdc", "catalog"):
            links.append(link("down", h_org_query(b, qtype, o), MT + "query.records+xml"))
    links.append(link("down", "%s/api/org/%s/metadata" % (b, o.id), MT + "metadata+xml"))
    return (DECL + '<Org xmlns="%s"%s>' % (NS, attrs(name=o.name, id="urn:vcloud:org:" + o.id,
                                                     href=h_org(b, o), type_=MT + "org+xml"))
            + "".join(links) + text("Description", o.full_name) + text("FullName", o.full_name) + "</Org>")


def vdc(b, o, max_hw):
    return (DECL + '<Vdc xmlns="%s"%s>' % (NS, attrs(status=1, name=o.vdc_name, id="urn:vcloud:vdc:" + o.vdc_id,
                                                     href=h_vdc(b, o), type_=MT + "vdc+xml"))
            + link("up", h_org(b, o), MT + "org+xml")
            + text("AllocationModel", "AllocationVApp")
            + "<ComputeCapacity><Cpu>" + text("Units", "MHz") + text("Allocated", 0) + text("Limit", 0)
            + "</Cpu><Memory>" + text("Units", "MB") + text("Allocated", 0) + text("Limit", 0)
            + "</Memory></ComputeCapacity>"
            + "<ResourceEntities/><AvailableNetworks/>"
            + "<Capabilities><SupportedHardwareVersions>"
            + "".join(text("SupportedHardwareVersion", "vmx-%02d" % v) for v in range(4, int(max_hw) + 1))
            + "</SupportedHardwareVersions></Capabilities>"
            + text("NicQuota", 0) + text("NetworkQuota", 0) + text("VmQuota", 0) + text("IsEnabled", "true")
            + "</Vdc>")


def catalog(b, c, templates, can_upload):
    links = [link("up", h_org(b, c.org), MT + "org+xml"),
             link("down", h_catalog(b, c) + "/metadata", MT + "metadata+xml")]
    if can_upload and not c.read_only:
        links += [link("add", h_catalog(b, c) + "/catalogItems", MT + "catalogItem+xml"),
                  link("add", h_catalog(b, c) + "/action/upload", MT + "media+xml"),
                  link("add", h_catalog(b, c) + "/action/upload", MT + "uploadVAppTemplateParams+xml")]
    items = "".join("<CatalogItem%s/>" % attrs(href=h_item(b, t), id=t.item_id, name=t.name,
                                                type_=MT + "catalogItem+xml") for t in templates)
    return (DECL + '<Catalog xmlns="%s"%s>' % (NS, attrs(name=c.name, id="urn:vcloud:catalog:" + c.id,
                                                         href=h_catalog(b, c), type_=MT + "catalog+xml"))
            + "".join(links) + text("Description", c.description)
            + "<CatalogItems>" + items + "</CatalogItems>"
            + text("IsPublished", "false") + text("DateCreated", now_iso(c.created))
            + text("VersionNumber", len(templates) + 1) + "</Catalog>")


def catalog_item(b, t):
    hi = h_item(b, t)
    return (DECL + '<CatalogItem xmlns="%s"%s>' % (NS, attrs(size=t.size_bytes, name=t.name,
                                                             id="urn:vcloud:catalogitem:" + t.item_id,
                                                             href=hi, type_=MT + "catalogItem+xml"))
            + link("up", h_catalog(b, t.catalog), MT + "catalog+xml")
            + link("down", hi + "/metadata", MT + "metadata+xml")
            + link("edit", hi, MT + "catalogItem+xml")
            + link("remove", hi)
            + text("Description", t.description)
            + "<Entity%s/>" % attrs(href=h_tpl(b, t), name=t.name, type_=MT + "vAppTemplate+xml")
            + text("DateCreated", now_iso(t.item_created)) + text("VersionNumber", 1) + "</CatalogItem>")


def task_body(b, task, root):
    """A Task element; root=True adds the namespace declaration and the XML declaration."""
    ns = ' xmlns="%s"' % NS if root else ""
    a = attrs(cancelRequested=task.cancel_requested,
              endTime=now_iso(task.end) if task.end else None,
              expiryTime=now_iso(task.start + 30 * 86400),
              operation=task.operation, operationName=task.operation_name,
              serviceNamespace="com.vmware.vcloud", startTime=now_iso(task.start),
              status=task.status, name="task", id="urn:vcloud:task:" + task.id,
              href=h_task(b, task), type_=MT + "task+xml")
    out = "<Task%s%s>" % (ns, a)
    if task.running():
        out += link("task:cancel", h_task(b, task) + "/action/cancel")
    if task.owner_ref:
        out += "<Owner%s/>" % attrs(href="%s/api/vAppTemplate/vappTemplate-%s" % (b, task.owner_ref[0]),
                                    name=task.owner_ref[1], type_=MT + "vAppTemplate+xml")
    if task.error:
        out += "<Error%s/>" % attrs(majorErrorCode=task.error[0], minorErrorCode=task.error[1],
                                    message=task.error[2])
    if task.user:
        out += "<User%s/>" % attrs(href=h_user(b, task.user), name=task.user.name,
                                   type_="application/vnd.vmware.admin.user+xml")
    if task.org:
        out += "<Organization%s/>" % attrs(href=h_org(b, task.org), name=task.org.name, type_=MT + "org+xml")
    out += text("Progress", task.progress) + "</Task>"
    return (DECL + out) if root else out


def vapp_template(b, t, ovf_link=True):
    ht = h_tpl(b, t)
    links = [link("up", h_vdc(b, t.catalog.org), MT + "vdc+xml"),
             link("catalogItem", h_item(b, t), MT + "catalogItem+xml"),
             link("remove", ht)]
    if t.status == 8:
        if t.download and t.download["state"] == "ready":
            sid = t.download["sid"]
            for rel, name in (("download:default", "descriptor.ovf"),
                              ("download:identity", "descriptor-with-id.ovf"),
                              ("download:ovaDefault", "descriptor.ova"),
                              ("download:ovaIdentity", "descriptor-with-id.ova")):
                links.append(link(rel, h_transfer(b, sid, name), "text/xml"))
        links += [link("edit", ht, MT + "vAppTemplate+xml"),
                  link("enable", ht + "/action/enableDownload"),
                  link("disable", ht + "/action/disableDownload"),
                  link("ovf", ht + "/ovf", "text/xml"),
                  link("down", ht + "/owner", MT + "owner+xml"),
                  link("down", ht + "/metadata", MT + "metadata+xml")]
    out = (DECL + '<VAppTemplate xmlns="%s" xmlns:ovf="%s"%s>'
           % (NS, OVF_NS, attrs(ovfDescriptorUploaded=t.ovf_uploaded, goldMaster=False, status=t.status,
                                name=t.name, id="urn:vcloud:vapptemplate:" + t.id, href=ht,
                                type_=MT + "vAppTemplate+xml"))
           + "".join(links) + text("Description", t.description))
    if t.task is not None and (t.task.running() or t.status == -1):
        out += "<Tasks>" + task_body(b, t.task, False) + "</Tasks>"
    if t.phase in "ABCDF" and t.files:
        out += "<Files>"
        for f in t.files:
            out += "<File%s>%s</File>" % (attrs(size=f.size, bytesTransferred=f.bt, name=f.name),
                                          link("upload:default", h_transfer(b, t.sid, f.name)))
        out += "</Files>"
    if t.user:
        out += ('<Owner type="%sowner+xml"><User%s/></Owner>'
                % (MT, attrs(href=h_user(b, t.user), name=t.user.name,
                             type_="application/vnd.vmware.admin.user+xml")))
    if t.vms:
        out += "<Children>"
        for vid, vname in t.vms:
            hv = "%s/api/vAppTemplate/vm-%s" % (b, vid)
            out += ("<Vm%s>" % attrs(goldMaster=False, status=8, name=vname, id="urn:vcloud:vm:" + vid,
                                     href=hv, type_=MT + "vm+xml")
                    + link("up", ht, MT + "vAppTemplate+xml") + "<Description/>"
                    + text("VAppScopedLocalId", vname) + "</Vm>")
        out += "</Children>"
    else:
        out += "<Children/>"
    out += ('<LeaseSettingsSection%s><ovf:Info>Lease settings section</ovf:Info>%s%s</LeaseSettingsSection>'
            % (attrs(href=ht + "/leaseSettingsSection/", type_=MT + "leaseSettingsSection+xml",
                     ovf__required="false"),
               link("edit", ht + "/leaseSettingsSection/", MT + "leaseSettingsSection+xml"),
               text("StorageLeaseInSeconds", 7776000)))
    out += ('<CustomizationSection%s><ovf:Info>VApp template customization section</ovf:Info>%s'
            '</CustomizationSection>'
            % (attrs(goldMaster=False, href=ht + "/customizationSection/",
                     type_=MT + "customizationSection+xml", ovf__required="false"),
               text("CustomizeOnInstantiate", "false")))
    out += text("DateCreated", now_iso(t.created)) + "</VAppTemplate>"
    return out


def metadata(b, href, md):
    out = DECL + '<Metadata xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"%s>' % (
        NS, attrs(href=href + "/metadata", type_=MT + "metadata+xml"))
    out += link("up", href, None)
    for k, (xt, v) in md.items():
        out += ("<MetadataEntry%s>" % attrs(href=href + "/metadata/" + k, type_=MT + "metadata.value+xml")
                + text("Key", k) + '<TypedValue xsi:type="%s">%s</TypedValue>' % (xt, text("Value", v))
                + "</MetadataEntry>")
    return out + "</Metadata>"


def metadata_value(b, href, key, xt, v):
    return (DECL + '<MetadataValue xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"%s>'
            % (NS, attrs(href=href + "/metadata/" + key, type_=MT + "metadata.value+xml"))
            + link("up", href + "/metadata", MT + "metadata+xml")
            + '<TypedValue xsi:type="%s">%s</TypedValue></MetadataValue>' % (xt, text("Value", v)))


def versions(b, vers):
    out = DECL + '<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">'
    for v, dep in vers:
        login = b + ("/cloudapi/1.0.0/sessions" if float(v) >= 38.0 else "/api/sessions")
        out += ('<VersionInfo deprecated="%s">' % ("true" if dep else "false")
                + text("Version", v) + text("LoginUrl", login) + "</VersionInfo>")
    return out + "</SupportedVersions>"
