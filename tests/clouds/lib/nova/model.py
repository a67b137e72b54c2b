"""The Nova emulator's world: flavors and servers from fixtures.json (lib/nova_fixtures.py), the
snapshots it made, and the project ids learned from tokens (fixtures name projects)."""
import json
import threading
import time
import uuid


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


VM_STATE = {"ACTIVE": ("active", 1), "SHUTOFF": ("stopped", 4), "ERROR": ("error", 0),
            "PAUSED": ("paused", 3), "SUSPENDED": ("suspended", 7), "BUILD": ("building", 0)}


class Server:
    def __init__(self, d):
        self.id = d["id"]
        self.name = d["name"]
        self.project = d["project"]
        self.status = d["status"]
        self.flavor = d["flavor"]
        self.image = d["image"]
        self.disk = d["disk"]
        self.virtual_size = d.get("virtual_size")
        self.created = d["created"]
        self.updated = d.get("updated") or d["created"]
        self.address = d.get("address", "10.0.0.99")
        self.mac = d.get("mac", "fa:16:3e:00:00:99")
        self.metadata = dict(d.get("metadata") or {})
        self.fault = d.get("fault")
        self.task_state = None
        self.user_id = d.get("user_id") or uuid.uuid5(uuid.NAMESPACE_OID, "user/" + self.project).hex

    @property
    def vm_state(self):
        return VM_STATE.get(self.status, ("active", 1))[0]

    @property
    def power_state(self):
        return VM_STATE.get(self.status, ("active", 1))[1]

    def record(self):
        return {"id": self.id, "name": self.name, "project": self.project, "status": self.status,
                "task_state": self.task_state, "flavor": self.flavor, "image": self.image,
                "disk": self.disk, "created": self.created, "updated": self.updated}


class Model:
    def __init__(self, fixtures):
        with open(fixtures) as f:
            fx = json.load(f)
        self.lock = threading.RLock()
        self.flavors = {f["id"]: f for f in fx["flavors"]}
        self.images = {i["id"]: i for i in fx.get("images", [])}
        self.servers = {}
        for d in fx["servers"]:
            s = Server(d)
            self.servers[s.id] = s
        self.snapshots = []          # dicts, newest last (control API state)
        self.project_ids = {}        # project name -> id, as seen in tokens

    def flavor_by_name(self, name):
        for f in self.flavors.values():
            if f["name"] == name or f["id"] == name:
                return f
        return None

    def find(self, key):
        """A server by id or (unique) name, for the control API."""
        with self.lock:
            if key in self.servers:
                return self.servers[key]
            hits = [s for s in self.servers.values() if s.name == key]
            return hits[0] if len(hits) == 1 else None

    def visible(self, ident):
        """The servers of the token's project, Nova's default order (created_at desc, id desc)."""
        with self.lock:
            if ident.project_name and ident.project_id:
                self.project_ids[ident.project_name] = ident.project_id
            out = [s for s in self.servers.values() if s.project == ident.project_name]
        out.sort(key=lambda s: (s.created, s.id), reverse=True)
        return out
