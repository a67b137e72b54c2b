"""osapi.py: the few Keystone/Glance REST calls tests/clouds needs (stdlib only).

Keystone runs under uwsgi with `Connection: close`, so every call opens its own
connection (http.client) and nothing relies on keep-alive.
"""
import http.client
import json
import time
import urllib.parse


class HTTPError(Exception):
    def __init__(self, method, url, status, body):
        super().__init__("%s %s -> HTTP %s: %s" % (method, url, status, body[:300]))
        self.status = status


def request(method, url, body=None, token=None, headers=None, ok=(200, 201, 202, 204),
            timeout=120):
    """-> (status, {lower-case header: value}, parsed JSON or raw bytes)."""
    u = urllib.parse.urlsplit(url)
    hdrs = {"Accept": "application/json"}
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["X-Auth-Token"] = token
    hdrs.update(headers or {})
    for attempt in range(5):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        try:
            conn.request(method, u.path + ("?" + u.query if u.query else ""), body, hdrs)
            r = conn.getresponse()
            data = r.read()
            rh = {k.lower(): v for k, v in r.getheaders()}
            break
        except ConnectionRefusedError:       # not up yet; anything else is not retried
            if attempt == 4:
                raise
            time.sleep(0.2)
        finally:
            conn.close()
    if ok and r.status not in ok:
        raise HTTPError(method, url, r.status, data.decode("utf-8", "replace"))
    if rh.get("content-type", "").startswith("application/json") and data:
        data = json.loads(data)
    return r.status, rh, data


def password_token(keystone, user, password, project):
    """Project-scoped token for a user of the Default domain -> (token, token body)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    _, h, data = request("POST", keystone + "/auth/tokens", body)
    return h["x-subject-token"], data["token"]


def appcred_token(keystone, cred_id, secret):
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred_id, "secret": secret}}}}
    _, h, data = request("POST", keystone + "/auth/tokens", body)
    return h["x-subject-token"], data["token"]
