"""GET /flavors, /flavors/detail (paged like servers, sorted by flavorid), /flavors/{id}, and
the flavor of a server (2.47+: embedded, before: {id, links})."""
from .httpbase import Reject


class FlavorMixin:
    def flavor_doc(self, f, detail=True):
        d = {"id": f["id"], "name": f["name"], "links": self.links("flavors", f["id"])}
        if self.at_least(55):
            d["description"] = f.get("description")
        if not detail:
            return d
        d.update({"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
                  "OS-FLV-EXT-DATA:ephemeral": f.get("ephemeral", 0),
                  "OS-FLV-DISABLED:disabled": False, "os-flavor-access:is_public": True,
                  "rxtx_factor": 1.0, "swap": f.get("swap", 0) if self.at_least(75) else (f.get("swap") or "")})
        if self.at_least(61):
            d["extra_specs"] = dict(f.get("extra_specs") or {})
        return d

    def server_flavor(self, s):
        f = self.em.model.flavors.get(s.flavor)
        if not self.at_least(47):
            return {"id": s.flavor, "links": [{"rel": "bookmark", "href": "%s/flavors/%s" % (self.base, s.flavor)}]}
        f = f or {"name": "deleted", "vcpus": 0, "ram": 0, "disk": 0}
        return {"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"], "ephemeral": f.get("ephemeral", 0),
                "swap": f.get("swap", 0), "original_name": f["name"], "extra_specs": dict(f.get("extra_specs") or {})}

    def flavors(self, method, rest):
        if method != "GET":
            raise Reject(405, "The method specified is not allowed for this resource." if rest != ""
                         else "Creating flavors is not implemented by the emulator.")
        fl = sorted(self.em.model.flavors.values(), key=lambda f: f["id"])
        if rest in ("", "/detail"):
            detail = rest == "/detail"
            page, limit = self.page(fl, lambda f: f["id"])
            out = {"flavors": [self.flavor_doc(f, detail) for f in page]}
            nl = self.next_links(page, limit, "/flavors" + rest, lambda f: f["id"])
            if nl:
                out["flavors_links"] = nl
            return self.reply(200, out)
        fid = rest[1:]
        f = self.em.model.flavors.get(fid)
        if f is None or "/" in fid:
            raise Reject(404, "Flavor %s could not be found." % fid)
        return self.reply(200, {"flavor": self.flavor_doc(f)})
