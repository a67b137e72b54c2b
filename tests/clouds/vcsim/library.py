#!/usr/bin/python3
"""tests/clouds/vcsim/library.py URL USER PASSWORD NAME: makes an empty
local content library NAME on the vCenter's first datastore, as a vSphere
user does (the vSphere Client's "New Content Library"): the datastore's id
through the SOAP API (vim25: Login, a ContainerView of Datastores, the
PropertyCollector), the library through the REST API
(/rest/com/vmware/cis/session, POST /rest/com/vmware/content/local-library).
URL is the SDK's, https://HOST:PORT/sdk. Prints the library's id.
"""
import base64
import json
import ssl
import sys
import urllib.request
import xml.etree.ElementTree as ET

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
VIM = "urn:vim25"
TLS = ssl._create_unverified_context()  # vcsim's certificate is its own; the test server only


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, context=TLS, timeout=30) as r:
        return r.read(), r.headers


class Vim:
    def __init__(self, url):
        self.url, self.cookie = url, None

    def call(self, method, this, this_type, body=""):
        env = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="%s" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
               '<%s xmlns="%s"><_this type="%s">%s</_this>%s</%s></soapenv:Body></soapenv:Envelope>'
               % (SOAP, method, VIM, this_type, this, body, method))
        h = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "urn:vim25/6.5"}
        if self.cookie:
            h["Cookie"] = self.cookie
        data, hdr = post(self.url, env.encode(), h)
        if hdr.get("Set-Cookie"):
            self.cookie = hdr["Set-Cookie"].split(";")[0]
        return ET.fromstring(data)


def text(el, name):
    found = el.find(".//{%s}%s" % (VIM, name))
    return found.text if found is not None else None


def main():
    url, user, password, name = sys.argv[1:5]
    vim = Vim(url)
    sc = vim.call("RetrieveServiceContent", "ServiceInstance", "ServiceInstance")
    root, pc, sm, vm_ = (text(sc, k) for k in ("rootFolder", "propertyCollector", "sessionManager", "viewManager"))
    vim.call("Login", sm, "SessionManager", "<userName>%s</userName><password>%s</password>" % (user, password))
    view = text(vim.call("CreateContainerView", vm_, "ViewManager",
                         '<container type="Folder">%s</container><type>Datastore</type><recursive>true</recursive>'
                         % root), "returnval")
    spec = ('<specSet><propSet><type>Datastore</type><pathSet>name</pathSet></propSet>'
            '<objectSet><obj type="ContainerView">%s</obj><skip>true</skip>'
            '<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip>'
            '</selectSet></objectSet></specSet><options/>' % view)
    res = vim.call("RetrievePropertiesEx", pc, "PropertyCollector", spec)
    objs = res.findall(".//{%s}objects" % VIM)
    if not objs:
        sys.exit("library.py: the vCenter has no datastore")
    ds = text(objs[0], "obj")

    base = url.rsplit("/sdk", 1)[0]
    auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    data, _ = post(base + "/rest/com/vmware/cis/session", b"", {"Authorization": auth})
    session = json.loads(data)["value"]
    create = {"create_spec": {"name": name, "type": "LOCAL",
                              "storage_backings": [{"type": "DATASTORE", "datastore_id": ds}]}}
    data, _ = post(base + "/rest/com/vmware/content/local-library", json.dumps(create).encode(),
                   {"Content-Type": "application/json", "vmware-api-session-id": session})
    print(json.loads(data)["value"])


main()
