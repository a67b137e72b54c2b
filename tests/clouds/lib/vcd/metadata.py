"""Metadata of catalog items and vApp templates (vcd-api.md §9): GET/POST the collection,
GET/PUT/DELETE one key; changes answer a finished Task."""
from . import jobs
from . import xmldocs as X
from .xmlin import parse_metadata


class MetadataMixin:
    def _md_target(self, eid):
        """(template, metadata dict, href) for a catalogItem or vAppTemplate path."""
        if "/catalogItem/" in self.path:
            t = self._item(eid)
            return (t, t.item_metadata, X.h_item(self.base, t)) if t else (None, None, None)
        t = self._tpl(eid)
        return (t, t.metadata, X.h_tpl(self.base, t)) if t else (None, None, None)

    def md_get(self, eid):
        t, md, href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        return self.xml(200, X.metadata(self.base, href, md), X.MT + "metadata+xml")

    def _md_done(self, t, what):
        task = jobs.new_task(self.em, t, "Updating metadata of %s(%s): %s" % (t.name, t.id, what),
                             "metadataUpdate", self.user)
        task.owner_ref = (t.id, t.name)
        task.finish("success")
        return self.xml(202, X.task_body(self.base, task, True), X.MT + "task+xml",
                        [("Location", X.h_task(self.base, task))])

    def _read_xml(self):
        self.em.model.lock.release()
        try:
            data = self.read_body(512 * 1024)
        finally:
            self.em.model.lock.acquire()
        return data

    def md_post(self, eid):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        data = self._read_xml()
        entries, why = parse_metadata(data, many=True)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        for k, xt, v in entries:
            md[k] = (xt, v)
        return self._md_done(t, ",".join(e[0] for e in entries))

    def md_get_key(self, eid, key):
        t, md, href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        if key not in md:
            return self.error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "No metadata entry %s." % key)
        xt, v = md[key]
        return self.xml(200, X.metadata_value(self.base, href, key, xt, v), X.MT + "metadata.value+xml")

    def md_put_key(self, eid, key):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        data = self._read_xml()
        entries, why = parse_metadata(data, many=False)
        if why:
            return self.error(400, "BAD_REQUEST", why)
        xt, v = entries[0][1], entries[0][2]
        md[key] = (xt, v)
        return self._md_done(t, key)

    def md_del_key(self, eid, key):
        t, md, _href = self._md_target(eid)
        if t is None:
            return self.forbidden(self.path)
        if key not in md:
            return self.error(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "No metadata entry %s." % key)
        del md[key]
        return self._md_done(t, key)
