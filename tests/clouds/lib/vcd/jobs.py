"""The asynchronous side of the state machine (vcd-api.md §10.3): descriptor processing
(B -> C | F), the import (D -> E | F), cancel, delete, enableDownload's export and the
transfer idle watchdog.  Each job is a daemon thread; all state changes hold model.lock."""
import hashlib
import logging
import os
import threading
import time

from . import export, ovfcheck, vmdkcheck
from .model import FileEntry, Task, new_id

log = logging.getLogger("vcd")


def rid_prefix():
    return "[ %s ] " % new_id()


def later(fn, *a):
    th = threading.Thread(target=fn, args=a, daemon=True)
    th.start()
    return th


def fail(t, major, minor, msg):
    t.status = -1
    t.phase = "F"
    if t.task and t.task.running():
        t.task.finish("error", (major, minor, rid_prefix() + msg))
    log.info("template %s (%s) failed: %s %s", t.id, t.name, minor, msg)


def process_descriptor(em, t):
    time.sleep(float(em.knobs.get("descriptor_delay") or 0))
    with em.model.lock:
        if t.removed or t.phase != "B":
            return
        reason = em.knobs.get("descriptor_invalid_reason")
        with open(t.descriptor, "rb") as f:
            data = f.read()
        info, why = (None, reason) if reason else ovfcheck.parse(data)
        if why:
            fail(t, 400, "BAD_REQUEST", why)
            return
        t.ovf_info = info
        for href, _fid, size in info["files"]:
            t.files.append(FileEntry(href, size, os.path.join(t.dir, "files", href)))
        if t.manifest_required:
            t.files.append(FileEntry("descriptor.mf", -1, os.path.join(t.dir, "files", "descriptor.mf")))
        os.makedirs(os.path.join(t.dir, "files"), exist_ok=True)
        t.ovf_uploaded = True
        t.phase = "C"
        t.last_progress = time.time()
        log.info("template %s: descriptor accepted, %d file(s) to upload", t.id, len(t.files) - 1)
        maybe_import(em, t)


def maybe_import(em, t):
    """Called with the lock held after a file completed: every File full -> [D]."""
    if t.phase != "C" or any(f.size < 0 or f.bt != f.size for f in t.files):
        return
    t.phase = "D"
    later(run_import, em, t)


def _check_manifest(t):
    mf = t.file("descriptor.mf")
    if mf is None:
        return None
    want = {}
    with open(mf.path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                algo, rest = line.split("(", 1)
                name, digest = rest.split(")=", 1)
            except ValueError:
                return "The manifest is malformed"
            want[name.strip()] = (algo.strip().lower().replace("-", ""), digest.strip().lower())
    for fe in t.files:
        if fe.name == "descriptor.mf":
            continue
        if fe.name not in want:
            return "The manifest has no digest for %s" % fe.name
        algo, digest = want[fe.name]
        if algo not in ("sha1", "sha256", "sha512"):
            return "Unsupported manifest digest %s" % algo
        h = hashlib.new(algo)
        with open(fe.path, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        if h.hexdigest() != digest:
            return "Checksum mismatch for %s" % fe.name
    return None


def run_import(em, t):
    delay = float(em.knobs.get("import_delay") or 0)
    steps = 10
    for i in range(steps):
        time.sleep(delay / steps)
        with em.model.lock:
            if t.removed or t.phase != "D" or not t.task.running():
                return
            t.task.progress = max(t.task.progress, 1 + (i + 1) * 98 // steps)
    with em.model.lock:
        info = t.ovf_info
        disks = [t.file(name) for _id, name in info["disks"]]
        max_hw = int(em.knobs.get("max_hw_version") or 19)
        knob = em.knobs.get("import_fail")
    why = None
    if knob == "format":
        why = (400, "BAD_REQUEST", "The provided disk is not a supported disk format (import_fail knob)")
    elif knob == "hwversion":
        why = (400, "BAD_REQUEST", "The virtual hardware version is not supported by the VDC (import_fail knob)")
    elif knob == "quota":
        why = (500, "INTERNAL_SERVER_ERROR", "The requested operation will exceed the VDC's storage quota")
    if not why:
        for v in info["hw"]:
            if v > max_hw:
                why = (400, "BAD_REQUEST", "The requested hardware version vmx-%02d is not supported by the "
                       "VDC (maximum vmx-%02d)" % (v, max_hw))
                break
    if not why:
        m = _check_manifest(t)
        if m:
            why = (400, "BAD_REQUEST", m)
    if not why:
        for fe in disks:
            r = vmdkcheck.check(fe.path)
            if r:
                why = (400, "BAD_REQUEST", "Failed to import disk %s: %s" % (fe.name, r))
                break
    with em.model.lock:
        if t.removed or t.phase != "D" or not t.task.running():
            return
        if why:
            fail(t, *why)
            return
        t.status = 8
        t.phase = "E"
        t.vms = [(new_id(), n) for n in info["vms"]]
        t.size_bytes = sum(f.size for f in t.files if f.name != "descriptor.ovf")
        t.task.finish("success")
        log.info("template %s (%s) imported: status 8", t.id, t.name)


def cancel(em, t, task):
    time.sleep(float(em.knobs.get("cancel_delay") or 0))
    with em.model.lock:
        em.model.remove_template(t)


def delete(em, t, task):
    time.sleep(float(em.knobs.get("delete_delay") or 0))
    with em.model.lock:
        em.model.remove_template(t)
        task.finish("success")


def rename(em, t, task, name, desc):
    time.sleep(float(em.knobs.get("rename_delay") or 0))
    with em.model.lock:
        if t.removed:
            return
        if em.knobs.get("rename_fail"):
            task.finish("error", (500, "INTERNAL_SERVER_ERROR", rid_prefix() + "Update failed (knob rename_fail)."))
            return
        t.name = name
        if desc is not None:
            t.description = desc
        task.finish("success")


def enable_download(em, t, task):
    time.sleep(float(em.knobs.get("enable_download_delay") or 0))
    sid = new_id()
    outdir = os.path.join(t.dir, "download-" + sid)
    try:
        files = export.export(t, outdir)
    except Exception as e:  # noqa: BLE001 - any export failure becomes the task's error
        with em.model.lock:
            task.finish("error", (500, "INTERNAL_SERVER_ERROR", rid_prefix() + "Export failed: %s" % e))
        return
    with em.model.lock:
        if t.removed:
            return
        if t.download:
            em.model.transfers.pop(t.download["sid"], None)
        t.download = {"sid": sid, "state": "ready", "dir": outdir, "files": files, "last": time.time()}
        em.model.transfers[sid] = (t, "download")
        task.finish("success")
        log.info("template %s: download enabled (%s)", t.id, ", ".join("%s %d" % (n, s) for n, _p, s in files))


def watchdog(em):
    while True:
        time.sleep(1)
        limit = float(em.knobs.get("transfer_idle_timeout") or 3600)
        with em.model.lock:
            for t in list(em.model.templates.values()):
                if t.phase in "ABC" and t.task and t.task.running() and time.time() - t.last_progress > limit:
                    fail(t, 500, "TIMEDOUT", "Timed out.")


def new_task(em, t, op, opname, user):
    task = Task(op, opname, t, user, t.catalog.org)
    em.model.tasks[task.id] = task
    return task
