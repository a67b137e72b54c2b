/* Paged OpenStack listings (Glance images, Nova servers): one walker for
 * every listing, so the guards against a server that never ends its pages
 * live in one place. */
#include "openstack.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAGES        10000
#define MAX_LISTING_BODY (64u << 20)

int openstack_pages(struct openstack *os, const char *what, const char *base, const char *query,
                    const char *const *headers, openstack_page_fn parse, void *ctx,
                    unsigned *n_pages)
{
    char *next = query ? strdup(query) : NULL, *prev = NULL;
    unsigned pages = 0;
    int err = next ? 0 : -ENOMEM;

    while (next && !err) {
        char *url = cfs_printf("%s%s", base, next);
        struct cfs_http_req req = {
            .method = "GET", .url = url, .headers = headers, .max_body = MAX_LISTING_BODY
        };
        struct cfs_http_resp resp = { 0 };

        free(prev);
        prev = next;
        next = NULL;
        if (!url) {
            err = -ENOMEM;
            break;
        }
        err = openstack_request(os, what, &req, &resp);
        free(url);
        if (!err)
            err = parse(ctx, resp.body, resp.body_len, &next);
        cfs_http_resp_free(&resp);
        /* A "next" that repeats, or pages without end: a broken server. */
        if (!err && next && (strcmp(next, prev) == 0 || ++pages >= MAX_PAGES)) {
            cfs_log_error("openstack: cloud %s: %s: the listing does not end (page %u)",
                          os->base.name, what, pages);
            err = -EIO;
        }
    }
    free(prev);
    free(next);
    if (n_pages)
        *n_pages = pages + 1;
    return err;
}
