"""The query service (vcd-api.md §3.2, §10.2): the types of §10.2 and orgVdc (the Org's
VDC query from API 33, §3.1); type, format, page, pageSize (≤ 128),
filter (== != =gt= =lt= =ge= =le=, ';' AND, ',' OR, parentheses, backslash escapes, '*'
wildcards), sortAsc/sortDesc, links; total + paging links; QueryList."""
import re
import urllib.parse
from xml.sax.saxutils import quoteattr

from . import xmldocs as X
from .model import now_iso

MAX_PAGE = 128
FORMATS = {"records": "query.records+xml", "idrecords": "query.idrecords+xml",
           "references": "query.references+xml"}
TYPES = {  # type -> (record element, reference element, references container)
    "catalog": ("CatalogRecord", "CatalogReference", "CatalogReferences"),
    "adminCatalog": ("AdminCatalogRecord", "CatalogReference", "CatalogReferences"),
    "catalogItem": ("CatalogItemRecord", "CatalogItemReference", "CatalogItemReferences"),
    "adminCatalogItem": ("AdminCatalogItemRecord", "CatalogItemReference", "CatalogItemReferences"),
    "vAppTemplate": ("VAppTemplateRecord", "VAppTemplateReference", "VAppTemplateReferences"),
    "adminVAppTemplate": ("AdminVAppTemplateRecord", "VAppTemplateReference", "VAppTemplateReferences"),
    "task": ("TaskRecord", "TaskReference", "TaskReferences"),
    "orgVdc": ("OrgVdcRecord", "OrgVdcReference", "OrgVdcReferences"),
    "adminOrgVdc": ("AdminVdcRecord", "AdminVdcReference", "AdminVdcReferences"),
}
HREF_ATTRS = ("href", "catalog", "entity", "owner", "vdc", "org", "catalogItem", "object", "ownerName_")


class QueryError(Exception):
    def __init__(self, code, minor, msg):
        super().__init__(msg)
        self.code, self.minor, self.msg = code, minor, msg


def status_name(t):
    if t.status == 8:
        return "RESOLVED"
    if t.status == -1:
        return "FAILED_CREATION"
    return "UNRESOLVED"


def records(model, user, qtype, b):
    """[(attrs dict, urn id, [Link xml])] in database order for one type (ids visible to `user`
    only); the links are the record's `Link` children shown with links=true (§3.2)."""
    org = user.org
    out = []
    if qtype in ("catalog", "adminCatalog"):
        for c in org.catalogs:
            n = sum(1 for t in model.visible_templates(user) if t.catalog is c)
            out.append(({"href": X.h_catalog(b, c), "name": c.name, "description": c.description,
                         "isPublished": "false", "isShared": "false", "creationDate": now_iso(c.created),
                         "orgName": org.name, "ownerName": "system", "numberOfVAppTemplates": str(n),
                         "numberOfMedia": "0", "owner": X.h_user(b, user)}, "urn:vcloud:catalog:" + c.id,
                        [X.link("up", X.h_org(b, org), X.MT + "org+xml"),
                         X.link("down", X.h_catalog(b, c) + "/metadata", X.MT + "metadata+xml")]))
    elif qtype in ("catalogItem", "adminCatalogItem"):
        for t in sorted(model.visible_templates(user), key=lambda t: t.item_created):
            out.append(({"href": X.h_item(b, t), "entity": X.h_tpl(b, t), "entityName": t.name,
                         "entityType": "vapptemplate", "catalog": X.h_catalog(b, t.catalog),
                         "catalogName": t.catalog.name, "ownerName": t.user.name if t.user else "system",
                         "owner": X.h_user(b, t.user) if t.user else None, "isPublished": "false",
                         "vdc": X.h_vdc(b, org), "vdcName": org.vdc_name, "isVdcEnabled": "true",
                         "creationDate": now_iso(t.item_created), "isExpired": "false",
                         "status": status_name(t), "name": t.name}, "urn:vcloud:catalogitem:" + t.item_id,
                        [X.link("up", X.h_catalog(b, t.catalog), X.MT + "catalog+xml"),
                         X.link("edit", X.h_item(b, t), X.MT + "catalogItem+xml"),
                         X.link("remove", X.h_item(b, t)),
                         X.link("down", X.h_item(b, t) + "/metadata", X.MT + "metadata+xml")]))
    elif qtype in ("vAppTemplate", "adminVAppTemplate"):
        for t in sorted(model.visible_templates(user), key=lambda t: t.created):
            out.append(({"href": X.h_tpl(b, t), "ownerName": t.user.name if t.user else "system",
                         "catalogName": t.catalog.name, "isPublished": "false", "name": t.name,
                         "description": t.description, "vdc": X.h_vdc(b, org), "vdcName": org.vdc_name,
                         "org": X.h_org(b, org), "creationDate": now_iso(t.created),
                         "isBusy": "true" if t.busy() else "false", "isGoldMaster": "false",
                         "isEnabled": "true", "status": status_name(t), "isDeployed": "false",
                         "isExpired": "false", "storageProfileName": "*"}, "urn:vcloud:vapptemplate:" + t.id,
                        [X.link("up", X.h_vdc(b, org), X.MT + "vdc+xml"),
                         X.link("catalogItem", X.h_item(b, t), X.MT + "catalogItem+xml"),
                         X.link("remove", X.h_tpl(b, t)),
                         X.link("down", X.h_tpl(b, t) + "/metadata", X.MT + "metadata+xml")]))
    elif qtype in ("orgVdc", "adminOrgVdc"):
        # the org's one VDC, AllocationVApp with no limits as GET /api/vdc shows it
        n = len(model.visible_templates(user))
        out.append(({"href": X.h_vdc(b, org), "name": org.vdc_name, "isEnabled": "true",
                     "cpuAllocationMhz": "0", "cpuLimitMhz": "0", "memoryAllocationMB": "0",
                     "memoryLimitMB": "0", "orgName": org.name, "numberOfVApps": "0", "numberOfMedia": "0",
                     "numberOfDisks": "0", "numberOfVAppTemplates": str(n), "isSystemVdc": "false",
                     "isBusy": "false"}, "urn:vcloud:vdc:" + org.vdc_id,
                    [X.link("up", X.h_org(b, org), X.MT + "org+xml")]))
    elif qtype == "task":
        for task in sorted(model.tasks.values(), key=lambda k: k.start):
            if task.org is not org:
                continue
            out.append(({"href": X.h_task(b, task), "name": "task", "operationFull": task.operation,
                         "operationName": task.operation_name, "status": task.status,
                         "startDate": now_iso(task.start), "endDate": now_iso(task.end) if task.end else None,
                         "objectName": task.owner_ref[1] if task.owner_ref else None,
                         "ownerName": task.user.name if task.user else None,
                         "orgName": org.name, "org": X.h_org(b, org),
                         "serviceNamespace": "com.vmware.vcloud"}, "urn:vcloud:task:" + task.id,
                        [X.link("task:cancel", X.h_task(b, task) + "/action/cancel")] if task.running() else []))
    return out


# ------------------------------------------------------------ filter
def _tokens(s):
    """Split a filter into '(' ')' ';' ',' and condition strings, honouring backslash escapes
    (an escaped character stays in the condition with its backslash for _unescape)."""
    out, cur, i = [], "", 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if ch in "();,":
            if cur:
                out.append(("c", cur))
                cur = ""
            out.append(("p", ch))
        else:
            cur += ch
        i += 1
    if cur:
        out.append(("c", cur))
    return out


def _unescape(v):
    return re.sub(r"\\(.)", r"\1", v)


OPS = ("==", "!=", "=gt=", "=lt=", "=ge=", "=le=")


def _cond(c, decode_twice):
    for op in ("=gt=", "=lt=", "=ge=", "=le=", "==", "!="):
        i = c.find(op)
        if i > 0:
            attr, val = c[:i].strip(), c[i + len(op):]
            if decode_twice:
                val = urllib.parse.unquote(val)
            return (attr, op, val)
    raise QueryError(400, "BAD_REQUEST", "Bad filter expression: " + _unescape(c))


def parse_filter(s, decode_twice=False):
    toks = _tokens(s)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def expr():
        node = ["or", conj()]
        while peek() == ("p", ","):
            pos[0] += 1
            node.append(conj())
        return node

    def conj():
        node = ["and", term()]
        while peek() == ("p", ";"):
            pos[0] += 1
            node.append(term())
        return node

    def term():
        t = peek()
        if t == ("p", "("):
            pos[0] += 1
            n = expr()
            if peek() != ("p", ")"):
                raise QueryError(400, "BAD_REQUEST", "Bad filter expression: unbalanced parentheses")
            pos[0] += 1
            return n
        if t is None or t[0] != "c":
            raise QueryError(400, "BAD_REQUEST", "Bad filter expression: " + s)
        pos[0] += 1
        return ("cond",) + _cond(t[1], decode_twice)

    n = expr()
    if pos[0] != len(toks):
        raise QueryError(400, "BAD_REQUEST", "Bad filter expression: " + s)
    return n


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _match(node, rec):
    if node[0] == "or":
        return any(_match(n, rec) for n in node[1:])
    if node[0] == "and":
        return all(_match(n, rec) for n in node[1:])
    _, attr, op, raw = node
    val = _unescape(raw)
    have = rec.get(attr)
    if op == "==":
        if have is None:
            return False
        if "*" in raw:
            pat = "^" + ".*".join(re.escape(_unescape(p)) for p in re.split(r"(?<!\\)\*", raw)) + "$"
            return re.match(pat, have, re.IGNORECASE | re.DOTALL) is not None
        return have == val or (attr == "id" and have.rsplit(":", 1)[-1] == val)
    if op == "!=":
        return have != val
    a, c = _num(have), _num(val)
    if a is None or c is None:
        a, c = have or "", val
    return {"=gt=": a > c, "=lt=": a < c, "=ge=": a >= c, "=le=": a <= c}[op]


# ------------------------------------------------------------ the request
def run(model, user, b, params, version):
    """params: dict of decoded query parameters.  Returns (root element name, content type, xml)."""
    if "type" not in params:
        return "QueryList", X.MT + "query.queryList+xml", query_list(b)
    qtype = params["type"]
    if qtype not in TYPES:
        raise QueryError(400, "BAD_REQUEST", "The query type %s is not valid." % qtype)
    if qtype.startswith("admin"):
        raise QueryError(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                         "Access to query type %s is forbidden." % qtype)
    fmt = params.get("format", "records")
    if fmt not in FORMATS:
        raise QueryError(400, "BAD_REQUEST", "The query format %s is not valid." % fmt)
    try:
        page = int(params.get("page", "1"))
        size = int(params.get("pageSize", "25"))
    except ValueError:
        raise QueryError(400, "BAD_REQUEST", "page and pageSize must be integers")
    if page < 1 or size < 1:
        raise QueryError(400, "BAD_REQUEST", "page and pageSize must be positive")
    size = min(size, MAX_PAGE)
    recs = records(model, user, qtype, b)
    if params.get("filter"):
        twice = version < 35.0 and params.get("filterEncoded", "").lower() == "true"
        tree = parse_filter(params["filter"], twice)
        recs = [r for r in recs if _match(tree, dict(r[0], id=r[1]))]
    for key, rev in (("sortAsc", False), ("sortDesc", True)):
        if params.get(key):
            a = params[key]
            recs.sort(key=lambda r: (_num(r[0].get(a)) is None, _num(r[0].get(a)) or 0, r[0].get(a) or ""),
                      reverse=rev)
    total = len(recs)
    last = max(1, (total + size - 1) // size)
    chunk = recs[(page - 1) * size: page * size]
    rec_el, ref_el, refs_el = TYPES[qtype]

    def url(p, f):
        q = dict(params, page=str(p), pageSize=str(size), format=f)
        return b + "/api/query?" + urllib.parse.urlencode(q, safe="=;,*:/()\\")

    ctype = X.MT + FORMATS[fmt]
    links = []
    if page > 1:
        links.append(X.link("firstPage", url(1, fmt), ctype))
        links.append(X.link("previousPage", url(min(page - 1, last), fmt), ctype))
    if page < last:
        links.append(X.link("nextPage", url(page + 1, fmt), ctype))
        links.append(X.link("lastPage", url(last, fmt), ctype))
    for f in FORMATS:
        if f != fmt:
            links.append(X.link("alternate", url(page, f), X.MT + FORMATS[f]))
    root = refs_el if fmt == "references" else "QueryResultRecords"
    body = ""
    with_links = params.get("links", "").lower() == "true"
    for a, urn, rlinks in chunk:
        if fmt == "references":
            body += "<%s%s/>" % (ref_el, X.attrs(href=a["href"], id=urn, name=a.get("name"),
                                                 type_=_entity_type(qtype)))
        else:
            a = dict(a)
            if fmt == "idrecords":
                a["id"] = urn
            at = "".join(" %s=%s" % (k, quoteattr(v)) for k, v in a.items() if v is not None)
            if with_links and rlinks:
                body += "<%s%s>%s</%s>" % (rec_el, at, "".join(rlinks), rec_el)
            else:
                body += "<%s%s/>" % (rec_el, at)
    xml = (X.DECL + '<%s xmlns="%s"%s>' % (root, X.NS, X.attrs(total=total, pageSize=size, page=page,
                                                               name=qtype, href=url(page, fmt), type_=ctype))
           + "".join(links) + body + "</%s>" % root)
    return root, ctype, xml


def _entity_type(qtype):
    return X.MT + {"catalog": "catalog+xml", "catalogItem": "catalogItem+xml", "vAppTemplate": "vAppTemplate+xml",
                   "task": "task+xml", "orgVdc": "vdc+xml"}[qtype]


def query_list(b):
    out = X.DECL + '<QueryList xmlns="%s"%s>' % (X.NS, X.attrs(href=b + "/api/query",
                                                              type_=X.MT + "query.queryList+xml"))
    for t in ("catalog", "catalogItem", "vAppTemplate", "task", "orgVdc"):
        for f, mt in FORMATS.items():
            out += X.link("down", "%s/api/query?type=%s&format=%s" % (b, t, f), X.MT + mt, t)
    return out + "</QueryList>"
