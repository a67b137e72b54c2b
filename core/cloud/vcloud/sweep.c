/* What killed uploads left half-made (DESIGN.md §5): a vcd_upload writes
 * its marker (include/marker.h) into the template's Description when it
 * creates it, so every template it makes is recognisable from the first
 * request on. At mount, templates that are not resolved (still waiting
 * for bytes, or failed) and carry a stale marker are removed as a failed
 * upload is (upload_cleanup.c): task cancelled, template deleted. A
 * resolved template (status 8) is complete whatever its Description. */
#define _GNU_SOURCE
#include "log.h"
#include "marker.h"
#include "upload.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Candidates of one query, acted on after it: deleting while paging
 * would shift the pages under the query. */
struct candidate {
    char *href, *name, *catalog;
};

struct sweep {
    struct vcd_cloud *c;
    const struct cfs_marker_self *self;
    time_t now;
    struct candidate *v;
    size_t n, cap;
};

static void candidate_free(struct candidate *k)
{
    free(k->href);
    free(k->name);
    free(k->catalog);
}

static int on_record(void *ctx, xmlNodePtr rec)
{
    struct sweep *s = ctx;
    char *desc = cfs_xml_attr(rec, "description");
    /* The record's description is only a first sieve (some releases omit
     * the attribute): the template's own document decides. */
    bool maybe = !desc || cfs_marker_stale(desc, s->self, s->now);
    free(desc);
    if (!maybe)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        struct candidate *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v, s->cap = cap;
    }
    struct candidate *k = &s->v[s->n];
    k->href = cfs_xml_attr(rec, "href");
    k->name = cfs_xml_attr(rec, "name");
    k->catalog = cfs_xml_attr(rec, "catalogName");
    if (!k->href) {
        candidate_free(k);
        return 0;
    }
    s->n++;
    return 0;
}

/* Reads the template: its marker, catalog item and task into u. 1 when
 * it is not (or no longer) a stale upload's, 0 to remove it, -errno. */
static int inspect(struct sweep *s, struct vcd_upload *u, char **marker)
{
    xmlDocPtr doc;
    struct vcd_tmpl t;
    int err = vcd_get_xml(s->c, u->tmpl_href, u->label, &doc);
    if (err)
        return err == -ENOENT ? 1 : err; /* a cancel of its own may have removed it */
    xmlNodePtr root = xmlDocGetRootElement(doc);
    *marker = cfs_xml_text(cfs_xml_child(root, VCD_NS, "Description"));
    u->item_href = vcd_xml_link(root, "catalogItem", NULL);
    err = vcd_tmpl_parse(doc, &t);
    xmlFreeDoc(doc);
    if (err)
        return err;
    if (t.status == 8 || !cfs_marker_stale(*marker, s->self, s->now)) {
        vcd_tmpl_free(&t);
        return 1;
    }
    u->task_href = t.task_href, t.task_href = NULL;
    u->cancel_href = t.cancel_href, t.cancel_href = NULL;
    /* Only a task still running needs a cancel; a failed one is over. */
    u->task_over = !u->task_href || vcd_tmpl_failed(&t) ||
                   (t.task_status && strcmp(t.task_status, "success") == 0);
    vcd_tmpl_free(&t);
    return 0;
}

static void remove_one(struct sweep *s, const struct candidate *k)
{
    const char *cloud = s->c->base.name, *name = k->name ? k->name : k->href;
    char *label = cfs_printf("half-made template %s", name), *marker = NULL;
    struct vcd_upload u = { .c = s->c, .label = label ? label : name, .quiet = true };
    char host[256] = "?";
    long pid = 0;

    u.tmpl_href = strdup(k->href);
    int err = u.tmpl_href ? inspect(s, &u, &marker) : -ENOMEM;
    if (err == 0) {
        cfs_marker_who(marker, host, &pid);
        err = vcd_upload_cleanup(&u);
        if (err == 0)
            cfs_log_info("vcloud: %s: removed half-made template %s (catalog %s) left by %s "
                         "pid %ld",
                         cloud, name, k->catalog ? k->catalog : "?", host, pid);
        else
            cfs_log_error("vcloud: %s: could not remove half-made template %s (catalog %s) left "
                          "by %s pid %ld: %s",
                          cloud, name, k->catalog ? k->catalog : "?", host, pid, strerror(-err));
    } else if (err < 0) {
        cfs_log_warn("vcloud: %s: sweep: cannot read template %s: %s", cloud, name, strerror(-err));
    }
    free(marker);
    free(label);
    free(u.tmpl_href);
    free(u.item_href);
    free(u.task_href);
    free(u.cancel_href);
}

int vcd_sweep(struct cfs_cloud *cloud, const struct cfs_marker_self *self)
{
    struct sweep s = { .c = (struct vcd_cloud *)cloud, .self = self, .now = time(NULL) };
    /* RESOLVED is status 8: complete, whatever its Description says. */
    int err = vcd_query(s.c, "vAppTemplate", "status!=RESOLVED", on_record, &s);

    for (size_t i = 0; i < s.n; i++) {
        if (!err)
            remove_one(&s, &s.v[i]);
        candidate_free(&s.v[i]);
    }
    free(s.v);
    return err;
}
