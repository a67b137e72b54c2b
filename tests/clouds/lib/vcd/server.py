"""The vCD emulator's request handler and listeners (vcd-api.md §10): one ThreadingHTTPServer
per listener (HTTPS and plain HTTP) serving a Handler composed of the HTTP plumbing
(httpbase) and one mixin per resource: auth (versions, sessions), api (routes, org, VDC,
query), catalogs, templates, tasks, metadata, transfer and the control API."""
import http.server

from .api import ApiMixin
from .auth import AuthMixin
from .catalogs import CatalogMixin
from .control import ControlMixin
from .emulator import Emulator  # noqa: F401 - re-exported for vcd-emulator
from .httpbase import HandlerBase
from .metadata import MetadataMixin
from .tasks import TaskMixin
from .templates import TemplateMixin
from .transfer import TransferMixin


class Handler(AuthMixin, ApiMixin, CatalogMixin, TemplateMixin, TaskMixin, MetadataMixin, TransferMixin,
              ControlMixin, HandlerBase):
    pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, em, scheme, ctx=None):
        self.em, self.scheme, self.ctx = em, scheme, ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr
