"""Tasks (vcd-api.md §7, §10.3): GET a task, cancel a running one (an upload's cancel removes
the template after cancel_delay)."""
from . import jobs
from . import xmldocs as X


class TaskMixin:
    def get_task(self, kid):
        task = self.em.model.tasks.get(kid)
        if task is None or task.org is not self.user.org:
            return self.forbidden("com.vmware.vcloud.entity.task:" + kid)
        return self.xml(200, X.task_body(self.base, task, True), X.MT + "task+xml")

    def cancel_task(self, kid):
        task = self.em.model.tasks.get(kid)
        if task is None or task.org is not self.user.org:
            return self.forbidden("com.vmware.vcloud.entity.task:" + kid)
        if not task.running():
            return self.error(400, "BAD_REQUEST", "The task %s is already complete (%s)." % (kid, task.status))
        task.cancel_requested = True
        task.finish("canceled")
        t = task.owner
        if t is not None and task.operation_name == "vdcUploadOvfContents":
            t.phase = "X"
            jobs.later(jobs.cancel, self.em, t, task)
        return self.reply(204)
