"""Versions, negotiation and sessions (vcd-api.md §1, §2, §10.2): the Accept-header version,
token look-up (x-vcloud-authorization, Bearer, X-Vmware-Vcloud-Access-Token) with the idle
timeout, 401 answers, Basic logins, /cloudapi sessions and GET/DELETE /api/session."""
import base64
import json
import time

from . import xmldocs as X
from .model import Session


VERSIONS = (["29.0", "30.0", "31.0", "32.0", "33.0", "34.0", "35.0", "36.0", "36.1", "36.2", "36.3",
             "37.0", "37.1", "37.2", "38.0", "38.1", "39.0", "39.1", "5.5", "5.6", "5.7", "5.8", "5.9",
             "5.10", "5.11", "5.12", "6.0", "7.0", "9.0", "20.0", "27.0"])
DEPRECATED = lambda v: float(v) < 33.0 and v not in ()  # noqa: E731


def vnum(v):
    """'5.10' -> 5.10, '5.9' -> 5.09, '36.1' -> 36.01: orders like the versions themselves and
    compares correctly against the whole-number thresholds (30.0, 33.0, 35.0, 38.0)."""
    a, _, b = v.partition(".")
    return int(a) + int(b or 0) / 100.0


class AuthMixin:
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

    def get_session(self):
        return self.xml(200, X.session(self.base, self.sess), X.MT + "session+xml")

    def del_session(self):
        if self.fv >= 38.0:
            return self.error(405, "METHOD_NOT_ALLOWED", "The HTTP method DELETE is not supported.")
        self.sess.expired = True
        return self.reply(204)
