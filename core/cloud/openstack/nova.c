/* Nova compute v2.1: the servers of the project as the directory
 * servers/ (DESIGN.md §1: sizes known only at open).
 *
 * A server has no stored bytes: open() takes a snapshot (createImage),
 * waits until Glance has it active, and reads that image. Decisions:
 * - Requests ask for microversion 2.47: the flavor comes embedded in the
 *   server ({vcpus, ram, disk, original_name}); a Nova older than that
 *   answers with {id, links}, and the flavor is fetched once per mount.
 *   createImage answers {"image_id"} from 2.45 on, a Location header
 *   before: both are understood.
 * - A snapshot is reused by opens within snapshot_reuse seconds of its
 *   request or while a file is open on it, and opens that come while one
 *   is being taken wait for it and share it (or its failure): `cp` of
 *   several views of one server takes one snapshot, and a copy's second
 *   open of its source (fs/copy.c) reads the same bytes as the first,
 *   even with snapshot_reuse=0.
 * - The snapshot stays in Glance (images/ shows it): it is the user's
 *   record of what was copied, and cloudfs never deletes what it did not
 *   fail to make. A snapshot that does not become active within
 *   snapshot_timeout is deleted, as is one Glance reports killed.
 * - The wait is shown in /.cloudfs/status as a transfer of direction
 *   "snapshot" whose path is the server ("/<cloud>/servers/<name>"): one
 *   per snapshot, however many files of the server wait for it. */
#define _GNU_SOURCE
#include "nova.h"
#include "log.h"
#include "util.h"
#include "views.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SERVERS     200000
#define POLL_FIRST_S    0.2
#define POLL_MAX_S      5.0
#define DEFAULT_TIMEOUT 600
#define DEFAULT_REUSE   300

#define MICROVERSION "2.47"

static const char *const get_headers[] = {
    "Accept: application/json",
    "OpenStack-API-Version: compute " MICROVERSION,
    "X-OpenStack-Nova-API-Version: " MICROVERSION,
    NULL,
};

static const char *const post_headers[] = {
    "Accept: application/json",
    "Content-Type: application/json",
    "OpenStack-API-Version: compute " MICROVERSION,
    "X-OpenStack-Nova-API-Version: " MICROVERSION,
    NULL,
};

struct flavor {
    struct flavor *next;
    char *id, *name;
    struct cfs_vm_hw hw;
};

/* The snapshot of one server: the last one taken, or the one being taken. */
struct snap {
    struct snap *next;
    char *server_id;
    char *image_id;   /* the last successful one, or NULL */
    double requested; /* cfs_now() when it was asked for */
    bool busy;        /* a thread is taking one */
    unsigned gen;     /* counts the attempts that ended */
    int last_err;     /* of the last attempt */
    unsigned readers; /* sources open on image_id */
};

struct nova {
    char *override; /* clouds.yaml compute_endpoint_override */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a snapshot attempt ended */
    char *url;           /* the compute base URL (…/v2.1), once known */
    struct flavor *flavors;
    struct snap *snaps;
};

struct nova *nova_create(const struct cfs_cloud_config *cfg)
{
    struct nova *n = calloc(1, sizeof *n);
    const char *v;
    if (!n)
        return NULL;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    if ((v = cfs_cloud_str(cfg, "compute_endpoint_override")) && *v && !(n->override = strdup(v))) {
        nova_destroy(n);
        return NULL;
    }
    return n;
}

void nova_destroy(struct nova *n)
{
    if (!n)
        return;
    for (struct flavor *f = n->flavors, *next; f; f = next) {
        next = f->next;
        free(f->id);
        free(f->name);
        free(f);
    }
    for (struct snap *s = n->snaps, *next; s; s = next) {
        next = s->next;
        free(s->server_id);
        free(s->image_id);
        free(s);
    }
    free(n->override);
    free(n->url);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cond);
    free(n);
}

/* The compute base URL: the override or the catalog's (the same region
 * and interface rules as Glance's), as given: real catalogs say
 * ".../v2.1" or ".../v2.1/<project id>", and the paths go after either.
 * One without a version gets /v2.1. */
static int compute_url(struct openstack *os, char **url)
{
    struct nova *n = os->nova;
    char *found = NULL;
    int err = 0;

    pthread_mutex_lock(&n->lock);
    if (n->url)
        found = strdup(n->url);
    pthread_mutex_unlock(&n->lock);
    if (found) {
        *url = found;
        return 0;
    }
    if (n->override)
        found = strdup(n->override);
    else if ((err = keystone_endpoint(os->ks, "compute", &found)))
        return err;
    char *base = found ? cfs_url_trim(found) : NULL;
    free(found);
    if (base && !strstr(base, "/v2")) {
        char *v = cfs_printf("%s/v2.1", base);
        free(base);
        base = v;
    }
    if (!base)
        return -ENOMEM;
    pthread_mutex_lock(&n->lock);
    if (!n->url)
        n->url = strdup(base);
    pthread_mutex_unlock(&n->lock);
    *url = base;
    return 0;
}

/* Ids become file names under by-id/: letters, digits and '-' only. */
static bool safe_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-") == n;
}

/* A number of the API (vcpus, ram, disk) that fits our fields. */
static unsigned small_number(json_t *v)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;
    return i > 0 && i < (1 << 30) ? (unsigned)i : 0;
}

int nova_parse_flavor(const char *body, size_t len, struct cfs_vm_hw *hw, char **name)
{
    json_t *doc = openstack_json_load(body, len);
    json_t *f = json_object_get(doc, "flavor");
    const char *nm = json_string_value(json_object_get(f, "name"));
    int err = 0;

    if (!json_is_object(f)) {
        err = -EPROTO;
    } else {
        hw->cpus = small_number(json_object_get(f, "vcpus"));
        hw->memory_mb = small_number(json_object_get(f, "ram"));
        hw->disk_gb = small_number(json_object_get(f, "disk"));
        *name = nm ? strdup(nm) : NULL;
        if (nm && !*name)
            err = -ENOMEM;
    }
    json_decref(doc);
    return err;
}

/* Bounds what a hostile listing can make us keep (as for Glance). */
static bool fits(const struct cfs_object *o, const char *name, const char *value)
{
    size_t v = strlen(value);
    return v <= 4096 && o->xattrs_len + strlen(name) + v + 2 <= 64 * 1024;
}

static int add(struct cfs_object *o, const char *name, const char *value)
{
    return value && fits(o, name, value) ? cfs_object_add_xattr(o, name, value) : 0;
}

static int add_number(struct cfs_object *o, const char *name, unsigned v)
{
    char s[16];
    snprintf(s, sizeof s, "%u", v);
    return add(o, name, s);
}

/* The server's flavor: embedded (2.47+) or by id through flavor(). */
static int server_flavor(json_t *fl, nova_flavor_fn flavor, void *ctx, struct cfs_object *o)
{
    const char *id = json_string_value(json_object_get(fl, "id"));
    const char *name = json_string_value(json_object_get(fl, "original_name"));
    char *fetched = NULL;
    int err = 0;

    if (json_object_get(fl, "vcpus")) {
        o->hw.cpus = small_number(json_object_get(fl, "vcpus"));
        o->hw.memory_mb = small_number(json_object_get(fl, "ram"));
        o->hw.disk_gb = small_number(json_object_get(fl, "disk"));
    } else if (id && flavor) {
        /* A flavor that cannot be found (deleted since) leaves the server
         * without hardware: its OVF gets the mount's defaults. */
        if (flavor(ctx, id, &o->hw, &fetched) == -ENOMEM)
            return -ENOMEM;
        name = fetched;
    } else {
        return 0;
    }
    if (name)
        err = add(o, "user.nova.flavor.name", name);
    if (!err && o->hw.cpus)
        err = add_number(o, "user.nova.flavor.vcpus", o->hw.cpus);
    if (!err && o->hw.memory_mb)
        err = add_number(o, "user.nova.flavor.ram", o->hw.memory_mb);
    if (!err && (o->hw.cpus || o->hw.memory_mb))
        err = add_number(o, "user.nova.flavor.disk", o->hw.disk_gb);
    free(fetched);
    return err;
}

/* An entry that cannot be understood is skipped with one log line that
 * names it (its id, else its place on the page); the listing stands. */
static int parse_server(json_t *srv, size_t pos, nova_flavor_fn flavor, void *ctx,
                        struct cfs_object *o)
{
    const char *id = json_string_value(json_object_get(srv, "id"));
    json_t *name = json_object_get(srv, "name");
    json_t *image = json_object_get(srv, "image");
    const char *updated = json_string_value(json_object_get(srv, "updated"));
    const char *created = json_string_value(json_object_get(srv, "created"));
    const char *why = !json_is_object(srv) ? "not a JSON object"
                      : !safe_id(id)       ? "no usable id"
                      : name && !json_is_string(name) && !json_is_null(name)
                          ? "its name is not a string"
                          : NULL;
    int err;

    memset(o, 0, sizeof *o);
    if (why) {
        const char *nm = json_string_value(name);
        if (id && safe_id(id))
            cfs_log_warn("nova: server %s skipped: %s", id, why);
        else
            cfs_log_warn("nova: entry %zu of a listing page%s%.100s%s skipped: %s", pos + 1,
                         nm ? " (named \"" : "", nm ? nm : "", nm ? "\")" : "", why);
        return -EINVAL;
    }
    o->id = strdup(id);
    o->name = json_is_string(name) ? strndup(json_string_value(name), json_string_length(name))
                                   : strdup("");
    /* The snapshot's format: what Nova's libvirt driver makes of a qcow2
     * or raw root disk alike (a raw one is shown through the qcow2 view). */
    o->ext = strdup("qcow2");
    o->size_at_open = true;
    /* The disk changes while the server runs: the "updated" time is the
     * closest the API has; a later listing may show another. */
    if (cfs_parse_iso8601(created, &o->ctime))
        o->ctime.tv_sec = 0;
    if (cfs_parse_iso8601(updated, &o->mtime))
        o->mtime = o->ctime;
    if (!o->id || !o->name || !o->ext)
        return -ENOMEM;
    err = cfs_object_add_xattr(o, "user.cloudfs.id", o->id);
    if (!err)
        err = add(o, "user.nova.id", o->id);
    if (!err)
        err = add(o, "user.nova.status", json_string_value(json_object_get(srv, "status")));
    if (!err)
        err = server_flavor(json_object_get(srv, "flavor"), flavor, ctx, o);
    /* Booted from a volume: "image" is "". */
    if (!err)
        err = add(o, "user.nova.image",
                  json_is_object(image) ? json_string_value(json_object_get(image, "id")) : "");
    if (!err && json_is_object(json_object_get(srv, "addresses"))) {
        char *a = json_dumps(json_object_get(srv, "addresses"), JSON_COMPACT | JSON_SORT_KEYS);
        err = a ? add(o, "user.nova.addresses", a) : -ENOMEM;
        free(a);
    }
    return err;
}

/* The query of the "next" link: only the query is taken, so the link can
 * never send our token to another host. */
static char *next_query(json_t *links)
{
    size_t i;
    json_t *l;
    json_array_foreach (links, i, l) {
        const char *rel = json_string_value(json_object_get(l, "rel"));
        const char *href = json_string_value(json_object_get(l, "href"));
        const char *q = href ? strchr(href, '?') : NULL;
        if (rel && strcmp(rel, "next") == 0 && q)
            return strdup(q);
    }
    return NULL;
}

int nova_parse_page(const char *body, size_t len, nova_flavor_fn flavor, void *ctx,
                    struct cfs_object_list *out, size_t *cap, char **next)
{
    json_t *doc = openstack_json_load(body, len);
    json_t *servers = json_object_get(doc, "servers"), *srv;
    size_t i;
    int err = 0;

    *next = NULL;
    if (!json_is_array(servers)) {
        json_decref(doc);
        return -EPROTO;
    }
    json_array_foreach (servers, i, srv) {
        struct cfs_object o;
        int perr = parse_server(srv, i, flavor, ctx, &o);
        if (!perr && out->n >= MAX_SERVERS)
            perr = -EFBIG;
        if (!perr)
            perr = cfs_object_list_add(out, cap, &o);
        if (perr)
            cfs_object_clear(&o);
        if (perr == -ENOMEM || perr == -EFBIG) {
            err = perr;
            break;
        }
    }
    if (!err && json_array_size(servers) > 0)
        *next = next_query(json_object_get(doc, "servers_links"));
    json_decref(doc);
    return err;
}

/* ---- flavors by id (microversions before 2.47) ---- */

static int flavor_by_id(void *ctx, const char *id, struct cfs_vm_hw *hw, char **name)
{
    struct openstack *os = ctx;
    struct nova *n = os->nova;
    char *base = NULL, *url = NULL, *nm = NULL;
    struct cfs_vm_hw h = { 0 };
    int err;

    pthread_mutex_lock(&n->lock);
    for (struct flavor *f = n->flavors; f; f = f->next) {
        if (strcmp(f->id, id) == 0) {
            *hw = f->hw;
            *name = f->name ? strdup(f->name) : NULL;
            pthread_mutex_unlock(&n->lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&n->lock);

    if (!safe_id(id))
        return -EINVAL;
    err = compute_url(os, &base);
    if (err)
        return err;
    url = cfs_printf("%s/flavors/%s", base, id);
    free(base);
    if (!url)
        return -ENOMEM;
    struct cfs_http_req req = { .method = "GET", .url = url, .headers = get_headers };
    struct cfs_http_resp resp;
    err = openstack_request(os, "show flavor", &req, &resp);
    free(url);
    if (!err && nova_parse_flavor(resp.body, resp.body_len, &h, &nm) != 0) {
        cfs_log_error("nova: cloud %s: flavor %s: not a JSON flavor", os->base.name, id);
        err = -EIO;
    }
    cfs_http_resp_free(&resp);
    if (err)
        return err;

    struct flavor *f = calloc(1, sizeof *f);
    if (f && (f->id = strdup(id)) && (!nm || (f->name = strdup(nm)))) {
        f->hw = h;
        pthread_mutex_lock(&n->lock);
        f->next = n->flavors;
        n->flavors = f;
        pthread_mutex_unlock(&n->lock);
    } else if (f) {
        free(f->id);
        free(f);
    }
    *hw = h;
    *name = nm;
    return 0;
}

/* ---- the listing ---- */

struct server_pages {
    struct openstack *os;
    struct cfs_object_list *out;
    size_t cap;
};

static int server_page(void *ctx, const char *body, size_t len, char **next)
{
    struct server_pages *sp = ctx;
    return nova_parse_page(body, len, flavor_by_id, sp->os, sp->out, &sp->cap, next);
}

int nova_list_servers(struct openstack *os, struct cfs_object_list *out)
{
    struct server_pages sp = { .os = os, .out = out };
    char *base = NULL;
    unsigned pages = 0;
    int err;

    memset(out, 0, sizeof *out);
    err = compute_url(os, &base);
    char *servers = err ? NULL : cfs_printf("%s/servers/detail", base);
    if (!err && !servers)
        err = -ENOMEM;
    if (!err)
        err =
            openstack_pages(os, "list servers", servers, "", get_headers, server_page, &sp, &pages);
    if (err == -EPROTO)
        cfs_log_error("nova: cloud %s: server listing is not a JSON list of servers",
                      os->base.name);
    else if (err == -EFBIG)
        cfs_log_error("nova: cloud %s: more than %d servers", os->base.name, MAX_SERVERS);
    free(servers);
    free(base);
    if (err) {
        cfs_object_list_free(out);
        return err == -EPROTO || err == -EFBIG ? -EIO : err;
    }
    cfs_log_debug("nova: cloud %s: %zu servers in %u pages", os->base.name, out->n, pages);
    return 0;
}

/* ---- snapshots ---- */

char *nova_snapshot_name(const char *server, time_t t)
{
    struct tm tm;
    char stamp[32];
    /* Glance names hold 255 bytes: the server's name is cut (on a UTF-8
     * boundary) to leave room for the suffix. */
    size_t n = strlen(server);
    if (n > 200) {
        n = 200;
        while (n > 0 && ((unsigned char)server[n] & 0xc0) == 0x80)
            n--;
    }
    if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
        return NULL;
    return cfs_printf("%.*s-snapshot-%s", (int)n, server, stamp);
}

char *nova_snapshot_id(const char *body, size_t len, const char *location)
{
    json_t *doc = body && len ? openstack_json_load(body, len) : NULL;
    const char *id = json_string_value(json_object_get(doc, "image_id"));
    char *out = NULL;

    if (!id && location) {
        /* ".../images/<id>", maybe with a trailing slash or CR. */
        size_t end = strcspn(location, "\r\n?#");
        while (end > 0 && location[end - 1] == '/')
            end--;
        size_t start = end;
        while (start > 0 && location[start - 1] != '/')
            start--;
        out = strndup(location + start, end - start);
    } else if (id) {
        out = strdup(id);
    }
    json_decref(doc);
    if (out && !safe_id(out)) {
        free(out);
        out = NULL;
    }
    return out;
}

/* The server now: ERROR is refused here with Nova's fault message, so the
 * user reads why rather than createImage's 409. */
static int check_server(struct openstack *os, const char *base, const struct cfs_object *obj)
{
    char *url = cfs_printf("%s/servers/%s", base, obj->id);
    if (!url)
        return -ENOMEM;
    struct cfs_http_req req = { .method = "GET", .url = url, .headers = get_headers };
    struct cfs_http_resp resp;
    int err = openstack_request(os, "show server", &req, &resp);
    free(url);
    if (!err) {
        json_t *doc = openstack_json_load(resp.body, resp.body_len);
        json_t *srv = json_object_get(doc, "server");
        const char *status = json_string_value(json_object_get(srv, "status"));
        const char *fault =
            json_string_value(json_object_get(json_object_get(srv, "fault"), "message"));
        if (!status) {
            cfs_log_error("nova: cloud %s: server %s: not a JSON server record", os->base.name,
                          obj->id);
            err = -EIO;
        } else if (strcmp(status, "ERROR") == 0) {
            cfs_log_error("nova: cloud %s: server %s (%s) is in ERROR state, no snapshot: %.300s",
                          os->base.name, obj->name, obj->id, fault ? fault : "(no fault message)");
            err = -EIO;
        }
        json_decref(doc);
    }
    cfs_http_resp_free(&resp);
    return err;
}

/* POST createImage; *image_id the snapshot's. */
static int create_image(struct openstack *os, const char *base, const struct cfs_object *obj,
                        char **image_id)
{
    char *url = cfs_printf("%s/servers/%s/action", base, obj->id);
    char *name = nova_snapshot_name(obj->name, time(NULL));
    json_t *doc = json_pack("{s:{s:s?,s:{s:s}}}", "createImage", "name", name, "metadata",
                            "cloudfs_snapshot_of", obj->id);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    int err = -ENOMEM;

    json_decref(doc);
    if (!url || !name || !body)
        goto out;
    struct cfs_http_req req = {
        .method = "POST",
        .url = url,
        .headers = post_headers,
        .body = body,
        .body_len = strlen(body),
    };
    struct cfs_http_resp resp;
    err = openstack_request(os, "create snapshot", &req, &resp);
    if (err == -EEXIST)
        err = -EIO; /* 409: the server's state forbids it (logged with Nova's message) */
    if (!err) {
        char *location = cfs_http_header(&resp, "Location");
        *image_id = nova_snapshot_id(resp.body, resp.body_len, location);
        free(location);
        if (!*image_id) {
            cfs_log_error("nova: cloud %s: snapshot of %s: Nova named no image", os->base.name,
                          obj->name);
            err = -EIO;
        } else {
            cfs_log_info("nova: cloud %s: snapshot %s of server %s requested (image %s)",
                         os->base.name, name, obj->name, *image_id);
        }
    }
    cfs_http_resp_free(&resp);
out:
    free(url);
    free(name);
    free(body);
    return err;
}

/* Polls Glance until the image is active: *img. */
static int wait_active(struct openstack *os, const struct cfs_object *obj, const char *image_id,
                       double deadline, void *xfer, struct cfs_object *img)
{
    const struct cfs_prepare *prep = os->base.prepare;
    double delay = POLL_FIRST_S;
    char status[32];

    for (;;) {
        int err = glance_image_state(os, image_id, status, sizeof status, img);
        if (err == 0) {
            if (prep && prep->progress)
                prep->progress(xfer, img->size);
            return 0;
        }
        if (err == -ENOENT) {
            cfs_log_error("nova: cloud %s: snapshot of %s failed: image %s is gone from Glance",
                          os->base.name, obj->name, image_id);
            return -EIO;
        }
        if (err != -EAGAIN)
            return err;
        if (strcmp(status, "killed") == 0 || strcmp(status, "deleted") == 0 ||
            strcmp(status, "pending_delete") == 0 || strcmp(status, "deactivated") == 0) {
            cfs_log_error("nova: cloud %s: snapshot of %s failed: image %s is %s", os->base.name,
                          obj->name, image_id, status);
            if (strcmp(status, "killed") == 0)
                glance_delete_image(os, image_id, "delete failed snapshot");
            return -EIO;
        }
        double now = cfs_now();
        if (now >= deadline) {
            cfs_log_error("nova: cloud %s: snapshot of %s not active within %u s (image %s is "
                          "%s): deleted",
                          os->base.name, obj->name,
                          prep && prep->timeout_s ? prep->timeout_s : DEFAULT_TIMEOUT, image_id,
                          status);
            glance_delete_image(os, image_id, "delete timed-out snapshot");
            return -ETIMEDOUT;
        }
        cfs_sleep(delay < deadline - now ? delay : deadline - now);
        delay = delay * 1.5 < POLL_MAX_S ? delay * 1.5 : POLL_MAX_S;
    }
}

/* Takes a snapshot of obj and waits for it: *img, *image_id. */
static int take_snapshot(struct openstack *os, const struct cfs_object *obj, double *requested,
                         char **image_id, struct cfs_object *img)
{
    const struct cfs_prepare *prep = os->base.prepare;
    unsigned timeout = prep && prep->timeout_s ? prep->timeout_s : DEFAULT_TIMEOUT;
    char *base = NULL, *path = NULL;
    void *xfer = NULL;
    int err = compute_url(os, &base);

    if (!err)
        err = check_server(os, base, obj);
    if (err)
        goto out;
    *requested = cfs_now();
    if (prep && prep->begin && (path = cfs_printf("/%s/servers/%s", os->base.name, obj->name)))
        xfer = prep->begin(path);
    err = create_image(os, base, obj, image_id);
    if (!err)
        err = wait_active(os, obj, *image_id, *requested + timeout, xfer, img);
    if (err) {
        free(*image_id);
        *image_id = NULL;
    } else {
        cfs_log_info("nova: cloud %s: snapshot of %s active after %.1f s (image %s, %llu bytes)",
                     os->base.name, obj->name, cfs_now() - *requested, img->id,
                     (unsigned long long)img->size);
    }
    if (prep && prep->end)
        prep->end(xfer, err);
out:
    free(base);
    free(path);
    return err;
}

static struct snap *snap_of(struct nova *n, const char *server_id)
{
    for (struct snap *s = n->snaps; s; s = s->next)
        if (strcmp(s->server_id, server_id) == 0)
            return s;
    struct snap *s = calloc(1, sizeof *s);
    if (!s || !(s->server_id = strdup(server_id))) {
        free(s);
        return NULL;
    }
    s->next = n->snaps;
    n->snaps = s;
    return s;
}

/* The Glance image to read for obj: a young enough snapshot (or one
 * being read), the one another thread is taking, or a new one. On success
 * *held counts one more reader (snap_release). */
static int server_image(struct openstack *os, const struct cfs_object *obj, struct cfs_object *img,
                        struct snap **held)
{
    const struct cfs_prepare *prep = os->base.prepare;
    double reuse = prep ? prep->reuse_s : DEFAULT_REUSE;
    struct nova *n = os->nova;
    bool waited = false;
    unsigned gen = 0;
    int err;

    pthread_mutex_lock(&n->lock);
    for (;;) {
        struct snap *s = snap_of(n, obj->id);
        if (!s) {
            err = -ENOMEM;
            break;
        }
        if (s->busy) {
            if (!waited)
                gen = s->gen;
            waited = true;
            pthread_cond_wait(&n->cond, &n->lock);
            continue;
        }
        /* The attempt waited for is this open's, whatever reuse says. */
        bool shared = waited && s->gen != gen;
        if (shared && s->last_err) {
            err = s->last_err;
            break;
        }
        if (s->image_id && (shared || s->readers || cfs_now() - s->requested < reuse)) {
            char *id = strdup(s->image_id), status[32];
            s->readers++; /* kept while we look */
            pthread_mutex_unlock(&n->lock);
            err = id ? glance_image_state(os, id, status, sizeof status, img) : -ENOMEM;
            pthread_mutex_lock(&n->lock);
            if (err == 0) {
                *held = s;
                free(id);
                break;
            }
            s->readers--;
            if (err != -ENOENT && err != -EAGAIN) {
                free(id);
                break;
            }
            /* Deleted (or deactivated) since: forget it, take another. */
            cfs_log_info("nova: cloud %s: snapshot %s of %s is no longer usable", os->base.name, id,
                         obj->name);
            if (s->image_id && strcmp(s->image_id, id) == 0) {
                free(s->image_id);
                s->image_id = NULL;
            }
            free(id);
            waited = false;
            continue;
        }
        s->busy = true;
        pthread_mutex_unlock(&n->lock);
        char *id = NULL;
        double requested = cfs_now();
        err = take_snapshot(os, obj, &requested, &id, img);
        pthread_mutex_lock(&n->lock);
        s->busy = false;
        s->gen++;
        s->last_err = err;
        if (!err) {
            free(s->image_id);
            s->image_id = id;
            s->requested = requested;
            s->readers++;
            *held = s;
        }
        pthread_cond_broadcast(&n->cond);
        break;
    }
    pthread_mutex_unlock(&n->lock);
    return err;
}

static void snap_release(struct nova *n, struct snap *s)
{
    pthread_mutex_lock(&n->lock);
    s->readers--;
    pthread_mutex_unlock(&n->lock);
}

/* ---- the server's source: the snapshot's, counted as a reader ---- */

struct held_source {
    struct cfs_source base;
    struct cfs_source *inner;
    struct nova *nova;
    struct snap *snap;
};

static ssize_t held_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct held_source *h = (struct held_source *)src;
    ssize_t n = cfs_source_pread(h->inner, buf, len, off);
    if (h->inner->verified)
        h->base.verified = true;
    return n;
}

static void held_close(struct cfs_source *src)
{
    struct held_source *h = (struct held_source *)src;
    cfs_source_close(h->inner);
    snap_release(h->nova, h->snap);
    free(h);
}

static const struct cfs_source_ops held_ops = {
    .name = "nova-snapshot",
    .pread = held_pread,
    .close = held_close,
};

static int hold(struct nova *n, struct snap *s, struct cfs_source *inner, struct cfs_source **out)
{
    struct held_source *h = calloc(1, sizeof *h);
    if (!h) {
        cfs_source_close(inner);
        snap_release(n, s);
        return -ENOMEM;
    }
    h->base.ops = &held_ops;
    h->base.size = inner->size;
    h->base.alloc = inner->alloc;
    h->inner = inner;
    h->nova = n;
    h->snap = s;
    *out = &h->base;
    return 0;
}

int nova_open_server(struct openstack *os, const struct cfs_object *obj, unsigned flags,
                     struct cfs_source **out)
{
    struct cfs_object *img = calloc(1, sizeof *img);
    struct cfs_source *file = NULL, *disk = NULL;
    struct snap *held = NULL;
    int err;

    if (!img)
        return -ENOMEM;
    err = server_image(os, obj, img, &held);
    if (!err)
        err = glance_open_image(os, img, flags, &file);
    if (!err && strcmp(img->ext, "qcow2") != 0) {
        /* Nova snapshots a raw root disk (Ceph, LVM) as raw: the server's
         * file is its qcow2 view. */
        char *label = cfs_printf("nova: cloud %s: server %s", os->base.name, obj->name);
        struct cfs_view_spec spec = { .base = obj->name, .label = label };
        if (!cfs_view_offered(CFS_VIEW_QCOW2, img->ext)) {
            cfs_log_error("nova: cloud %s: snapshot %s of %s has disk format %s: not readable "
                          "as qcow2",
                          os->base.name, img->id, obj->name, img->ext);
            cfs_source_close(file);
            err = -ENOTSUP;
        } else {
            err =
                label ? cfs_view_open(file, img->ext, CFS_VIEW_QCOW2, &spec, &disk, NULL) : -ENOMEM;
            if (!label)
                cfs_source_close(file);
        }
        free(label);
        file = NULL;
    }
    if (!err && file)
        disk = file;
    if (!err)
        err = hold(os->nova, held, disk, out); /* releases held on failure */
    else if (held)
        snap_release(os->nova, held);
    cfs_object_clear(img);
    free(img);
    return err;
}
