"""HTTP plumbing of the Nova emulator: HTTP/1.1 keep-alive, JSON replies with Nova's headers
(x-openstack-request-id, X-Compute-Request-Id, the microversion headers), Nova's error bodies
({"itemNotFound": {"code": 404, "message": ...}}), the microversion of a request (2.1 .. 2.96,
`OpenStack-API-Version: compute 2.X` or `X-OpenStack-Nova-API-Version: 2.X`, "latest"), the
authentication of every /v2.1 request and the dispatch by path."""
import http.server
import json
import logging
import re
import urllib.parse
import uuid

log = logging.getLogger("nova")

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)
FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
               429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
VERSION_HEADERS = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"


class Reject(Exception):
    """An error reply: raise Reject(404, "Instance X could not be found.")."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def vstr(v):
    return "%d.%d" % v


class HandlerBase(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nova-emulator"
    sys_version = ""
    timeout = 300

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    # ------------------------------------------------------------ bodies and replies
    def read_body(self, limit=1 << 20):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n > limit:
            self.close_connection = True
            raise Reject(413, "Request is too large.")
        self._body_read = True
        return self.rfile.read(n) if n else b""

    def json_body(self):
        data = self.read_body()
        try:
            obj = json.loads(data or b"null")
        except ValueError:
            raise Reject(400, "Malformed request body") from None
        if not isinstance(obj, dict):
            raise Reject(400, "Malformed request body")
        return obj

    def reply(self, code, obj=None, headers=(), raw=None):
        if not getattr(self, "_body_read", False) and self.command in ("POST", "PUT", "PATCH"):
            try:
                self.read_body(16 << 20)
            except Reject:
                self.close_connection = True
        body = raw if raw is not None else (b"" if obj is None else (json.dumps(obj) + "\n").encode())
        self.send_response(code)
        if body or obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        rid = getattr(self, "_rid", None)
        if rid:
            self.send_header("x-openstack-request-id", rid)
            self.send_header("X-Compute-Request-Id", rid)
        mv = getattr(self, "mv", None)
        if mv and getattr(self, "_versioned", False):
            self.send_header("OpenStack-API-Version", "compute " + vstr(mv))
            self.send_header("X-OpenStack-Nova-API-Version", vstr(mv))
            self.send_header("Vary", VERSION_HEADERS)
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fault(self, code, message, headers=()):
        return self.reply(code, {FAULT_NAMES.get(code, "computeFault"): {"code": code, "message": message}},
                          headers)

    # ------------------------------------------------------------ microversions
    def microversion(self):
        """The request's microversion as (2, X); Reject(400/406) as Nova answers bad ones."""
        want = None
        h = self.headers.get("OpenStack-API-Version")
        if h:
            for part in h.split(","):
                bits = part.split()
                if len(bits) == 2 and bits[0].lower() == "compute":
                    want = bits[1]
        if want is None:
            want = self.headers.get("X-OpenStack-Nova-API-Version")
        if want is None:
            return MIN_VERSION
        want = want.strip()
        if want.lower() == "latest":
            return MAX_VERSION
        m = re.fullmatch(r"([1-9]\d*)\.(0|[1-9]\d*)", want)
        if not m:
            raise Reject(400, "API Version String %s is of invalid format. Must be of format "
                              "MajorNum.MinorNum." % want)
        v = (int(m.group(1)), int(m.group(2)))
        if not MIN_VERSION <= v <= MAX_VERSION:
            raise Reject(406, "Version %s is not supported by the API. Minimum is %s and maximum is %s."
                         % (want, vstr(MIN_VERSION), vstr(MAX_VERSION)))
        return v

    def at_least(self, minor):
        return self.mv >= (2, minor)

    # ------------------------------------------------------------ urls
    @property
    def base(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return "http://%s" % host

    def links(self, kind, id_):
        return [{"rel": "self", "href": "%s/v2.1/%s/%s" % (self.base, kind, id_)},
                {"rel": "bookmark", "href": "%s/%s/%s" % (self.base, kind, id_)}]

    # ------------------------------------------------------------ dispatch
    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        self.em = self.server.em
        self._rid = "req-" + str(uuid.uuid4())
        self._body_read = False
        self._versioned = False
        self.mv = None
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path).rstrip("/") or "/"
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            if path.startswith("/__emulator"):
                return self.control(method, path)
            self.em.count(method, path)
            if path == "/":
                return self.reply(300, {"versions": [self.version_doc()]})
            if path == "/v2.1" and method == "GET":
                return self.reply(200, {"version": self.version_doc()})
            if not path.startswith("/v2.1/"):
                return self.fault(404, "The resource could not be found.")
            self.ident = self.authenticate()
            if self.ident is None:
                return
            self.mv = self.microversion()
            self._versioned = True
            return self.route(method, path[len("/v2.1"):])
        except Reject as e:
            return self.fault(e.code, e.message)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a bug must answer 500, not kill the connection silently
            log.exception("internal error on %s %s", method, self.path)
            try:
                self.close_connection = True
                self.fault(500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ "
                                "and attach the Nova API log if possible.")
            except OSError:
                pass

    def version_doc(self):
        return {"id": "v2.1", "status": "CURRENT", "version": vstr(MAX_VERSION),
                "min_version": vstr(MIN_VERSION), "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": self.base + "/v2.1/"},
                          {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.compute+json;version=2.1"}]}

    def authenticate(self):
        """As keystonemiddleware in front of Nova: 401 without or with an invalid token (its JSON
        body and WWW-Authenticate header), 403 for a token without a project."""
        token = self.headers.get("X-Auth-Token")
        ident = self.em.keystone.validate(token) if token else None
        if ident is None:
            log.info("401 %s %s (%s token)", self.command, self.path, "bad" if token else "no")
            self.reply(401, {"error": {"code": 401, "title": "Unauthorized",
                                       "message": "The request you have made requires authentication."}},
                       headers=[("WWW-Authenticate", 'Keystone uri="%s"' % self.em.keystone.url)])
            return None
        if not ident.project_id:
            raise Reject(403, "Policy doesn't allow this operation: a project-scoped token is required.")
        return ident

    # ------------------------------------------------------------ paging (osapi_max_limit)
    def page(self, items, key, not_found=None):
        """limit/marker paging as Nova's common.limited_by_marker -> (page, limit used)."""
        cap = int(self.em.knobs.get("max_limit") or 1000)
        limit = cap
        if "limit" in self.query:
            try:
                limit = int(self.query["limit"][-1])
                if limit < 0:
                    raise ValueError
            except ValueError:
                raise Reject(400, "Invalid input for query parameters limit. Value: %s. "
                                  "Expected a non-negative integer." % self.query["limit"][-1]) from None
            limit = min(limit, cap)
        start = 0
        if "marker" in self.query:
            marker = self.query["marker"][-1]
            ids = [key(i) for i in items]
            if marker not in ids:
                raise Reject(400, "marker [%s] not found" % marker)
            start = ids.index(marker) + 1
        return items[start:start + limit], limit

    def next_links(self, page, limit, path, key):
        """Nova's "<collection>_links": a next link when the page is full."""
        if not page or len(page) != limit:
            return None
        params = [(k, v) for k, vs in self.query.items() for v in vs if k != "marker"]
        params.append(("marker", key(page[-1])))
        return [{"rel": "next", "href": "%s/v2.1%s?%s" % (self.base, path, urllib.parse.urlencode(params))}]
