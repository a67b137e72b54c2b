"""Fault-injection and timing knobs (vcd-api.md §10.5).  One dict for the whole emulator;
`--knob k=v` at start-up, POST /__emulator/knobs merges, DELETE restores the start-up set."""
import json
import threading

DEFAULTS = {
    "session_idle_timeout": 1800.0,
    "fail_put_after_bytes": None,
    "fail_put_code": 500,
    "fail_put_reason": "Error persisting client data",
    "close_connection_on_put": None,
    "close_connection_repeat": False,
    "replay_range": False,
    "descriptor_invalid_reason": None,
    "import_fail": None,
    "duplicate_name_code": 400,
    "descriptor_delay": 1.0,
    "import_delay": 2.0,
    "enable_download_delay": 1.0,
    "cancel_delay": 0.0,
    "delete_delay": 0.0,
    "rename_delay": 0.0,
    "rename_fail": False,
    "omit_request_id_on_transfer": True,
    "http_503_every": None,
    "require_transfer_auth": True,
    "transfer_idle_timeout": 3600.0,
    "max_hw_version": 19,
    "login_401_style": "basic",
}


def parse_value(text):
    """--knob k=v: JSON if it parses (numbers, true/false, null), else the plain string."""
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

    def get(self, name):
        with self._lock:
            return self._cur.get(name)

    def snapshot(self):
        with self._lock:
            return dict(self._cur)

    def merge(self, obj):
        with self._lock:
            self._cur.update(obj)

    def set(self, name, value):
        with self._lock:
            self._cur[name] = value

    def reset(self):
        with self._lock:
            self._cur = dict(self._start)
