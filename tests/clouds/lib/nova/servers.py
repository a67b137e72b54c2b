"""GET /servers, /servers/detail (limit/marker paging, name/status filters), /servers/{id} and
POST /servers/{id}/action (createImage: snapshot.py), in the shapes of the Nova API reference
for the request's microversion."""
import hashlib
import re

from .httpbase import Reject

KNOWN_ACTIONS = {"os-start", "os-stop", "reboot", "rebuild", "resize", "confirmResize", "revertResize",
                 "pause", "unpause", "suspend", "resume", "shelve", "unshelve", "lock", "unlock",
                 "os-getConsoleOutput", "addSecurityGroup", "removeSecurityGroup", "migrate",
                 "createBackup", "rescue", "unrescue", "changePassword", "forceDelete", "restore"}
NOT_IMPLEMENTED = "This request is not implemented by the Nova emulator of tests/clouds."


class ServerMixin:
    def server_doc(self, s, detail=True):
        d = {"id": s.id, "name": s.name, "links": self.links("servers", s.id)}
        if not detail:
            return d
        img = self.em.model.images.get(s.image)
        d.update({
            "status": s.status, "tenant_id": self.ident.project_id, "user_id": s.user_id,
            "metadata": dict(s.metadata), "hostId": hashlib.sha224((self.ident.project_id + "emulator-host").encode()).hexdigest(),
            "image": ({"id": s.image, "links": [{"rel": "bookmark", "href": "%s/images/%s" % (self.base, s.image)}]}
                      if img or s.image else ""),
            "flavor": self.server_flavor(s),
            "created": s.created, "updated": s.updated,
            "addresses": {"private": [{"version": 4, "addr": s.address, "OS-EXT-IPS:type": "fixed",
                                       "OS-EXT-IPS-MAC:mac_addr": s.mac}]},
            "accessIPv4": "", "accessIPv6": "", "progress": 0, "key_name": None, "config_drive": "",
            "OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": "nova",
            "OS-EXT-STS:task_state": s.task_state, "OS-EXT-STS:vm_state": s.vm_state,
            "OS-EXT-STS:power_state": s.power_state,
            "OS-SRV-USG:launched_at": None if s.status == "ERROR" else s.created.replace("Z", ".000000"),
            "OS-SRV-USG:terminated_at": None,
            "os-extended-volumes:volumes_attached": [],
            "security_groups": [{"name": "default"}],
        })
        if s.fault and s.status == "ERROR":
            d["fault"] = {"code": s.fault.get("code", 500), "created": s.updated, "message": s.fault["message"]}
        if self.at_least(9):
            d["locked"] = False
        if self.at_least(19):
            d["description"] = None
        if self.at_least(26):
            d["tags"] = []
        if self.at_least(63):
            d["trusted_image_certificates"] = None
        if self.at_least(73):
            d["locked_reason"] = None
        if self.at_least(96):
            d["pinned_availability_zone"] = None
        return d

    def lookup(self, sid):
        with self.em.model.lock:
            s = self.em.model.servers.get(sid)
        if s is None or s.project != self.ident.project_name:
            raise Reject(404, "Instance %s could not be found." % sid)
        return s

    def servers(self, method, rest):
        if rest in ("", "/detail"):
            if method != "GET":
                raise Reject(501 if rest == "" else 405, NOT_IMPLEMENTED)
            items = self.em.model.visible(self.ident)
            if "name" in self.query:
                try:
                    rx = re.compile(self.query["name"][-1])
                except re.error:
                    rx = re.compile(re.escape(self.query["name"][-1]))
                items = [s for s in items if rx.search(s.name)]
            if "status" in self.query:
                want = {v.upper() for v in self.query["status"]}
                items = [s for s in items if s.status in want]
            page, limit = self.page(items, lambda s: s.id)
            out = {"servers": [self.server_doc(s, rest == "/detail") for s in page]}
            nl = self.next_links(page, limit, "/servers" + rest, lambda s: s.id)
            if nl:
                out["servers_links"] = nl
            return self.reply(200, out)
        parts = rest[1:].split("/")
        s = self.lookup(parts[0])
        if len(parts) == 1:
            if method != "GET":
                raise Reject(501, NOT_IMPLEMENTED)
            return self.reply(200, {"server": self.server_doc(s)})
        if parts[1:] == ["action"] and method == "POST":
            body = self.json_body()
            if len(body) != 1:
                raise Reject(400, "Malformed request body")
            action = next(iter(body))
            if action == "createImage":
                return self.create_image(s, body[action])
            if action in KNOWN_ACTIONS:
                raise Reject(501, NOT_IMPLEMENTED)
            raise Reject(400, "There is no such action: %s" % action)
        raise Reject(404, "The resource could not be found.")
