"""Token validation against the real Keystone, as keystonemiddleware does it for Nova: the
emulator holds a token of its service user (re-authenticating when it expires or is refused) and
asks GET /v3/auth/tokens with X-Subject-Token for every caller token it has not validated within
the last `token_cache_time` seconds (never beyond the token's expires_at)."""
import datetime
import json
import logging
import threading
import time
import urllib.parse
import http.client

log = logging.getLogger("nova")


def _call(url, method, headers, body=None, timeout=30):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body, headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def parse_time(s):
    """Keystone's expires_at (2024-03-01T10:00:00.000000Z) -> epoch seconds."""
    s = s.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()


class Identity:
    """Who a valid token belongs to."""

    def __init__(self, token, body):
        t = body["token"]
        self.token = token
        self.user_id = t["user"]["id"]
        self.user_name = t["user"]["name"]
        proj = t.get("project") or {}
        self.project_id = proj.get("id")
        self.project_name = proj.get("name")
        self.roles = [r["name"] for r in t.get("roles", [])]
        self.expires = parse_time(t["expires_at"])
        self.catalog = t.get("catalog", [])


class Keystone:
    def __init__(self, url, user, password, project, knobs):
        self.url = url.rstrip("/")
        self.user, self.password, self.project = user, password, project
        self.knobs = knobs
        self.lock = threading.Lock()
        self.service_token = None
        self.service_expires = 0.0
        self.cache = {}     # token -> (Identity, validated at)

    def _service_token(self, fresh=False):
        with self.lock:
            if not fresh and self.service_token and time.time() < self.service_expires - 30:
                return self.service_token
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": self.user, "domain": {"id": "default"}, "password": self.password}}},
                "scope": {"project": {"name": self.project, "domain": {"id": "default"}}}}}
            st, h, data = _call(self.url + "/auth/tokens", "POST",
                                {"Content-Type": "application/json", "Accept": "application/json"},
                                json.dumps(body).encode())
            if st != 201:
                raise RuntimeError("service user %s: Keystone answered %d: %s" % (self.user, st, data[:200]))
            self.service_token = h["x-subject-token"]
            self.service_expires = parse_time(json.loads(data)["token"]["expires_at"])
            return self.service_token

    def service(self):
        return self._service_token()

    def validate(self, token):
        """-> Identity, or None if Keystone does not know the token (expired, revoked, garbage)."""
        if not token or len(token) > 8192:
            return None
        now = time.time()
        ttl = float(self.knobs.get("token_cache_time") or 0)
        with self.lock:
            hit = self.cache.get(token)
        if hit and now - hit[1] < ttl and now < hit[0].expires:
            return hit[0]
        for attempt in (0, 1):
            st, _h, data = _call(self.url + "/auth/tokens", "GET",
                                 {"X-Auth-Token": self._service_token(fresh=attempt == 1),
                                  "X-Subject-Token": token, "Accept": "application/json"})
            if st == 401 and attempt == 0:
                continue            # our own token may have been refused: once more with a new one
            break
        if st != 200:
            if st not in (401, 404):
                log.warning("token validation: Keystone answered %d: %s", st, data[:200])
            with self.lock:
                self.cache.pop(token, None)
            return None
        ident = Identity(token, json.loads(data))
        with self.lock:
            if len(self.cache) > 10000:
                self.cache.clear()
            self.cache[token] = (ident, now)
        return ident
