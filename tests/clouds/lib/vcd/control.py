"""The control API under /__emulator/ (loopback only, no auth; tests/clouds/README.md): state,
knobs (GET/POST merge/DELETE reset), stats, expire-sessions."""
import ipaddress
import json


class ControlMixin:
    def control(self, method, path, qs):
        try:
            loop = ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            loop = False
        if not loop:
            return self.reply(403, b"", None, api=False)
        em = self.em

        def js(obj, code=200):
            return self.reply(code, json.dumps(obj, indent=1) + "\n", "application/json", api=False)

        if path == "/__emulator/state" and method == "GET":
            return js(em.state())
        if path == "/__emulator/knobs":
            if method == "GET":
                return js(em.knobs.snapshot())
            if method == "POST":
                data = self.read_body(1 << 20)
                try:
                    obj = json.loads(data or b"{}")
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    return js({"error": str(e)}, 400)
                em.knobs.merge(obj)
                return js(em.knobs.snapshot())
            if method == "DELETE":
                em.knobs.reset()
                return js(em.knobs.snapshot())
        if path == "/__emulator/stats" and method == "GET":
            with em.slock:
                return js(json.loads(json.dumps(em.stats)))
        if path == "/__emulator/expire-sessions" and method == "POST":
            with em.model.lock:
                for s in em.model.sessions.values():
                    s.expired = True
            return js({"expired": True})
        return js({"error": "unknown control request"}, 404)
