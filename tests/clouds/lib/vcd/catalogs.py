"""Catalogs and catalog items (vcd-api.md §3.3, §3.4, §4.1, §4.7): GET catalog and its
metadata, the upload POST (UploadVAppTemplateParams -> state A), GET and DELETE of items."""
import logging
import os

from . import jobs
from . import xmldocs as X
from .xmlin import parse_upload_params

log = logging.getLogger("vcd")


class CatalogMixin:
    def _catalog(self, cid):
        c = self.em.model.catalogs.get(cid)
        return c if c is not None and c.org is self.user.org else None

    def get_catalog(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        items = sorted((t for t in self.em.model.templates.values() if t.catalog is c), key=lambda t: t.item_created)
        return self.xml(200, X.catalog(self.base, c, items, self.user.can_upload), X.MT + "catalog+xml")

    def get_catalog_md(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        return self.xml(200, X.metadata(self.base, X.h_catalog(self.base, c), {}), X.MT + "metadata+xml")

    def post_upload(self, cid):
        c = self._catalog(cid)
        if c is None:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ct == (X.MT + "media+xml").lower():
            return self.error(400, "BAD_REQUEST", "Media upload is not supported by this emulator.")
        if ct != (X.MT + "uploadVAppTemplateParams+xml").lower():
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type: %s" % (ct or "(none)"))
        if c.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.catalog:" + cid)
        n = self.body_length()
        if n is not None and n > 512 * 1024:
            return self.error(400, "BAD_REQUEST", "The request body exceeds 512 KB.")
        self.em.model.lock.release()            # do not hold the lock while reading from the network
        try:
            data = self.read_body(512 * 1024)
        finally:
            self.em.model.lock.acquire()
        if data is None:
            return self.error(400, "BAD_REQUEST", "The request body could not be read.")
        params, why = parse_upload_params(data)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        name, desc, manifest = params
        if any(t.name == name and t.catalog is c for t in self.em.model.templates.values()):
            code = int(self.em.knobs.get("duplicate_name_code") or 400)
            return self.error(code, "DUPLICATE_NAME", "The VCD entity %s already exists." % name)
        from .model import FileEntry, Template
        t = Template(name, desc, c, self.user, self.em.model.store)
        t.manifest_required = manifest
        os.makedirs(t.dir, exist_ok=True)
        t.files.append(FileEntry("descriptor.ovf", -1, os.path.join(t.dir, "descriptor.ovf")))
        t.task = jobs.new_task(self.em, t, "Importing Virtual Application Template %s(%s)" % (name, t.id),
                               "vdcUploadOvfContents", self.user)
        self.em.model.templates[t.id] = t
        self.em.model.items[t.item_id] = t
        self.em.model.transfers[t.sid] = (t, "upload")
        log.info("upload: template %s (%s) created in catalog %s", t.id, name, c.name)
        return self.xml(201, X.catalog_item(self.base, t), X.MT + "catalogItem+xml",
                        [("Location", X.h_item(self.base, t))])

    def _item(self, iid):
        t = self.em.model.items.get(iid)
        return t if t is not None and t.catalog.org is self.user.org else None

    def get_item(self, iid):
        t = self._item(iid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        return self.xml(200, X.catalog_item(self.base, t), X.MT + "catalogItem+xml")

    def del_item(self, iid):
        t = self._item(iid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        if t.catalog.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.catalogItem:" + iid)
        if t.busy():
            return self.busy(t)
        self.em.model.remove_template(t)
        return self.reply(204)
