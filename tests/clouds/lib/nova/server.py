"""The Nova emulator's request handler, listener and shared state: a ThreadingHTTPServer serving
a Handler composed of the HTTP plumbing (httpbase) and one mixin per resource (servers, flavors,
snapshot, control), and the Emulator (model, knobs, Keystone, Glance URL, statistics)."""
import http.server
import re
import threading

from .control import ControlMixin
from .flavors import FlavorMixin
from .httpbase import HandlerBase, Reject
from .servers import ServerMixin
from .snapshot import SnapshotMixin, SnapshotWorker

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class Handler(ServerMixin, FlavorMixin, SnapshotMixin, ControlMixin, HandlerBase):
    def route(self, method, path):
        for prefix, fn in (("/servers", self.servers), ("/flavors", self.flavors)):
            if path == prefix or path.startswith(prefix + "/"):
                return fn(method, path[len(prefix):])
        raise Reject(404, "The resource could not be found.")


class Emulator(SnapshotWorker):
    def __init__(self, model, knobs, keystone, glance_url):
        self.model, self.knobs, self.keystone, self.glance_url = model, knobs, keystone, glance_url
        self.slock = threading.Lock()
        self.stats = {"requests": {}}

    def count(self, method, path):
        pat = re.sub(UUID, "{id}", path)
        pat = re.sub(r"^/v2\.1/flavors/(?!detail$)[^/]+$", "/v2.1/flavors/{id}", pat)
        with self.slock:
            k = "%s %s" % (method, pat)
            self.stats["requests"][k] = self.stats["requests"].get(k, 0) + 1

    def state(self):
        m = self.model
        with m.lock:
            return {"servers": [s.record() for s in sorted(m.servers.values(), key=lambda s: (s.project, s.name))],
                    "snapshots": [dict(r) for r in m.snapshots],
                    "project_ids": dict(m.project_ids)}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, em):
        self.em = em
        super().__init__(addr, Handler)
