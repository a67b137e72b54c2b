"""HTTP plumbing of the vCD emulator: HTTP/1.1 keep-alive, TLS handshake in the handler thread,
deferred `Expect: 100-continue`, streamed and chunked request bodies, replies (with the request
id headers of §10.2, error bodies of §8, recording of XML sent) and the dispatch by path prefix
to the /__emulator, /transfer, /cloudapi and /api handlers the mixins of server.py provide."""
import http.server
import logging
import os
import ssl
import urllib.parse

from . import xmldocs as X
from .model import new_id

log = logging.getLogger("vcd")


class HandlerBase(http.server.BaseHTTPRequestHandler):
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
