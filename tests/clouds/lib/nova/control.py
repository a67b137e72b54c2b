"""The control API under /__emulator/ (loopback only, no auth; tests/clouds/README.md): state,
knobs (GET/POST merge/DELETE reset), stats, token-cache flush, and servers added, changed or
removed by tests (e.g. two servers of one name, a server turning ERROR)."""
import ipaddress
import json
import uuid

from .model import VM_STATE, Server, now_iso


class ControlMixin:
    def control(self, method, path):
        try:
            loop = ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            loop = False
        if not loop:
            return self.reply(403, {"error": "loopback only"})
        em, m = self.em, self.em.model

        def js(obj, code=200):
            return self.reply(code, obj)

        def body():
            data = self.read_body(1 << 20)
            obj = json.loads(data or b"{}")
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            return obj

        try:
            if path == "/__emulator/state" and method == "GET":
                return js(em.state())
            if path == "/__emulator/knobs":
                if method == "GET":
                    return js(em.knobs.snapshot())
                if method == "POST":
                    em.knobs.merge(body())
                    return js(em.knobs.snapshot())
                if method == "DELETE":
                    em.knobs.reset()
                    return js(em.knobs.snapshot())
            if path == "/__emulator/stats" and method == "GET":
                with em.slock:
                    return js(json.loads(json.dumps(em.stats)))
            if path == "/__emulator/flush-tokens" and method == "POST":
                with em.keystone.lock:
                    em.keystone.cache.clear()
                return js({"flushed": True})
            if path == "/__emulator/servers" and method == "POST":
                o = body()
                src = m.find(o.get("disk_from", "web1"))
                fl = m.flavor_by_name(o.get("flavor", "m1.small"))
                if not o.get("name") or not o.get("project") or src is None or fl is None:
                    return js({"error": "need name, project, a known flavor and disk_from"}, 400)
                if o.get("status", "ACTIVE") not in VM_STATE:
                    return js({"error": "status must be one of %s" % sorted(VM_STATE)}, 400)
                s = Server({"id": o.get("id") or str(uuid.uuid4()), "name": o["name"], "project": o["project"],
                            "status": o.get("status", "ACTIVE"), "flavor": fl["id"], "image": src.image,
                            "disk": o.get("disk") or src.disk, "created": o.get("created") or now_iso(),
                            "metadata": o.get("metadata") or {},
                            "fault": {"code": 500, "message": o.get("fault", "Emulated failure")}})
                with m.lock:
                    m.servers[s.id] = s
                return js(s.record(), 201)
            if path.startswith("/__emulator/servers/"):
                s = m.find(path.split("/", 3)[3])
                if s is None:
                    return js({"error": "no such server"}, 404)
                if method == "GET":
                    return js(s.record())
                if method == "DELETE":
                    with m.lock:
                        m.servers.pop(s.id, None)
                    return js({"deleted": s.id})
                if method == "POST":
                    o = body()
                    if "status" in o and o["status"] not in VM_STATE:
                        return js({"error": "status must be one of %s" % sorted(VM_STATE)}, 400)
                    with m.lock:
                        for k in ("status", "task_state", "name", "metadata"):
                            if k in o:
                                setattr(s, k, o[k])
                        if "fault" in o:
                            s.fault = {"code": 500, "message": o["fault"]}
                        s.updated = now_iso()
                    return js(s.record())
        except ValueError as e:
            return js({"error": str(e)}, 400)
        return js({"error": "unknown control request"}, 404)
