"""The emulator's shared, listener-independent state: the model and knobs, the record of every
XML document sent (--record-xml: NNNNNN-<document element>.xml), request statistics and the
control API's state snapshot (tests/clouds/README.md)."""
import os
import re
import threading
import time
import xml.etree.ElementTree as ET

from .model import UUID


def root_name(data):
    """The local name of the document element of an XML document ("unknown" if none)."""
    p = ET.XMLPullParser(events=("start",))
    try:
        p.feed(data)
        for _ev, el in p.read_events():
            return el.tag.rsplit("}", 1)[-1]
    except ET.ParseError:
        pass
    return "unknown"


class Emulator:
    def __init__(self, model, knobs, record_dir):
        self.model, self.knobs = model, knobs
        self.record_dir = record_dir
        self.rec_n = 0
        self.stats = {"requests": {}, "put_bytes": 0, "put_seconds": 0.0, "last_receive_rate_mib_s": 0.0}
        self.slock = threading.Lock()
        self.n_requests = 0
        if record_dir:
            os.makedirs(record_dir, exist_ok=True)

    def record(self, body):
        """Keeps a copy of an XML document sent (str or bytes) as NNNNNN-<root local name>.xml."""
        if not self.record_dir or not body:
            return
        data = body.encode() if isinstance(body, str) else bytes(body)
        root = root_name(data)
        with self.slock:
            self.rec_n += 1
            n = self.rec_n
        with open(os.path.join(self.record_dir, "%06d-%s.xml" % (n, root)), "wb") as f:
            f.write(data)

    def count(self, method, path):
        pat = re.sub(UUID, "{id}", path)
        pat = re.sub(r"^/transfer/\{id\}/.+$", "/transfer/{id}/{name}", pat)
        pat = re.sub(r"/metadata/.+$", "/metadata/{key}", pat)
        with self.slock:
            k = "%s %s" % (method, pat)
            self.stats["requests"][k] = self.stats["requests"].get(k, 0) + 1

    def stats_put(self, n, secs):
        with self.slock:
            self.stats["put_bytes"] += n
            self.stats["put_seconds"] += secs
            if n:
                self.stats["last_receive_rate_mib_s"] = round(n / secs / (1 << 20), 3)

    def state(self):
        m = self.model
        with m.lock:
            tpls = []
            for t in m.templates.values():
                tpls.append({"id": t.id, "item_id": t.item_id, "name": t.name, "catalog": t.catalog.name,
                             "org": t.catalog.org.name, "status": t.status, "phase": t.phase,
                             "task_status": t.task.status if t.task else None,
                             "task_error": t.task.error[2] if t.task and t.task.error else None,
                             "descriptor": t.descriptor,
                             "files": [{"name": f.name, "size": f.size, "bytes": f.bt, "path": os.path.abspath(f.path)}
                                       for f in t.files if f.name != "descriptor.ovf"],
                             "download": ({"sid": t.download["sid"],
                                           "files": [{"name": n, "size": s, "path": p}
                                                     for n, p, s in t.download["files"]]}
                                          if t.download else None)})
            now = time.time()
            idle = float(self.knobs.get("session_idle_timeout") or 1800)
            live = {id(s) for s in m.sessions.values() if not s.expired and now - s.last_used <= idle}
            cats = {}
            for o in m.orgs:
                for c in o.catalogs:
                    cats[c.name] = sum(1 for t in m.templates.values() if t.catalog is c)
            return {"templates": tpls, "sessions": len(live), "catalog_items": cats}
