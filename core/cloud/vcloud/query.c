/* The query service (ref/vcd-api.md §3.2): /api/query?type=T&format=
 * records, 128 records a page, every page. Clients disagree on paging
 * (links or total), so both are honoured: a page is fetched while the
 * last one linked a next page or total says more are left, and never
 * after an empty page. Filter values are escaped as vCD 35+ wants them:
 * ( ) , ; with a backslash, then the whole filter percent-encoded. */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 128
#define MAX_PAGES 10000

char *vcd_query_value(const char *v)
{
    char *out = malloc(2 * strlen(v) + 1), *o = out;
    if (!out)
        return NULL;
    for (; *v; v++) {
        if (strchr("(),;\\", *v))
            *o++ = '\\';
        *o++ = *v;
    }
    *o = '\0';
    return out;
}

static bool is_record(xmlNodePtr n)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, VCD_NS) == 0 &&
           cfs_ends_with((const char *)n->name, "Record");
}

int vcd_query_page(xmlDocPtr doc, int (*cb)(void *ctx, xmlNodePtr record), void *ctx,
                   uint64_t *total, bool *more, size_t *n_records)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    *total = 0;
    *more = false;
    *n_records = 0;
    if (!root || strcmp((const char *)root->name, "QueryResultRecords") != 0 || !root->ns ||
        strcmp((const char *)root->ns->href, VCD_NS) != 0)
        return -EPROTO;
    char *t = cfs_xml_attr(root, "total");
    if (t) {
        char *end;
        unsigned long long v = strtoull(t, &end, 10);
        if (*t >= '0' && *t <= '9' && !*end)
            *total = v;
    }
    free(t);
    char *next = vcd_xml_link(root, "nextPage", NULL);
    *more = next != NULL;
    free(next);
    for (xmlNodePtr r = root->children; r; r = r->next) {
        if (!is_record(r))
            continue;
        ++*n_records;
        int err = cb(ctx, r);
        if (err)
            return err;
    }
    return 0;
}

int vcd_query(struct vcd_cloud *c, const char *type, const char *filter,
              int (*cb)(void *ctx, xmlNodePtr record), void *ctx)
{
    char *enc = filter ? cfs_url_escape(filter) : NULL;
    uint64_t seen = 0;
    int err = 0;

    if (filter && !enc)
        return -ENOMEM;
    for (unsigned page = 1; page <= MAX_PAGES; page++) {
        char *url = cfs_printf("/api/query?type=%s&format=records&pageSize=%d&page=%u%s%s", type,
                               PAGE_SIZE, page, enc ? "&filter=" : "", enc ? enc : "");
        char what[96];
        xmlDocPtr doc = NULL;
        uint64_t total;
        bool more;
        size_t n;

        if (!url) {
            err = -ENOMEM;
            break;
        }
        snprintf(what, sizeof what, "query of %s, page %u", type, page);
        err = vcd_get_xml(c, url, what, &doc);
        free(url);
        if (!err) {
            err = vcd_query_page(doc, cb, ctx, &total, &more, &n);
            if (err == -EPROTO)
                cfs_log_error("vcloud: %s: %s: not a QueryResultRecords document", c->base.name,
                              what);
        }
        xmlFreeDoc(doc);
        if (err)
            break;
        seen += n;
        if (n == 0 || (!more && seen >= total))
            break;
    }
    free(enc);
    return err;
}
