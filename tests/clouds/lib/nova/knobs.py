"""Knobs of the Nova emulator (tests/clouds/README.md).  `--knob k=v` at start-up, POST
/__emulator/knobs merges a JSON object, DELETE restores the start-up set.  The snapshot knobs
apply to all servers when scalar, or per server when an object {server name or id: value}."""
import json
import threading

DEFAULTS = {
    "snapshot_delay": 1.0,          # seconds between createImage and the start of the upload
    "snapshot_never_active": False,  # the upload never happens: the image stays queued
    "snapshot_fail": False,          # after the delay the image is deleted from Glance
    "snapshot_upload_rate": None,    # MiB/s of the upload (None: as fast as Glance takes it)
    "max_limit": 5,                  # page size cap (osapi_max_limit)
    "token_cache_time": 10.0,        # seconds a validated token is trusted without asking Keystone
}


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


class Knobs:
    def __init__(self, overrides):
        self._lock = threading.Lock()
        self._start = dict(DEFAULTS)
        self._start.update(overrides)
        self._cur = dict(self._start)

    def get(self, name, server=None):
        """The knob's value; for an object-valued knob the entry of `server` (its name or id)."""
        with self._lock:
            v = self._cur.get(name)
        if isinstance(v, dict):
            if server is None:
                return None
            return v.get(server.id, v.get(server.name, DEFAULTS.get(name)))
        return v

    def snapshot(self):
        with self._lock:
            return dict(self._cur)

    def merge(self, obj):
        with self._lock:
            self._cur.update(obj)

    def reset(self):
        with self._lock:
            self._cur = dict(self._start)
