#!/usr/bin/python3
"""tests/clouds/vcsim/library.py URL USER PASSWORD NAME: makes an empty
local content library NAME on the vCenter's first datastore, as a vSphere
user does (the vSphere Client's "New Content Library"): the datastore's id
through the SOAP API (vim25: Login, a ContainerView of Datastores, the
PropertyCollector), the library through the REST API
(/rest/com/vmware/cis/session, POST /rest/com/vmware/content/local-library).
URL is the vCenter's, https://HOST:PORT (a trailing /sdk is ignored); TLS
is verified against $CLOUDS_CACERT. Prints the library's id.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vim  # noqa: E402


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: library.py URL USER PASSWORD NAME")
    url, user, password, name = sys.argv[1:5]
    stores = vim.Vim(url, user, password).find_all("Datastore")
    if not stores:
        sys.exit("library.py: the vCenter has no datastore")
    rest = vim.Rest(url, user, password)
    create = {"create_spec": {"name": name, "type": "LOCAL",
                              "storage_backings": [{"type": "DATASTORE", "datastore_id": stores[0][0]}]}}
    print(rest.call("POST", "/com/vmware/content/local-library", create))


try:
    main()
except vim.Error as e:
    sys.exit("library.py: %s" % e)
