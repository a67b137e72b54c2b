"""tests/clouds/vcsim/vim.py: the little of the vSphere APIs that library.py
and vm.py use, with the Python standard library only: SOAP (vim25 at
URL/sdk: calls, properties, tasks) and REST (/rest sessions, JSON calls).

TLS is verified against $CLOUDS_CACERT (the instance's CA, DIR/tls/ca.pem)
when it is set, otherwise against the system's CAs.
"""
import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
VIM = "urn:vim25"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class Error(Exception):
    pass


def tls_context():
    return ssl.create_default_context(cafile=os.environ.get("CLOUDS_CACERT") or None)


def from_env():
    """(URL, USER, PASSWORD) of DIR/env's CLOUDS_VSPHERE_* variables."""
    try:
        return tuple(os.environ["CLOUDS_VSPHERE_" + k] for k in ("URL", "USER", "PASSWORD"))
    except KeyError as e:
        sys.exit("%s is not set (source DIR/env of tests/clouds/up)" % e)


def base_url(url):
    """https://HOST:PORT, whether URL ends with /sdk or not."""
    url = url.rstrip("/")
    return url[:-4] if url.endswith("/sdk") else url


def basic_auth(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def request(method, url, body=None, headers=None, timeout=60):
    """(status, body bytes, headers); HTTP errors are answers here, not exceptions."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, context=tls_context(), timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
    except (urllib.error.URLError, OSError) as e:
        raise Error("%s %s: %s" % (method, url.split("?")[0], getattr(e, "reason", e)))


def q(name):
    """NAME as a vim25 element path, e.g. q("obj") -> {urn:vim25}obj."""
    return "{%s}%s" % (VIM, name)


def text(el, name):
    found = el.find(".//" + q(name))
    return found.text if found is not None else None


def xsi_type(el):
    return el.get("{%s}type" % XSI)


class Vim:
    """A logged-in vim25 SOAP session (the session cookie is kept)."""

    def __init__(self, url, user, password):
        self.base = base_url(url)
        self.url, self.cookie = self.base + "/sdk", None
        self.user, self.password = user, password
        sc = self.call("RetrieveServiceContent", "ServiceInstance", "ServiceInstance")
        self.sc = {el.tag.split("}")[1]: el.text for el in sc.find(".//" + q("returnval"))}
        self.call("Login", self.sc["sessionManager"], "SessionManager",
                  "<userName>%s</userName><password>%s</password>" % (escape(user), escape(password)))

    def call(self, method, this, this_type, body=""):
        """METHOD on the managed object THIS (of THIS_TYPE) with the XML BODY of its
        further parameters; returns the response element (raises Error on a fault)."""
        env = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="%s" '
               'xmlns:xsi="%s"><soapenv:Body><%s xmlns="%s"><_this type="%s">%s</_this>%s</%s>'
               '</soapenv:Body></soapenv:Envelope>'
               % (SOAP, XSI, method, VIM, this_type, this, body, method))
        h = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "urn:vim25/6.5"}
        if self.cookie:
            h["Cookie"] = self.cookie
        status, data, hdr = request("POST", self.url, env.encode(), h)
        if hdr.get("Set-Cookie"):
            self.cookie = hdr["Set-Cookie"].split(";")[0]
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            raise Error("%s: HTTP %d, not XML: %r" % (method, status, data[:200]))
        fault = root.find(".//{%s}Fault" % SOAP)
        if fault is not None:
            detail = fault.find("detail")
            kind = xsi_type(detail[0]) if detail is not None and len(detail) else None
            raise Error("%s: %s%s" % (method, fault.findtext("faultstring"), " (%s)" % kind if kind else ""))
        if status != 200:
            raise Error("%s: HTTP %d" % (method, status))
        return root.find(".//{%s}Body" % SOAP)[0]

    def properties(self, obj, obj_type, paths):
        """{path: element} of the properties PATHS of one object (missing ones absent)."""
        spec = ("<specSet><propSet><type>%s</type>%s</propSet><objectSet><obj type=\"%s\">%s</obj>"
                "</objectSet></specSet><options/>"
                % (obj_type, "".join("<pathSet>%s</pathSet>" % p for p in paths), obj_type, obj))
        res = self.call("RetrievePropertiesEx", self.sc["propertyCollector"], "PropertyCollector", spec)
        return {ps.findtext(q("name")): ps.find(q("val")) for ps in res.iter(q("propSet"))}

    def find_all(self, obj_type, path="name"):
        """[(moref, value of PATH)] of every object of OBJ_TYPE (a ContainerView of the root)."""
        view = text(self.call("CreateContainerView", self.sc["viewManager"], "ViewManager",
                              '<container type="Folder">%s</container><type>%s</type><recursive>true</recursive>'
                              % (self.sc["rootFolder"], obj_type)), "returnval")
        spec = ('<specSet><propSet><type>%s</type><pathSet>%s</pathSet></propSet>'
                '<objectSet><obj type="ContainerView">%s</obj><skip>true</skip>'
                '<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path>'
                '<skip>false</skip></selectSet></objectSet></specSet><options/>' % (obj_type, path, view))
        try:
            res = self.call("RetrievePropertiesEx", self.sc["propertyCollector"], "PropertyCollector", spec)
        finally:
            self.call("DestroyView", view, "ContainerView")
        return [(o.findtext(q("obj")), o.findtext(q("propSet") + "/" + q("val")))
                for o in res.iter(q("objects"))]

    def find(self, obj_type, name):
        """The moref of the object of OBJ_TYPE named NAME (exits if there is none)."""
        found = [ref for ref, n in self.find_all(obj_type) if n == name]
        if not found:
            sys.exit("no %s named %r" % (obj_type, name))
        return found[0]

    def wait(self, task, timeout=120):
        """Waits for TASK; returns its info.result element (raises Error if it failed)."""
        end = time.time() + timeout
        while time.time() < end:
            info = self.properties(task, "Task", ["info"])["info"]
            state = info.findtext(q("state"))
            if state == "success":
                return info.find(q("result"))
            if state == "error":
                err = info.find(q("error"))
                fault = err.find(q("fault")) if err is not None else None
                raise Error("task %s failed: %s%s" % (
                    task, err.findtext(q("localizedMessage")) if err is not None else "?",
                    " (%s)" % xsi_type(fault) if fault is not None else ""))
            time.sleep(0.1)
        raise Error("task %s did not finish in %d s" % (task, timeout))


class Rest:
    """A /rest API session (vCenter 6.5+; vcsim serves no /api)."""

    def __init__(self, url, user, password):
        self.base = base_url(url) + "/rest"
        self.session = self.call("POST", "/com/vmware/cis/session", headers={"Authorization": basic_auth(user, password)})

    def call(self, method, path, body=None, query=None, headers=None):
        """The "value" of the JSON answer to METHOD /rest/PATH (raises Error unless 2xx)."""
        h = dict(headers or {})
        if getattr(self, "session", None):
            h["vmware-api-session-id"] = self.session
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        status, data, _ = request(method, url, body, h)
        if status // 100 != 2:
            raise Error("%s %s: HTTP %d %s" % (method, path, status, data[:300].decode(errors="replace")))
        return json.loads(data).get("value") if data else None
