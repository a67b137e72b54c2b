"""vApp templates (vcd-api.md §3.5, §4.7, §6.1, §6.3, §10.3): GET, PUT (a new name and
description, as a task) and DELETE (BUSY_ENTITY while a task runs), the template's OVF
descriptor, enableDownload / disableDownload."""
import os

from . import jobs
from . import xmldocs as X
from .xmlin import parse_template_edit


class TemplateMixin:
    def _tpl(self, tid):
        t = self.em.model.templates.get(tid)
        return t if t is not None and t.catalog.org is self.user.org else None

    def busy(self, t):
        return self.error(400, "BUSY_ENTITY", "The entity Ref: com.vmware.vcloud.entity.vapptemplate:%s (%s) is busy "
                          "completing an operation %s." % (t.id, t.name, t.task.operation_name))

    def get_tpl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        return self.xml(200, X.vapp_template(self.base, t), X.MT + "vAppTemplate+xml")

    def put_tpl(self, tid):
        """Renames the template (its catalog item shows the same name), as vCD's
        PUT-VAppTemplate: 202 and a task; DUPLICATE_NAME when the catalog has the name."""
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ct != (X.MT + "vAppTemplate+xml").lower():
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type: %s" % (ct or "(none)"))
        if t.catalog.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        data = self._read_xml()                 # metadata.py: the body, without holding the lock
        if data is None:
            return self.error(400, "BAD_REQUEST", "The request body could not be read.")
        edit, why = parse_template_edit(data)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        if t.removed:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.busy():
            return self.busy(t)
        name, desc = edit
        if any(o is not t and o.name == name and o.catalog is t.catalog
               for o in self.em.model.templates.values()):
            return self.error(400, "DUPLICATE_NAME", "The VCD entity %s already exists." % name)
        task = jobs.new_task(self.em, t, "Updating Virtual Application Template %s(%s)" % (t.name, t.id),
                             "vdcUpdateVappTemplate", self.user)
        t.task = task
        jobs.later(jobs.rename, self.em, t, task, name, desc)
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def del_tpl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.catalog.read_only or not self.user.can_upload:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.busy():
            return self.busy(t)
        task = jobs.new_task(self.em, t, "Deleting Virtual Application Template %s(%s)" % (t.name, t.id),
                             "vdcDeleteTemplate", self.user)
        t.task = task
        jobs.later(jobs.delete, self.em, t, task)
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def get_ovf(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if not t.ovf_uploaded or not t.descriptor or not os.path.exists(t.descriptor):
            return self.error(400, "BAD_REQUEST", "The vApp template has no OVF descriptor yet.")
        with open(t.descriptor, "rb") as f:
            return self.reply(200, f.read(), "text/xml")

    def enable_dl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if not self.user.can_download:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.busy():
            return self.busy(t)
        if t.status != 8:
            return self.error(400, "BAD_REQUEST", "The vApp template %s is not ready (status %d)." % (t.name, t.status))
        task = jobs.new_task(self.em, t, "Enabling download of Virtual Application Template %s(%s)" % (t.name, t.id),
                             "vdcEnableDownload", self.user)
        t.task = task
        jobs.later(jobs.enable_download, self.em, t, task)
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def disable_dl(self, tid):
        t = self._tpl(tid)
        if t is None:
            return self.forbidden("com.vmware.vcloud.entity.vapptemplate:" + tid)
        if t.download:
            self.em.model.transfers.pop(t.download["sid"], None)
            t.download = None
        return self.reply(204)
