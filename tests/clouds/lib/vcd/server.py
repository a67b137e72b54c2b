"""HTTP plumbing and the /api, /cloudapi and /__emulator routes of the vCD emulator
(vcd-api.md §1, §2, §3, §4.1, §4.7, §6.1, §7, §8, §10.2).  One ThreadingHTTPServer per listener
(HTTPS and plain HTTP), HTTP/1.1 keep-alive, deferred `Expect: 100-continue`, chunked request
bodies, per-request socket timeouts."""
import base64
import http.server
import ipaddress
import json
import logging
import os
import re
import ssl
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

from . import jobs, query, transfer
from . import xmldocs as X
from .model import Session, new_id

log = logging.getLogger("vcd")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
VERSIONS = (["29.0", "30.0", "31.0", "32.0", "33.0", "34.0", "35.0", "36.0", "36.1", "36.2", "36.3",
             "37.0", "37.1", "37.2", "38.0", "38.1", "39.0", "39.1", "5.5", "5.6", "5.7", "5.8", "5.9",
             "5.10", "5.11", "5.12", "6.0", "7.0", "9.0", "20.0", "27.0"])
DEPRECATED = lambda v: float(v) < 33.0 and v not in ()  # noqa: E731


def vnum(v):
    """'5.10' -> 5.10, '5.9' -> 5.09, '36.1' -> 36.01: orders like the versions themselves and
    compares correctly against the whole-number thresholds (30.0, 33.0, 35.0, 38.0)."""
    a, _, b = v.partition(".")
    return int(a) + int(b or 0) / 100.0


def root_name(data):
    """The local name of the document element of an XML document ("unknown" if none)."""
    p = ET.XMLPullParser(events=("start",))
    try:
        p.feed(data)
        for _ev, el in p.read_events():
            return el.tag.rsplit("}", 1)[-1]
    except ET.ParseError:
        pass
    return "unknown"


class Emulator:
    def __init__(self, model, knobs, record_dir):
        self.model, self.knobs = model, knobs
        self.record_dir = record_dir
        self.rec_n = 0
        self.stats = {"requests": {}, "put_bytes": 0, "put_seconds": 0.0, "last_receive_rate_mib_s": 0.0}
        self.slock = threading.Lock()
        self.n_requests = 0
        if record_dir:
            os.makedirs(record_dir, exist_ok=True)

    def record(self, body):
        """Keeps a copy of an XML document sent (str or bytes) as NNNNNN-<root local name>.xml."""
        if not self.record_dir or not body:
            return
        data = body.encode() if isinstance(body, str) else bytes(body)
        root = root_name(data)
        with self.slock:
            self.rec_n += 1
            n = self.rec_n
        with open(os.path.join(self.record_dir, "%06d-%s.xml" % (n, root)), "wb") as f:
            f.write(data)

    def count(self, method, path):
        pat = re.sub(UUID, "{id}", path)
        pat = re.sub(r"^/transfer/\{id\}/.+$", "/transfer/{id}/{name}", pat)
        pat = re.sub(r"/metadata/.+$", "/metadata/{key}", pat)
        with self.slock:
            k = "%s %s" % (method, pat)
            self.stats["requests"][k] = self.stats["requests"].get(k, 0) + 1

    def stats_put(self, n, secs):
        with self.slock:
            self.stats["put_bytes"] += n
            self.stats["put_seconds"] += secs
            if n:
                self.stats["last_receive_rate_mib_s"] = round(n / secs / (1 << 20), 3)

    def state(self):
        m = self.model
        with m.lock:
            tpls = []
            for t in m.templates.values():
                tpls.append({"id": t.id, "item_id": t.item_id, "name": t.name, "catalog": t.catalog.name,
                             "org": t.catalog.org.name, "status": t.status, "phase": t.phase,
                             "task_status": t.task.status if t.task else None,
                             "task_error": t.task.error[2] if t.task and t.task.error else None,
                             "descriptor": t.descriptor,
                             "files": [{"name": f.name, "size": f.size, "bytes": f.bt, "path": os.path.abspath(f.path)}
                                       for f in t.files if f.name != "descriptor.ovf"],
                             "download": ({"sid": t.download["sid"],
                                           "files": [{"name": n, "size": s, "path": p}
                                                     for n, p, s in t.download["files"]]}
                                          if t.download else None)})
            now = time.time()
            idle = float(self.knobs.get("session_idle_timeout") or 1800)
            live = {id(s) for s in m.sessions.values() if not s.expired and now - s.last_used <= idle}
            cats = {}
            for o in m.orgs:
                for c in o.catalogs:
                    cats[c.name] = sum(1 for t in m.templates.values() if t.catalog is c)
            return {"templates": tpls, "sessions": len(live), "catalog_items": cats}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vcd-emulator"
    sys_version = ""
    timeout = 300

    # ------------------------------------------------------------ plumbing
    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    def parse_request(self):
        self._expect = False
        self._continued = False
        self._body_done = False
        self._rid = new_id()
        return super().parse_request()

    def handle_expect_100(self):
        self._expect = True        # answered by send_continue() once the request is accepted
        return True

    def send_continue(self):
        if self._expect and not self._continued:
            self._continued = True
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def body_length(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return None
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def iter_body(self, expect=None):
        """Yields body chunks (streamed; chunked decoding); None once if the peer stops early."""
        self.send_continue()
        self._body_done = True
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                try:
                    line = self.rfile.readline(1024)
                    n = int(line.split(b";")[0].strip(), 16)
                except (ValueError, OSError):
                    yield None
                    return
                if n == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return
                left = n
                while left:
                    try:
                        b = self.rfile.read(min(left, 1 << 20))
                    except OSError:
                        b = b""
                    if not b:
                        yield None
                        return
                    left -= len(b)
                    yield b
                self.rfile.readline(16)
        else:
            left = self.body_length()
            while left > 0:
                try:
                    b = self.rfile.read(min(left, 1 << 20))
                except OSError:
                    b = b""
                if not b:
                    yield None
                    return
                left -= len(b)
                yield b

    def read_body(self, limit=1 << 20):
        out = []
        n = 0
        for b in self.iter_body():
            if b is None:
                return None
            n += len(b)
            if n > limit:
                self.close_connection = True
                return None
            out.append(b)
        return b"".join(out)

    def _finish_body(self):
        """Before answering: the unread body either gets drained (small) or the connection closes."""
        if self._body_done:
            return
        if self._expect and not self._continued:
            self.close_connection = True
            return
        n = self.body_length()
        if n is None or n > (16 << 20):
            self.close_connection = True
            return
        for b in self.iter_body():
            if b is None:
                self.close_connection = True
                return

    def reply(self, code, body=b"", ctype=None, headers=(), reason=None, api=True, close=False):
        if ctype and "xml" in ctype and self.command != "HEAD":
            self.em.record(body)
        if isinstance(body, str):
            body = body.encode()
        self._finish_body()
        self.send_response(code, reason)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if api:
            self.send_header("X-VMWARE-VCLOUD-REQUEST-ID", self._rid)
            self.send_header("X-VMWARE-VCLOUD-REQUEST-EXECUTION-TIME", "3")
        for k, v in headers:
            self.send_header(k, v)
        if close or self.close_connection:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def transfer_reply(self, code, reason, close=False):
        api = not self.em.knobs.get("omit_request_id_on_transfer")
        return self.reply(code, b"", None, reason=reason, api=api, close=close or code >= 400)

    def drop_connection(self):
        self.close_connection = True
        try:
            self.request.shutdown(2)
        except OSError:
            pass

    def send_file(self, path, ctype):
        size = os.path.getsize(path)
        if "xml" in ctype and self.command != "HEAD" and size <= (32 << 20):
            with open(path, "rb") as f:
                self.em.record(f.read())
        self._finish_body()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                self.wfile.write(b)

    def error(self, code, minor, msg, headers=()):
        v = getattr(self, "_version", None)
        ctype = X.MT + "error+xml" + (";version=%s" % v if v else "")
        return self.reply(code, X.error(code, minor, "[ %s ] %s" % (self._rid, msg)), ctype, headers)

    def xml(self, code, body, mt, headers=()):
        return self.reply(code, body, "%s;version=%s" % (mt, self._version), headers)

    @property
    def base(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return "%s://%s" % (self.server.scheme, host)

    # ------------------------------------------------------------ dispatch
    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        self.em = self.server.em
        self._version = None
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        try:
            if path.startswith("/__emulator/"):
                return self.control(method, path, url.query)
            self.em.count(method, path)
            every = self.em.knobs.get("http_503_every")
            if every:
                with self.em.slock:
                    self.em.n_requests += 1
                    hit = self.em.n_requests % int(every) == 0
                if hit:
                    return self.reply(503, b"", None, reason="Service Unavailable", close=True)
            if path.startswith("/transfer/"):
                return self.do_transfer(method, path)
            if path.startswith("/cloudapi/"):
                return self.cloudapi(method, path)
            if path.startswith("/api"):
                return self.api(method, path, url.query)
            return self.reply(404, b"", None, reason="Not Found", api=False)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a bug must answer 500, not kill the connection silently
            log.exception("internal error on %s %s", method, self.path)
            try:
                self.error(500, "INTERNAL_SERVER_ERROR", "Internal emulator error")
            except OSError:
                pass
            self.close_connection = True

    # ------------------------------------------------------------ versions / auth
    def negotiate(self):
        """The version from any Accept header value, or an error already sent (returns None)."""
        found = []
        for h in self.headers.get_all("Accept") or []:
            for part in h.split(","):
                for p in part.split(";")[1:]:
                    k, _, v = p.strip().partition("=")
                    if k.strip().lower() == "version":
                        found.append(v.strip().strip('"'))
        for v in found:
            if v in VERSIONS:
                self._version = v
                return v
        listing = ", ".join(v + (" [D]" if DEPRECATED(v) else "")
                            for v in sorted(VERSIONS, key=vnum, reverse=True))
        if not found or not any(found):
            msg = "The request has invalid accept header: . Supported API versions are: [%s] ([D] indicates " \
                  "deprecated versions)" % listing
        else:
            msg = "The request has invalid accept header: Invalid API version requested. Supported API versions " \
                  "are: [%s] ([D] indicates deprecated versions)" % listing
        self.error(406, "NOT_ACCEPTABLE", msg)
        return None

    def token_session(self, refresh):
        tok = self.headers.get("x-vcloud-authorization")
        if not tok:
            a = self.headers.get("Authorization") or ""
            if a[:7].lower() == "bearer ":
                tok = a[7:].strip()
        if not tok:
            tok = self.headers.get("X-Vmware-Vcloud-Access-Token")
        if not tok:
            return None
        m = self.em.model
        with m.lock:
            s = m.sessions.get(tok.strip())
            if s is None or s.expired:
                return None
            if time.time() - s.last_used > float(self.em.knobs.get("session_idle_timeout") or 1800):
                s.expired = True
                return None
            if refresh:
                s.last_used = time.time()
            return s

    def unauthorized(self, api=True):
        style = self.em.knobs.get("login_401_style")
        www = ('Basic realm="vCloud", SIGN realm="vCloud", Bearer realm="vCloud"' if style == "multi"
               else 'Basic realm="vCloud"')
        return self.reply(401, b"", None, [("WWW-Authenticate", www)], api=api, close=self._expect)

    def basic_user(self):
        a = self.headers.get("Authorization") or ""
        if a[:6].lower() != "basic ":
            return None
        try:
            up = base64.b64decode(a[6:].strip()).decode("utf-8")
        except ValueError:
            return None
        user, _, pw = up.partition(":")
        return self.em.model.user_login(user, pw)

    def new_session(self, user):
        s = Session(user, self._version)
        with self.em.model.lock:
            self.em.model.sessions[s.token] = s
            self.em.model.sessions[s.bearer] = s
        return s

    # ------------------------------------------------------------ /cloudapi
    def cloudapi(self, method, path):
        v = self.negotiate()
        if v is None:
            return
        if vnum(v) < 33.0:
            return self.reply(404, b"", None, reason="Not Found")
        if path in ("/cloudapi/1.0.0/sessions", "/cloudapi/1.0.0/sessions/provider") and method == "POST":
            u = self.basic_user()
            provider = path.endswith("/provider")
            if u is None or (u.org.name.lower() == "system") != provider:
                body = json.dumps({"minorErrorCode": "NOT_AUTHENTICATED",
                                   "message": "[ %s ] This operation is denied." % self._rid, "stackTrace": None})
                return self.reply(401, body, "application/json;version=" + v,
                                  [("WWW-Authenticate", 'Basic realm="vCloud"')])
            s = self.new_session(u)
            return self.reply(200, json.dumps(self.session_json(s)), "application/json;version=" + v,
                              [("X-VMWARE-VCLOUD-ACCESS-TOKEN", s.bearer), ("X-VMWARE-VCLOUD-TOKEN-TYPE", "Bearer")])
        if path == "/cloudapi/1.0.0/sessions/current":
            s = self.token_session(True)
            if s is None:
                body = json.dumps({"minorErrorCode": "NOT_AUTHENTICATED",
                                   "message": "[ %s ] This operation is denied." % self._rid, "stackTrace": None})
                return self.reply(401, body, "application/json;version=" + v)
            if method == "GET":
                return self.reply(200, json.dumps(self.session_json(s)), "application/json;version=" + v)
            if method == "DELETE":
                s.expired = True
                return self.reply(204)
            return self.reply(405, b"", None)
        return self.reply(404, b"", None)

    def session_json(self, s):
        u, o = s.user, s.user.org
        return {"id": "urn:vcloud:session:" + s.id, "site": {"name": "vcd-emulator", "id": "urn:vcloud:site:" + o.id},
                "user": {"name": u.name, "id": "urn:vcloud:user:" + u.id},
                "org": {"name": o.name, "id": "urn:vcloud:org:" + o.id},
                "operatingOrg": {"name": o.name, "id": "urn:vcloud:org:" + o.id},
                "location": "%s@vcd-emulator" % o.id, "roles": ["vApp Author"],
                "roleRefs": [{"name": "vApp Author", "id": "urn:vcloud:role:" + o.id}],
                "sessionIdleTimeoutMinutes": max(1, int(float(self.em.knobs.get("session_idle_timeout")) // 60))}

    # ------------------------------------------------------------ /api
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
            (r"/api/vAppTemplate/vappTemplate-(%s)" % UUID, {"GET": self.get_tpl, "DELETE": self.del_tpl}),
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

    # ------------------------------------------------------------ handlers (model lock held)
    def get_session(self):
        return self.xml(200, X.session(self.base, self.sess), X.MT + "session+xml")

    def del_session(self):
        if self.fv >= 38.0:
            return self.error(405, "METHOD_NOT_ALLOWED", "The HTTP method DELETE is not supported.")
        self.sess.expired = True
        return self.reply(204)

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

    def _catalog(self, cid):
        c = self.em.model.catalogs.get(cid)
        return c if c is not None and c.org is self.user.org else None

    def get_catalog(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        items = sorted((t for t in self.em.model.templates.values() if t.catalog is c), key=lambda t: t.item_created)
        return self.xml(200, X.catalog(self.base, c, items, self.user.can_upload), X.MT + "catalog+xml")

    def get_catalog_md(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        return self.xml(200, X.metadata(self.base, X.h_catalog(self.base, c), {}), X.MT + "metadata+xml")

    def post_upload(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ct == (X.MT + "media+xml").lower():
            return self.error(400, "BAD_REQUEST", "Media upload is not supported by this emulator.")
        if ct != (X.MT + "uploadVAppTemplateParams+xml").lower():
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type: %s" % (ct or "(none)"))
        if c.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        n = self.body_length()
        if n is not None and n > 512 * 1024:
            return self.error(400, "BAD_REQUEST", "The request body exceeds 512 KB.")
        self.em.model.lock.release()            # do not hold the lock while reading from the network
        try:
            data = self.read_body(512 * 1024)
        finally:
            self.em.model.lock.acquire()
        if data is None:
            return self.error(400, "BAD_REQUEST", "The request body could not be read.")
        params, why = parse_upload_params(data)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        name, desc, manifest = params
        if any(t.name == name and t.catalog is c for t in self.em.model.templates.values()):
            code = int(self.em.knobs.get("duplicate_name_code") or 400)
            return self.error(code, "DUPLICATE_NAME", "The VCD entity %s already exists." % name)
        from .model import FileEntry, Template
        t = Template(name, desc, c, self.user, self.em.model.store)
        t.manifest_required = manifest
        os.makedirs(t.dir, exist_ok=True)
        t.files.append(FileEntry("descriptor.ovf", -1, os.path.join(t.dir, "descriptor.ovf")))
        t.task = jobs.new_task(self.em, t, "Importing Virtual Application Template %s(%s)" % (name, t.id),
                               "vdcUploadOvfContents", self.user)
        self.em.model.templates[t.id] = t
        self.em.model.items[t.item_id] = t
        self.em.model.transfers[t.sid] = (t, "upload")
        log.info("upload: template %s (%s) created in catalog %s", t.id, name, c.name)
        return self.xml(201, X.catalog_item(self.base, t), X.MT + "catalogItem+xml",
                        [("Location", X.h_item(self.base, t))])

    def _item(self, iid):
        t = self.em.model.items.get(iid)
        return t if t is not None and t.catalog.org is self.user.org else None

    def _tpl(self, tid):
        t = self.em.model.templates.get(tid)
        return t if t is not None and t.catalog.org is self.user.org else None

    def get_item(self, iid):
        t = self._item(iid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        return self.xml(200, X.catalog_item(self.base, t), X.MT + "catalogItem+xml")

    def busy(self, t):
        return self.error(400, "BUSY_ENTITY", "The entity Ref: com.vmware.vcloud.entity.vapptemplate:%s (%s) is busy "
                          "completing an operation %s." % (t.id, t.name, t.task.operation_name))

    def del_item(self, iid):
        t = self._item(iid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        if t.catalog.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        if t.busy():
            return self.busy(t)
        self.em.model.remove_template(t)
        return self.reply(204)

    def get_tpl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        return self.xml(200, X.vapp_template(self.base, t), X.MT + "vAppTemplate+xml")

    def del_tpl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.catalog.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.busy():
            return self.busy(t)
        task = jobs.new_task(self.em, t, "Deleting Virtual Application Template %s(%s)" % (t.name, t.id),
                             "vdcDeleteTemplate", self.user)
        t.task = task
        jobs.later(jobs.delete, self.em, t, task)
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def get_ovf(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if not t.descriptor or not os.path.exists(t.descriptor):
            return self.error(400, "BAD_REQUEST", "The vApp template has no OVF descriptor yet.")
        with open(t.descriptor, "rb") as f:
            return self.reply(200, f.read(), "text/xml")

    def enable_dl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if not self.user.can_download:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.busy():
            return self.busy(t)
        if t.status != 8:
            return self.error(400, "BAD_REQUEST", "The vApp template %s is not ready (status %d)." % (t.name, t.status))
        task = jobs.new_task(self.em, t, "Enabling download of Virtual Application Template %s(%s)" % (t.name, t.id),
                             "vdcEnableDownload", self.user)
        t.task = task
        jobs.later(jobs.enable_download, self.em, t, task)
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def disable_dl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.download:
            self.em.model.transfers.pop(t.download["sid"], None)
            t.download = None
        return self.reply(204)

    def get_task(self, kid):
        task = self.em.model.tasks.get(kid)
        if task is None or task.org is not self.user.org:
            return self.forbidden("com.vmware.vcloud.entity.task:" + kid)
        return self.xml(200, X.task_body(self.base, task, True), X.MT + "task+xml")

    def cancel_task(self, kid):
        task = self.em.model.tasks.get(kid)
        if task is None or task.org is not self.user.org:
            return self.forbidden("com.vmware.vcloud.entity.task:" + kid)
        if not task.running():
            return self.error(400, "BAD_REQUEST", "The task %s is already complete (%s)." % (kid, task.status))
        task.cancel_requested = True
        task.finish("canceled")
        t = task.owner
        if t is not None and task.operation_name == "vdcUploadOvfContents":
            t.phase = "X"
            jobs.later(jobs.cancel, self.em, t, task)
        return self.reply(204)

    # ------------------------------------------------------------ metadata
    def _md_target(self, eid):
        """(template, metadata dict, href) for a catalogItem or vAppTemplate path."""
        if "/catalogItem/" in self.path:
            t = self._item(eid)
            return (t, t.item_metadata, X.h_item(self.base, t)) if t else (None, None, None)
        t = self._tpl(eid)
        return (t, t.metadata, X.h_tpl(self.base, t)) if t else (None, None, None)

    def md_get(self, eid):
        t, md, href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        return self.xml(200, X.metadata(self.base, href, md), X.MT + "metadata+xml")

    def _md_done(self, t, what):
        task = jobs.new_task(self.em, t, "Updating metadata of %s(%s): %s" % (t.name, t.id, what),
                             "metadataUpdate", self.user)
        task.owner_ref = (t.id, t.name)
        task.finish("success")
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def _read_xml(self):
        self.em.model.lock.release()
        try:
            data = self.read_body(512 * 1024)
        finally:
            self.em.model.lock.acquire()
        return data

    def md_post(self, eid):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        data = self._read_xml()
        entries, why = parse_metadata(data, many=True)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        for k, xt, v in entries:
            md[k] = (xt, v)
        return self._md_done(t, ",".join(e[0] for e in entries))

    def md_get_key(self, eid, key):
        t, md, href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        if key not in md:
            return self.error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "No metadata entry %s." % key)
        xt, v = md[key]
        return self.xml(200, X.metadata_value(self.base, href, key, xt, v), X.MT + "metadata.value+xml")

    def md_put_key(self, eid, key):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        data = self._read_xml()
        entries, why = parse_metadata(data, many=False)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        xt, v = entries[0][1], entries[0][2]
        md[key] = (xt, v)
        return self._md_done(t, key)

    def md_del_key(self, eid, key):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        if key not in md:
            return self.error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "No metadata entry %s." % key)
        del md[key]
        return self._md_done(t, key)

    # ------------------------------------------------------------ /transfer
    def do_transfer(self, method, path):
        mm = re.fullmatch(r"/transfer/(%s)/([^/]+)" % UUID, path)
        if not mm:
            return self.transfer_reply(404, "Not Found")
        sid, name = mm.groups()
        with self.em.model.lock:
            ent = self.em.model.transfers.get(sid)
        if ent is None:
            return self.transfer_reply(404, "Not Found")
        t, kind = ent
        if self.em.knobs.get("require_transfer_auth"):
            s = self.token_session(False)        # transfer traffic does not refresh the session
            if s is None:
                return self.unauthorized(api=not self.em.knobs.get("omit_request_id_on_transfer"))
            if s.user.org is not t.catalog.org:
                return self.transfer_reply(404, "Not Found")
            if kind == "upload" and method == "PUT" and not s.user.can_upload:
                return self.transfer_reply(403, "Forbidden")
        if kind == "upload" and method == "PUT":
            return transfer.put(self, self.em, t, name)
        if kind == "download" and method == "GET":
            return transfer.get(self, self.em, t, name)
        return self.transfer_reply(405 if method not in ("GET", "PUT") else 404, "Not Found")

    # ------------------------------------------------------------ control API
    def control(self, method, path, qs):
        try:
            loop = ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            loop = False
        if not loop:
            return self.reply(403, b"", None, api=False)
        em = self.em

        def js(obj, code=200):
            return self.reply(code, json.dumps(obj, indent=1) + "\n", "application/json", api=False)

        if path == "/__emulator/state" and method == "GET":
            return js(em.state())
        if path == "/__emulator/knobs":
            if method == "GET":
                return js(em.knobs.snapshot())
            if method == "POST":
                data = self.read_body(1 << 20)
                try:
                    obj = json.loads(data or b"{}")
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    return js({"error": str(e)}, 400)
                em.knobs.merge(obj)
                return js(em.knobs.snapshot())
            if method == "DELETE":
                em.knobs.reset()
                return js(em.knobs.snapshot())
        if path == "/__emulator/stats" and method == "GET":
            with em.slock:
                return js(json.loads(json.dumps(em.stats)))
        if path == "/__emulator/expire-sessions" and method == "POST":
            with em.model.lock:
                for s in em.model.sessions.values():
                    s.expired = True
            return js({"expired": True})
        return js({"error": "unknown control request"}, 404)


# ------------------------------------------------------------ request bodies
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


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, em, scheme, ctx=None):
        self.em, self.scheme, self.ctx = em, scheme, ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr
