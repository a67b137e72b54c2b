"""The emulator's world: orgs, users, VDCs, catalogs, items, templates, tasks, sessions,
transfer sessions (vcd-api.md §10.1).  One lock (`Model.lock`) guards all of it; the HTTP
threads and the background jobs take it for every read-modify-write."""
import json
import os
import secrets
import shutil
import threading
import time
import uuid

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"   # id pattern in paths


def new_id():
    return str(uuid.uuid4())


def now_iso(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


class User:
    def __init__(self, d, org):
        self.id = d.get("id") or new_id()
        self.name = d["name"]
        self.password = d["password"]
        self.can_upload = d.get("can_upload", True)
        self.can_download = d.get("can_download", True)
        self.org = org


class Org:
    def __init__(self, d):
        self.id = d.get("id") or new_id()
        self.name = d["name"]
        self.full_name = d.get("full_name", d["name"])
        self.users = [User(u, self) for u in d.get("users", [])]
        v = d.get("vdc", {"name": self.name + "-vdc"})
        self.vdc_id = v.get("id") or new_id()
        self.vdc_name = v["name"]
        self.catalogs = []


class Catalog:
    def __init__(self, d, org):
        self.id = d.get("id") or new_id()
        self.name = d["name"]
        self.description = d.get("description", "")
        self.read_only = d.get("read_only", False)
        self.org = org
        self.created = d.get("created") or time.time()


class FileEntry:
    def __init__(self, name, size, path, bt=0):
        self.name = name
        self.size = size          # -1 = unknown
        self.bt = bt              # bytesTransferred
        self.path = path


class Task:
    def __init__(self, op, opname, owner, user, org):
        self.id = new_id()
        self.operation = op
        self.operation_name = opname
        self.owner = owner            # Template (or None once removed; owner_ref kept)
        self.owner_ref = (owner.id, owner.name) if owner else None
        self.user = user
        self.org = org
        self.status = "running"
        self.progress = 1
        self.error = None             # (major, minor, message)
        self.start = time.time()
        self.end = None
        self.cancel_requested = False

    def running(self):
        return self.status in ("queued", "preRunning", "running")

    def finish(self, status, error=None):
        self.status = status
        self.error = error
        self.end = time.time()
        if status == "success":
            self.progress = 100


class Template:
    def __init__(self, name, description, catalog, user, store_dir):
        self.id = new_id()
        self.item_id = new_id()
        self.name = name
        self.description = description
        self.catalog = catalog
        self.user = user
        self.dir = os.path.join(store_dir, self.id)
        self.status = 0
        self.ovf_uploaded = False
        self.manifest_required = False
        self.sid = new_id()                 # upload transfer session
        self.files = []                     # [FileEntry], descriptor first
        self.task = None                    # the task shown in Tasks (upload / enable / delete)
        self.descriptor = None              # path of the stored descriptor
        self.vms = []                       # [(vm uuid, name)]
        self.created = time.time()
        self.item_created = self.created
        self.item_metadata = {}             # key -> (xsi type, value)
        self.metadata = {}
        self.phase = "A"                    # A B C D E F (vcd-api.md §10.3)
        self.last_progress = time.time()
        self.download = None                # {"sid","state","files":[(name,path,size)],"descriptor"}
        self.size_bytes = 0
        self.seeded = False
        self.removed = False
        self.desc_busy = False              # a descriptor PUT is being received
        self.ovf_info = None

    def busy(self):
        return self.task is not None and self.task.running()

    def file(self, name):
        for f in self.files:
            if f.name == name:
                return f
        return None


class Session:
    def __init__(self, user, version):
        self.id = new_id()
        self.token = secrets.token_hex(16)                       # 32 hex chars
        self.bearer = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(420) + "." + secrets.token_urlsafe(120)
        self.user = user
        self.version = version
        self.last_used = time.time()
        self.expired = False


class Model:
    def __init__(self, fixtures_path, state_dir):
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.store = os.path.join(state_dir, "templates")
        os.makedirs(self.store, exist_ok=True)
        with open(fixtures_path) as f:
            fx = json.load(f)
        self.orgs = []
        self.catalogs = {}        # id -> Catalog
        self.templates = {}       # id -> Template
        self.items = {}           # item id -> Template (one template per item)
        self.tasks = {}           # id -> Task
        self.sessions = {}        # token/bearer -> Session
        self.transfers = {}       # sid -> (Template, "upload"|"download")
        for od in fx["orgs"]:
            org = Org(od)
            self.orgs.append(org)
            for cd in od.get("catalogs", []):
                cat = Catalog(cd, org)
                org.catalogs.append(cat)
                self.catalogs[cat.id] = cat
                for td in cd.get("templates", []):
                    self._seed(td, cat, org)

    def _seed(self, td, cat, org):
        user = org.users[0] if org.users else None
        t = Template(td["name"], td.get("description", ""), cat, user, self.store)
        t.id = td.get("id") or t.id
        t.item_id = td.get("item_id") or t.item_id
        t.dir = os.path.join(self.store, t.id)
        os.makedirs(t.dir, exist_ok=True)
        t.seeded = True
        t.status, t.phase, t.ovf_uploaded = 8, "E", True
        t.descriptor = self._place(td["descriptor"], t.dir, "descriptor.ovf")
        for fd in td["files"]:
            p = self._place(fd["path"], t.dir, fd["name"])
            n = os.path.getsize(p)
            t.files.append(FileEntry(fd["name"], n, p, n))
            t.size_bytes += n
        t.vms = [(v.get("id") or new_id(), v["name"]) for v in td.get("vms", [{"name": "vm1"}])]
        for k, v in td.get("metadata", {}).items():
            t.item_metadata[k] = ("MetadataStringValue", str(v))
            t.metadata[k] = ("MetadataStringValue", str(v))
        self.templates[t.id] = t
        self.items[t.item_id] = t

    @staticmethod
    def _place(src, d, name):
        dst = os.path.join(d, name)
        if os.path.abspath(src) != os.path.abspath(dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
        return dst

    # ------------------------------------------------------------ look-ups
    def user_login(self, user_at_org, password):
        user, _, orgname = user_at_org.rpartition("@")
        for org in self.orgs:
            if org.name.lower() == orgname.lower():
                for u in org.users:
                    if u.name == user and secrets.compare_digest(u.password, password):
                        return u
        return None

    def visible_catalogs(self, user):
        return [c for c in user.org.catalogs]

    def visible_templates(self, user):
        return [t for t in self.templates.values()
                if t.catalog.org is user.org and not t.removed]

    def remove_template(self, t):
        t.removed = True
        self.templates.pop(t.id, None)
        self.items.pop(t.item_id, None)
        self.transfers.pop(t.sid, None)
        if t.download:
            self.transfers.pop(t.download["sid"], None)
        shutil.rmtree(t.dir, ignore_errors=True)
