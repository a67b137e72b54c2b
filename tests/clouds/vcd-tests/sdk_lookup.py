#!/usr/bin/python3
"""How the SDKs find an org's catalogs and VDCs, replayed against the vCD emulator at one API
version (run by org-sdk-lookup.sh; Python standard library only).

pyvcloud (Org.get_catalog_resource, Org.get_vdc, Client.get_resource_link_from_query_object):
below 33.0 it walks the Org's Link rel="down" of type catalog+xml / vdc+xml and matches the link
name; from 33.0 it takes the first Org Link rel="down" of type query.records+xml whose href,
lower-cased, contains "catalog" / "vdc", percent-decodes that href once, GETs it, follows
rel="nextPage" and matches the records' name.  go-vcloud-director: below 33.0 (its old
GetCatalogByName / GetVDCByName) the same link walk; from 33.0 the query service, a `catalog`
query filtered name==N (the record of the org's own orgName preferred) and an `orgVdc` query
filtered orgName==O;name==N, both with filterEncoded=true and pages computed from total and
pageSize (cumulativeQuery).  Both log in as they do at that version: /api/sessions below 33.0,
/cloudapi/1.0.0/sessions then GET /api/session from 33.0.

usage: sdk_lookup.py --url URL --cacert CA --version V --user U --org O --password P
           --catalog NAME --vdc NAME --catalogs N1,N2,.. --items N [--absent NAME] --save DIR
prints "FAIL: what: expected X, got Y" and exits 1 on the first failed check; saves every XML
document it received (but Sessions) in DIR for the schema check of the caller."""
import argparse
import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

NS = "{http://www.vmware.com/vcloud/v1.5}"
MT = "application/vnd.vmware.vcloud."
RECORDS = MT + "query.records+xml"


class Fail(Exception):
    pass


def expect(what, want, got):
    if want != got:
        raise Fail("%s: expected %r, got %r" % (what, want, got))


class Client:
    def __init__(self, a):
        self.url, self.v, self.save = a.url.rstrip("/"), a.version, a.save
        self.fv = float(a.version)
        self.ctx = ssl.create_default_context(cafile=a.cacert)
        self.auth = {}
        self.n = 0

    def request(self, method, href, accept, headers=None):
        h = {"Accept": accept}
        h.update(self.auth)
        h.update(headers or {})
        req = urllib.request.Request(href, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                return r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def get(self, href):
        """GET an /api document at this version; 200 expected; the parsed root."""
        code, _, body = self.request("GET", href, "application/*+xml;version=" + self.v)
        expect("GET %s at %s" % (href, self.v), 200, code)
        root = ET.fromstring(body)
        if root.tag != NS + "Session":
            self.n += 1
            with open(os.path.join(self.save, "%s-%03d-%s.xml" % (self.v, self.n, root.tag[len(NS):])), "wb") as f:
                f.write(body)
        return root

    def login(self, user, org, password):
        basic = "Basic " + base64.b64encode(("%s@%s:%s" % (user, org, password)).encode()).decode()
        if self.fv < 33.0:
            code, hdr, body = self.request("POST", self.url + "/api/sessions",
                                           "application/*+xml;version=" + self.v, {"Authorization": basic})
            expect("POST /api/sessions as %s at %s" % (user, self.v), 200, code)
            tok = {k.lower(): v for k, v in hdr.items()}.get("x-vcloud-authorization")
            self.auth = {"x-vcloud-authorization": tok}
            return ET.fromstring(body)
        code, hdr, body = self.request("POST", self.url + "/cloudapi/1.0.0/sessions",
                                       "application/json;version=" + self.v, {"Authorization": basic})
        expect("POST /cloudapi/1.0.0/sessions as %s at %s" % (user, self.v), 200, code)
        json.loads(body)
        tok = {k.lower(): v for k, v in hdr.items()}.get("x-vmware-vcloud-access-token")
        self.auth = {"Authorization": "Bearer " + tok}
        return self.get(self.url + "/api/session")


def links(res, rel, mtype):
    return [ln for ln in res.findall(NS + "Link") if ln.get("rel") == rel and ln.get("type") == mtype]


def requote(u):
    # what requests does to the decoded href before sending it (requote_uri)
    return urllib.parse.quote(u, safe="!#$%&'()*+,/:;=?@[]~")


def records_from_query_link(c, org, kind):
    """pyvcloud's get_resource_link_from_query_object: [(name, href, orgName)] of the first
    records link whose href mentions KIND, all its pages; None when there is no such link."""
    for ln in links(org, "down", RECORDS):
        href = ln.get("href")
        if kind not in href.lower():
            continue
        out, nxt = [], urllib.parse.unquote(href)
        while nxt:
            page = c.get(requote(nxt))
            nxt = None
            for ch in page:
                if ch.tag == NS + "Link":
                    if ch.get("rel") == "nextPage":
                        nxt = ch.get("href")
                else:
                    out.append((ch.get("name"), ch.get("href"), ch.get("orgName")))
        return out
    return None


def pyvcloud_find(c, org, kind, name):
    """Org.get_catalog / Org.get_vdc: the entity's document, or None when not found."""
    if c.fv < 33.0:
        cands = [(ln.get("name"), ln.get("href")) for ln in links(org, "down", MT + kind + "+xml")]
    else:
        cands = [(n, h) for n, h, _ in records_from_query_link(c, org, kind) or []]
    for n, h in cands:
        if n == name:
            return c.get(h)
    return None


def govcd_query(c, qtype, filters):
    """cumulativeQuery: page 1, then the pages total/pageSize says there are; the records."""
    flt = ";".join("%s==%s" % (k, urllib.parse.quote_plus(v)) for k, v in filters)
    recs, page, pages = [], 1, 1
    while page <= pages:
        q = urllib.parse.urlencode({"type": qtype, "filter": flt, "filterEncoded": "true", "page": page})
        res = c.get("%s/api/query?%s" % (c.url, q))
        total, size = int(res.get("total")), int(res.get("pageSize"))
        pages = max(1, (total + size - 1) // size)
        recs += [r for r in res if r.tag != NS + "Link"]
        page += 1
    return recs


def govcd_find(c, org, kind, name):
    """GetCatalogByName / GetVDCByName: the entity's document, or None (ErrorEntityNotFound)."""
    if c.fv < 33.0:
        for ln in org.findall(NS + "Link"):
            if ln.get("name") == name and ln.get("type") == MT + kind + "+xml":
                return c.get(ln.get("href"))
        return None
    if kind == "catalog":
        recs = govcd_query(c, "catalog", [("name", name)])
        if not recs:
            return None
        local = [r for r in recs if r.get("orgName") == org.get("name")]
        rec = (local or recs)[0]
    else:
        recs = govcd_query(c, "orgVdc", [("orgName", org.get("name")), ("name", name)])
        if not recs:
            return None
        expect("orgVdc records named %s" % name, 1, len(recs))
        rec = recs[0]
    return c.get(rec.get("href").replace("/api/admin", "/api", 1))


def main():
    ap = argparse.ArgumentParser()
    for k in ("url", "cacert", "version", "user", "org", "password", "catalog", "vdc", "catalogs", "save"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--absent", action="append", default=[])
    a = ap.parse_args()
    c = Client(a)
    want = sorted(a.catalogs.split(","))

    session = c.login(a.user, a.org, a.password)
    org_links = links(session, "down", MT + "org+xml")
    expect("Session links to the org", 1, len(org_links))
    org = c.get(org_links[0].get("href"))
    expect("Org name", a.org, org.get("name"))

    for sdk, find in (("pyvcloud", pyvcloud_find), ("govcd", govcd_find)):
        cat = find(c, org, "catalog", a.catalog)
        if cat is None:
            raise Fail("%s lookup of catalog %s at %s: expected found, got not found" % (sdk, a.catalog, a.version))
        expect("%s: root of catalog %s" % (sdk, a.catalog), NS + "Catalog", cat.tag)
        expect("%s: name of the catalog found" % sdk, a.catalog, cat.get("name"))
        expect("%s: items in catalog %s" % (sdk, a.catalog), a.items,
               len(cat.findall(NS + "CatalogItems/" + NS + "CatalogItem")))
        vdc = find(c, org, "vdc", a.vdc)
        if vdc is None:
            raise Fail("%s lookup of VDC %s at %s: expected found, got not found" % (sdk, a.vdc, a.version))
        expect("%s: root of VDC %s" % (sdk, a.vdc), NS + "Vdc", vdc.tag)
        expect("%s: name of the VDC found" % sdk, a.vdc, vdc.get("name"))
        for name in a.absent:
            got = find(c, org, "catalog", name)
            expect("%s lookup of another org's catalog %s at %s" % (sdk, name, a.version), None,
                   None if got is None else got.get("href"))

    cat_links = links(org, "down", MT + "catalog+xml")
    vdc_links = links(org, "down", MT + "vdc+xml")
    qlinks = links(org, "down", RECORDS)
    if c.fv < 33.0:
        expect("Org catalog links at " + a.version, want, sorted(ln.get("name") for ln in cat_links))
        expect("Org vdc links at " + a.version, [a.vdc], [ln.get("name") for ln in vdc_links])
        expect("Org query-records links at " + a.version, 0, len(qlinks))
    else:
        expect("Org catalog+xml links at " + a.version, 0, len(cat_links))
        expect("Org vdc+xml links at " + a.version, 0, len(vdc_links))
        types = sorted(urllib.parse.parse_qs(urllib.parse.urlsplit(ln.get("href")).query).get("type", ["?"])[0]
                       for ln in qlinks)
        expect("query types of the Org's query.records links at " + a.version, ["catalog", "orgVdc"], types)
        for ln in qlinks:  # filtered on the org (by its name or href), whatever the filter's shape
            flt = urllib.parse.parse_qs(urllib.parse.urlsplit(ln.get("href")).query).get("filter", [""])[0]
            if a.org not in flt and org.get("href") not in flt:
                raise Fail("filter of the Org's query link %s: expected one naming org %s, got %r"
                           % (ln.get("href"), a.org, flt))
        cats = records_from_query_link(c, org, "catalog")
        expect("catalogs the Org's catalog query link lists", want, sorted(n for n, _, _ in cats))
        expect("orgName of those records", [a.org] * len(cats), [o for _, _, o in cats])
        vdcs = records_from_query_link(c, org, "vdc")
        expect("VDCs the Org's orgVdc query link lists", [a.vdc], [n for n, _, _ in vdcs])
        expect("orgName of that record", a.org, vdcs[0][2])

    print("%s@%s at %s: catalog %s and VDC %s found as pyvcloud and govcd find them; catalogs %s"
          % (a.user, a.org, a.version, a.catalog, a.vdc, ",".join(want)))


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
