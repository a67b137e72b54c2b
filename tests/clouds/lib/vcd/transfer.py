"""The transfer service /transfer/{sid}/{name} (vcd-api.md §4.3, §4.5, §10.4): descriptor and
file PUTs (whole or strictly sequential Content-Range pieces; the 416/400 rules; reason phrases
carry the messages, bodies are empty) and the download GETs (200 full body, Range ignored;
.ova streamed as a tar with chunked encoding).  Bodies are streamed to disk."""
import logging
import os
import re
import socket
import tarfile
import time

from . import jobs
from .model import UUID

log = logging.getLogger("vcd")
MUST_BEGIN = "Content-Range not satisifiable: Request must begin at the last byte stored"
INVALID = "Content-Range not satisfiable: Request invalid"
TOO_MUCH = "Client sent more data than expected"
RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\S+)$")
MAX_DESCRIPTOR = 32 << 20


def put(h, em, t, name):
    m = em.model
    with m.lock:
        f = t.file(name)
        if f is None or t.removed:
            return h.transfer_reply(404, "Not Found")
        if name == "descriptor.ovf":
            if t.phase != "A" or t.desc_busy:
                return h.transfer_reply(400, "The OVF descriptor was already uploaded")
            t.desc_busy = True
    if name == "descriptor.ovf":
        return _put_descriptor(h, em, t, f)
    return _put_file(h, em, t, f)


def _put_descriptor(h, em, t, f):
    data = h.read_body(MAX_DESCRIPTOR)
    with em.model.lock:
        t.desc_busy = False
        if data is None:
            return h.transfer_reply(400, "Bad request body", close=True)
        if t.removed:
            return h.transfer_reply(404, "Not Found")
        os.makedirs(t.dir, exist_ok=True)
        t.descriptor = os.path.join(t.dir, "descriptor.ovf")
        with open(t.descriptor, "wb") as out:
            out.write(data)
        f.size = f.bt = len(data)
        t.phase = "B"
        t.last_progress = time.time()
    jobs.later(jobs.process_descriptor, em, t)
    log.info("transfer PUT %s/%s: %d bytes (descriptor)", t.sid, f.name, len(data))
    return h.transfer_reply(200, "OK")


def _put_file(h, em, t, f):
    knobs = em.knobs
    cr = h.headers.get("Content-Range")
    length = h.body_length()            # None for chunked
    with em.model.lock:
        if t.phase != "C":
            if t.phase in ("D", "E") or f.bt == f.size:
                return h.transfer_reply(400, TOO_MUCH)
            return h.transfer_reply(400, "The transfer session does not accept data in this state")
        if cr is not None:
            mm = RANGE_RE.match(cr.strip())
            if not mm or not mm.group(3).isdigit():
                return h.transfer_reply(416, INVALID)
            a, b, total = int(mm.group(1)), int(mm.group(2)), int(mm.group(3))
            if a != f.bt:
                return h.transfer_reply(416, MUST_BEGIN)
            if b < a or b >= total or (f.size >= 0 and total != f.size):
                return h.transfer_reply(416, INVALID)
            if length is not None and b - a + 1 != length:
                return h.transfer_reply(400, "Content-Range and Content-Length disagree")
            if f.size < 0:
                f.size = total
            expect = b - a + 1
        else:
            if f.bt != 0:
                return h.transfer_reply(416, MUST_BEGIN)
            if f.size < 0 and length is not None:
                f.size = length
            if f.size >= 0 and length is not None and length > f.size - f.bt:
                return h.transfer_reply(400, TOO_MUCH)
            expect = length
        start = f.bt
        room = f.size - start if f.size >= 0 else None
        fail_after = knobs.get("fail_put_after_bytes")
        close_after = knobs.get("close_connection_on_put")
        if close_after is not None and not knobs.get("close_connection_repeat"):
            knobs.set("close_connection_on_put", None)
    h.send_continue()
    t0 = time.time()
    got = 0
    outcome = None
    os.makedirs(os.path.dirname(f.path), exist_ok=True)
    fd = os.open(f.path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.lseek(fd, start, os.SEEK_SET)
        for chunk in h.iter_body(expect):
            if chunk is None:               # client went away / timed out mid-body
                outcome = "short"
                break
            if room is not None and got + len(chunk) > room:
                outcome = "too-much"
                break
            if fail_after is not None and start + got + len(chunk) > int(fail_after):
                keep = max(0, int(fail_after) - start - got)
                os.write(fd, chunk[:keep])
                got += keep
                outcome = "fail"
                break
            if close_after is not None and got + len(chunk) >= int(close_after):
                keep = int(close_after) - got
                os.write(fd, chunk[:keep])
                got += keep
                outcome = "drop"
                break
            os.write(fd, chunk)
            got += len(chunk)
        if outcome == "too-much":
            os.ftruncate(fd, start)
        else:
            os.ftruncate(fd, start + got)
    finally:
        os.close(fd)
    secs = max(time.time() - t0, 1e-6)
    with em.model.lock:
        if outcome != "too-much" and not t.removed:
            f.bt = start + got
            if got:
                t.last_progress = time.time()
            if f.size < 0 and outcome is None:
                f.size = f.bt
        em.stats_put(got, secs)
        rate = got / secs / (1 << 20)
        log.info("transfer PUT %s/%s: %d bytes in %.3f s, receive rate %.1f MiB/s (%s)", t.sid, f.name, got, secs,
                 rate, outcome or "ok")
        if outcome is None and not t.removed:
            jobs.maybe_import(em, t)
    if outcome == "drop":
        h.drop_connection()
        return None
    if outcome == "too-much":
        return h.transfer_reply(400, TOO_MUCH, close=True)
    if outcome == "fail":
        return h.transfer_reply(int(knobs.get("fail_put_code") or 500), knobs.get("fail_put_reason") or "Error",
                                close=True)
    if outcome == "short":
        h.close_connection = True
        return None
    if cr is not None and knobs.get("replay_range"):
        return h.transfer_reply(416, MUST_BEGIN)
    return h.transfer_reply(200, "OK")


def get(h, em, t, name):
    with em.model.lock:
        d = t.download
        if not d or d["state"] != "ready":
            return h.transfer_reply(404, "Not Found")
        d["last"] = time.time()
        files = list(d["files"])
        ddir = d["dir"]
    if name in ("descriptor.ovf", "descriptor-with-id.ovf"):
        return h.send_file(os.path.join(ddir, name), "text/xml")
    if name in ("descriptor.ova", "descriptor-with-id.ova"):
        desc = "descriptor.ovf" if name == "descriptor.ova" else "descriptor-with-id.ovf"
        return _send_ova(h, os.path.join(ddir, desc), files, t.name)
    for n, p, _s in files:
        if n == name:
            return h.send_file(p, "application/octet-stream")
    return h.transfer_reply(404, "Not Found")


class _Chunked:
    def __init__(self, w):
        self.w = w

    def write(self, b):
        if b:
            self.w.write(b"%x\r\n" % len(b) + bytes(b) + b"\r\n")
        return len(b)


def _send_ova(h, desc, files, tname):
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    w = _Chunked(h.wfile)
    try:
        with tarfile.open(fileobj=w, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            tar.add(desc, arcname=tname.replace("/", "_") + ".ovf")
            for n, p, _s in files:
                tar.add(p, arcname=n)
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
    except (OSError, socket.error):
        h.close_connection = True


class TransferMixin:
    """/transfer/{sid}/{name}: session, auth and method checks, then put() or get()."""
    def do_transfer(self, method, path):
        mm = re.fullmatch(r"/transfer/(%s)/([^/]+)" % UUID, path)
        if not mm:
            return self.transfer_reply(404, "Not Found")
        sid, name = mm.groups()
        with self.em.model.lock:
            ent = self.em.model.transfers.get(sid)
        if ent is None:
            return self.transfer_reply(404, "Not Found")
        t, kind = ent
        if self.em.knobs.get("require_transfer_auth"):
            s = self.token_session(False)        # transfer traffic does not refresh the session
            if s is None:
                return self.unauthorized(api=not self.em.knobs.get("omit_request_id_on_transfer"))
            if s.user.org is not t.catalog.org:
                return self.transfer_reply(404, "Not Found")
            if kind == "upload" and method == "PUT" and not s.user.can_upload:
                return self.transfer_reply(403, "Forbidden")
        if kind == "upload" and method == "PUT":
            return put(self, self.em, t, name)
        if kind == "download" and method == "GET":
            return get(self, self.em, t, name)
        return self.transfer_reply(405 if method not in ("GET", "PUT") else 404, "Not Found")
