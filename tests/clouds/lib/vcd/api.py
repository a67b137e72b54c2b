"""The /api routes (vcd-api.md §9, §10.2): version negotiation and login, the route table with
405/403/404 answers, and the org, VDC and query handlers.  Handlers run with the model lock
held; the catalog, template, task and metadata handlers live in their own modules."""
import re
import urllib.parse

from . import query
from . import xmldocs as X
from .auth import DEPRECATED, VERSIONS, vnum
from .model import UUID


class ApiMixin:
    def api(self, method, path, qs):
        if path == "/api/versions":
            if method != "GET":
                return self.error(405, "METHOD_NOT_ALLOWED", "The HTTP method %s is not supported." % method)
            vers = [(v, DEPRECATED(v)) for v in VERSIONS]
            return self.reply(200, X.versions(self.base, vers), X.MT + "versions+xml")
        v = self.negotiate()
        if v is None:
            return
        fv = vnum(v)
        if path in ("/api/sessions", "/api/login"):
            if method != "POST":
                return self.error(405, "METHOD_NOT_ALLOWED", "The HTTP method %s is not supported." % method)
            if fv >= 38.0:
                return self.error(405, "METHOD_NOT_ALLOWED", "This method is not allowed: for version 38.0 and "
                                  "later, the /api/sessions API login endpoint is no longer supported.")
            u = self.basic_user()
            if u is None:
                return self.unauthorized()
            s = self.new_session(u)
            hdr = [("x-vcloud-authorization", s.token),
                   ("Set-Cookie", "vcloud-token=%s; Secure; Path=/" % s.token)]
            if fv >= 30.0:
                hdr += [("X-VMWARE-VCLOUD-ACCESS-TOKEN", s.bearer), ("X-VMWARE-VCLOUD-TOKEN-TYPE", "Bearer")]
            return self.xml(200, X.session(self.base, s), X.MT + "session+xml", hdr)
        s = self.token_session(True)
        if s is None:
            return self.unauthorized()
        self.sess = s
        return self.route(method, path, qs, s.user, fv)

    def route(self, method, path, qs, user, fv):
        b, m = self.base, self.em.model
        routes = [
            (r"/api/session/?", {"GET": self.get_session, "DELETE": self.del_session}),
            (r"/api/org/?", {"GET": lambda: self.xml(200, X.org_list(b, [user.org]), X.MT + "orgList+xml")}),
            (r"/api/org/(%s)" % UUID, {"GET": self.get_org}),
            (r"/api/org/(%s)/metadata" % UUID, {"GET": self.get_org_md}),
            (r"/api/vdc/(%s)" % UUID, {"GET": self.get_vdc}),
            (r"/api/query", {"GET": lambda: self.do_query(qs, user, fv)}),
            (r"/api/catalog/(%s)" % UUID, {"GET": self.get_catalog}),
            (r"/api/catalog/(%s)/metadata" % UUID, {"GET": self.get_catalog_md}),
            (r"/api/catalog/(%s)/action/upload" % UUID, {"POST": self.post_upload}),
            (r"/api/catalogItem/(%s)" % UUID, {"GET": self.get_item, "DELETE": self.del_item}),
            (r"/api/catalogItem/(%s)/metadata" % UUID, {"GET": self.md_get, "POST": self.md_post}),
            (r"/api/catalogItem/(%s)/metadata/(?:GENERAL/|SYSTEM/)?(.+)" % UUID,
             {"GET": self.md_get_key, "PUT": self.md_put_key, "DELETE": self.md_del_key}),
            (r"/api/vAppTemplate/vappTemplate-(%s)" % UUID, {"GET": self.get_tpl, "PUT": self.put_tpl,
                                                                  "DELETE": self.del_tpl}),
            (r"/api/vAppTemplate/vappTemplate-(%s)/ovf" % UUID, {"GET": self.get_ovf}),
            (r"/api/vAppTemplate/vappTemplate-(%s)/action/enableDownload" % UUID, {"POST": self.enable_dl}),
            (r"/api/vAppTemplate/vappTemplate-(%s)/action/disableDownload" % UUID, {"POST": self.disable_dl}),
            (r"/api/vAppTemplate/vappTemplate-(%s)/metadata" % UUID, {"GET": self.md_get, "POST": self.md_post}),
            (r"/api/vAppTemplate/vappTemplate-(%s)/metadata/(?:GENERAL/|SYSTEM/)?(.+)" % UUID,
             {"GET": self.md_get_key, "PUT": self.md_put_key, "DELETE": self.md_del_key}),
            (r"/api/task/(%s)" % UUID, {"GET": self.get_task}),
            (r"/api/task/(%s)/action/cancel" % UUID, {"POST": self.cancel_task}),
        ]
        self.user = user
        self.fv = fv
        for pat, methods in routes:
            mm = re.fullmatch(pat, path)
            if mm:
                fn = methods.get(method)
                if fn is None:
                    return self.error(405, "METHOD_NOT_ALLOWED",
                                      "The HTTP method %s is not supported for this object." % method)
                with m.lock:
                    return fn(*mm.groups())
        if re.search(r"/api/[A-Za-z]+/", path) and re.search(UUID, path):
            return self.forbidden(path)
        return self.error(404, "RESOURCE_NOT_FOUND", "The requested resource %s was not found." % path)

    def forbidden(self, what):
        return self.error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                          "Either you need some or all of the following rights [Catalog: View Private and Shared "
                          "Catalogs] to perform operations [view] for %s or the target entity is invalid." % what)

    def _org(self, oid):
        return self.user.org if self.user.org.id == oid else None

    def get_org(self, oid):
        o = self._org(oid)
        if o is None:
            return self.forbidden("com.vmware.vcloud.entity.org:" + oid)
        return self.xml(200, X.org(self.base, o, self.fv), X.MT + "org+xml")

    def get_org_md(self, oid):
        o = self._org(oid)
        if o is None:
            return self.forbidden("com.vmware.vcloud.entity.org:" + oid)
        return self.xml(200, X.metadata(self.base, X.h_org(self.base, o), {}), X.MT + "metadata+xml")

    def get_vdc(self, vid):
        if self.user.org.vdc_id != vid:
            return self.forbidden("com.vmware.vcloud.entity.vdc:" + vid)
        return self.xml(200, X.vdc(self.base, self.user.org, self.em.knobs.get("max_hw_version") or 19),
                        X.MT + "vdc+xml")

    def do_query(self, qs, user, fv):
        params = dict(urllib.parse.parse_qsl(qs, keep_blank_values=True))
        try:
            _root, ctype, body = query.run(self.em.model, user, self.base, params, fv)
        except query.QueryError as e:
            return self.error(e.code, e.minor, e.msg)
        return self.reply(200, body, "%s;version=%s" % (ctype, self._version))
