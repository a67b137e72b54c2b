"""createImage (POST /servers/{id}/action): as Nova's compute API, the snapshot image is created
in the real Glance with the caller's token (queued), the answer is 202 (before 2.45 with a
Location header pointing at the image, from 2.45 with {"image_id": ...} in the body), and a
background thread plays the compute host: after `snapshot_delay` it uploads the server's disk
file with PUT /v2/images/{id}/file (Glance: saving, then active), while the server's task_state
goes image_snapshot -> image_pending_upload -> image_uploading -> None.  Knobs (per server or
global): snapshot_delay, snapshot_never_active (no upload while set; the image stays queued; the
thread lets go when the image is deleted), snapshot_fail (the image is deleted from Glance, as
Nova does when a snapshot fails), snapshot_upload_rate (MiB/s)."""
import http.client
import json
import logging
import os
import threading
import time
import urllib.parse

from .httpbase import Reject
from .model import now_iso

log = logging.getLogger("nova")
SNAPSHOT_STATES = ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")
RESERVED = {"name", "id", "status", "visibility", "owner", "disk_format", "container_format", "size",
            "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at", "file", "schema",
            "self", "locations", "direct_url", "tags", "virtual_size", "protected", "os_hidden"}


def glance(em, method, path, token, body=None, headers=None, length=None, timeout=120):
    u = urllib.parse.urlsplit(em.glance_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = {"X-Auth-Token": token, "Accept": "application/json"}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    try:
        if length is not None:          # streamed body: an iterator of bytes
            conn.putrequest(method, u.path.rstrip("/") + path)
            for k, v in h.items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(length))
            conn.endheaders()
            for b in body:
                conn.send(b)
        else:
            conn.request(method, u.path.rstrip("/") + path, body, h)
        r = conn.getresponse()
        data = r.read()
        return r.status, data
    finally:
        conn.close()


class SnapshotMixin:
    def create_image(self, s, args):
        em = self.em
        if not isinstance(args, dict) or not isinstance(args.get("name"), str) or \
                not args["name"].strip() or len(args["name"]) > 255:
            raise Reject(400, "Invalid input for field/attribute name. Value: %s. "
                              "'name' must be a non-empty string of at most 255 characters"
                              % (args.get("name") if isinstance(args, dict) else args))
        meta = args.get("metadata") or {}
        if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255
                                                 and len(v) <= 255 for k, v in meta.items()):
            raise Reject(400, "Invalid input for field/attribute metadata. Value: %s. "
                              "metadata keys and values must be strings of at most 255 characters" % (meta,))
        with em.model.lock:
            if s.status not in SNAPSHOT_STATES:
                raise Reject(409, "Cannot 'createImage' instance %s while it is in vm_state %s" % (s.id, s.vm_state))
            if s.task_state is not None:
                raise Reject(409, "Cannot 'createImage' instance %s while it is in task_state %s"
                             % (s.id, s.task_state))
            s.task_state = "image_snapshot"
        try:
            image_id = self._glance_create(s, args["name"], meta)
        except Exception:
            with em.model.lock:
                s.task_state = None
            raise
        rec = {"image_id": image_id, "server": s.id, "server_name": s.name, "name": args["name"],
               "phase": "queued", "error": None, "created": now_iso(), "bytes": 0}
        with em.model.lock:
            em.model.snapshots.append(rec)
            s.updated = now_iso()
        threading.Thread(target=self.em.snapshot_worker, args=(s, rec, self.ident.token),
                         daemon=True, name="snapshot-" + image_id[:8]).start()
        log.info("createImage %s (%s) -> image %s %r", s.name, s.id, image_id, args["name"])
        if self.at_least(45):
            return self.reply(202, {"image_id": image_id})
        return self.reply(202, None, headers=[("Location", "%s/images/%s" % (em.glance_url.rstrip("/"), image_id))])

    def _glance_create(self, s, name, meta):
        em, ident = self.em, self.ident
        flavor = em.model.flavors.get(s.flavor) or {}
        img = em.model.images.get(s.image) or {}
        body = {"name": name, "disk_format": "qcow2", "container_format": "bare", "visibility": "private",
                "min_disk": int(flavor.get("disk", 0)), "min_ram": 0}
        props = dict(img.get("properties") or {})
        props.update({"image_type": "snapshot", "instance_uuid": s.id, "base_image_ref": s.image or "",
                      "user_id": ident.user_id, "owner_project_name": ident.project_name or "",
                      "owner_user_name": ident.user_name})
        props.update(meta)
        for k, v in props.items():
            if k not in RESERVED:
                body[k] = str(v)
        st, data = glance(em, "POST", "/v2/images", ident.token, body)
        if st != 201:
            log.warning("createImage %s: Glance POST /v2/images -> %d %s", s.name, st, data[:300])
            if st in (400, 409, 413):
                raise Reject(400 if st != 413 else 413, "Glance refused the snapshot image: %s"
                             % data.decode("utf-8", "replace")[:300])
            raise Reject(500, "Unexpected API Error: Glance answered %d to the snapshot image" % st)
        return json.loads(data)["id"]


class SnapshotWorker:
    """The compute host's half, a method of the Emulator (one thread per snapshot)."""

    def _set(self, s, rec, task_state=None, phase=None, error=None):
        with self.model.lock:
            s.task_state = task_state
            if phase:
                rec["phase"] = phase
            if error:
                rec["error"] = error
            s.updated = now_iso()

    def _exists(self, image_id, token):
        st, _ = glance(self, "GET", "/v2/images/" + image_id, self.keystone.service())
        return st != 404

    def snapshot_worker(self, s, rec, token):
        image_id = rec["image_id"]
        try:
            delay = float(self.knobs.get("snapshot_delay", s) or 0)
            time.sleep(delay / 2)
            self._set(s, rec, "image_pending_upload")
            time.sleep(delay / 2)
            if self.knobs.get("snapshot_fail", s):
                st, data = glance(self, "DELETE", "/v2/images/" + image_id, self.keystone.service())
                log.info("snapshot %s of %s: snapshot_fail: image deleted (Glance %d)", image_id, s.name, st)
                self._set(s, rec, None, "failed", "snapshot_fail: image deleted")
                return
            while self.knobs.get("snapshot_never_active", s):
                if rec["phase"] != "never_active":
                    log.info("snapshot %s of %s: snapshot_never_active: no upload", image_id, s.name)
                    self._set(s, rec, "image_uploading", "never_active")
                if not self._exists(image_id, token):
                    log.info("snapshot %s of %s: image deleted while held back", image_id, s.name)
                    self._set(s, rec, None, "deleted")
                    return
                time.sleep(0.5)
            self._set(s, rec, "image_uploading", "uploading")
            self._upload(s, rec, token)
        except Exception as e:  # noqa: BLE001 - the server must not stay in a task state
            log.exception("snapshot %s of %s failed", image_id, s.name)
            self._set(s, rec, None, "failed", str(e))

    def _upload(self, s, rec, token):
        image_id = rec["image_id"]
        size = os.path.getsize(s.disk)
        rate = self.knobs.get("snapshot_upload_rate", s)

        def chunks():
            t0 = time.monotonic()
            sent = 0
            with open(s.disk, "rb") as f:
                while True:
                    b = f.read(256 * 1024)
                    if not b:
                        return
                    sent += len(b)
                    rec["bytes"] = sent
                    yield b
                    if rate:
                        ahead = sent / (float(rate) * (1 << 20)) - (time.monotonic() - t0)
                        if ahead > 0:
                            time.sleep(ahead)

        t0 = time.monotonic()
        st, data = glance(self, "PUT", "/v2/images/%s/file" % image_id, token, chunks(),
                          {"Content-Type": "application/octet-stream"}, length=size, timeout=600)
        if st == 401:   # the caller's token expired meanwhile: as Nova, go on with the service's
            st, data = glance(self, "PUT", "/v2/images/%s/file" % image_id, self.keystone.service(), chunks(),
                              {"Content-Type": "application/octet-stream"}, length=size, timeout=600)
        if st not in (204, 200):
            log.warning("snapshot %s of %s: upload -> Glance %d %s", image_id, s.name, st, data[:300])
            self._set(s, rec, None, "failed", "upload: Glance %d" % st)
            return
        log.info("snapshot %s of %s: %d bytes uploaded in %.2f s", image_id, s.name, size, time.monotonic() - t0)
        self._set(s, rec, None, "active")
