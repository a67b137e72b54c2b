#!/usr/bin/python3
"""keystone_setup.py: fills a freshly bootstrapped Keystone with what the tests need.

Through Keystone's REST API (as the bootstrap admin): service glance (type image) with
endpoints RegionOne public/internal/admin = Glance, RegionTwo public = the fault proxy
and internal = Glance (tests check region + interface selection); with NOVA_URL also service
nova (type compute) with endpoints RegionOne public/internal/admin and RegionTwo public =
NOVA_URL, and user nova (admin in project service) with which the Nova emulator validates
tokens; project service + user glance (admin) for keystonemiddleware; projects demo and demo2 with users demo
and demo2 (role member); an application credential of demo (project demo).
Prints a JSON document with the ids and secrets.

usage: keystone_setup.py KEYSTONE_URL/v3 ADMIN_PASSWORD GLANCE_URL PROXY_URL PASSWORDS_JSON [NOVA_URL]
"""
import json
import sys

from osapi import HTTPError, appcred_token, password_token, request


def main():
    k, admin_pw, glance, proxy, pw = sys.argv[1:6]
    nova = sys.argv[6] if len(sys.argv) > 6 else None
    pw = json.loads(pw)
    admin = {}

    def call(method, path, body=None):
        # Tests may ask for token lifetimes of a few seconds: re-authenticate on 401.
        for attempt in (0, 1):
            if attempt or "token" not in admin:
                admin["token"], _ = password_token(k, "admin", admin_pw, "admin")
            try:
                return request(method, k + path, body, admin["token"])[2]
            except HTTPError as e:
                if e.status != 401 or attempt:
                    raise

    def post(path, body):
        return call("POST", path, body)

    roles = {r["name"]: r["id"] for r in call("GET", "/roles")["roles"]}
    post("/regions", {"region": {"id": "RegionTwo", "description": "behind the fault proxy"}})
    sid = post("/services", {"service": {"type": "image", "name": "glance", "enabled": True,
                                         "description": "Glance (tests/clouds)"}})["service"]["id"]
    for region, iface, url in [("RegionOne", "public", glance), ("RegionOne", "internal", glance),
                               ("RegionOne", "admin", glance), ("RegionTwo", "public", proxy),
                               ("RegionTwo", "internal", glance)]:
        post("/endpoints", {"endpoint": {"service_id": sid, "interface": iface,
                                         "region_id": region, "url": url, "enabled": True}})
    out = {"roles": roles, "projects": {}, "users": {}, "passwords": pw, "service_id": sid}
    if nova:
        nid = post("/services", {"service": {"type": "compute", "name": "nova", "enabled": True,
                                             "description": "Nova emulator (tests/clouds)"}})["service"]["id"]
        for region, iface in [("RegionOne", "public"), ("RegionOne", "internal"),
                              ("RegionOne", "admin"), ("RegionTwo", "public")]:
            post("/endpoints", {"endpoint": {"service_id": nid, "interface": iface,
                                             "region_id": region, "url": nova, "enabled": True}})
        out["nova_service_id"] = nid
    accounts = [("service", "glance", "admin"), ("demo", "demo", "member"), ("demo2", "demo2", "member")]
    if nova:
        accounts.append(("service", "nova", "admin"))
    for project, user, role in accounts:
        pid = out["projects"].get(project) or post("/projects", {"project": {
            "name": project, "domain_id": "default", "enabled": True}})["project"]["id"]
        uid = post("/users", {"user": {"name": user, "domain_id": "default", "enabled": True,
                                       "password": pw[user], "default_project_id": pid}})["user"]["id"]
        call("PUT", "/projects/%s/users/%s/roles/%s" % (pid, uid, roles[role]))
        out["projects"][project] = pid
        out["users"][user] = uid

    demo_token, _ = password_token(k, "demo", pw["demo"], "demo")
    cred = request("POST", "%s/users/%s/application_credentials" % (k, out["users"]["demo"]),
                   {"application_credential": {"name": "cloudfs-tests",
                                               "description": "tests/clouds/up"}},
                   demo_token)[2]["application_credential"]
    out["appcred"] = {"id": cred["id"], "secret": cred["secret"]}
    _, body = appcred_token(k, cred["id"], cred["secret"])        # check it works
    if body["project"]["id"] != out["projects"]["demo"]:
        sys.exit("keystone_setup: application credential not scoped to project demo")
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
