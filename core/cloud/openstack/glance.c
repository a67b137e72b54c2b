/* Glance v2: the image listing (every page) and image downloads.
 * ref/glance-keystone.md has the server's behaviour this relies on:
 * "next" links appear whenever a page is full, Range is honoured,
 * os_hash_algo/os_hash_value describe the stored bytes. */
#define _GNU_SOURCE
#include "openstack.h"
#include "cache.h"
#include "log.h"
#include "mtime.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_LIMIT 1000
#define MAX_IMAGES 200000

/* Ids become file names under by-id/: letters, digits and '-' only. */
static bool safe_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-") == n;
}

/* The extension of the stored bytes: the disk format, "ova" for an OVA
 * container; anything odd becomes "img". */
static char *extension(json_t *img)
{
    const char *cf = json_string_value(json_object_get(img, "container_format"));
    const char *df = json_string_value(json_object_get(img, "disk_format"));
    if (cf && strcmp(cf, "ova") == 0)
        return strdup("ova");
    if (!df || !*df || strlen(df) > 16 ||
        strspn(df, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(df))
        return strdup("img");
    return strdup(df);
}

/* Glance's fields and properties as user.glance.*, scalars only (custom
 * properties are top-level strings); user.cloudfs.* for ours. Values of
 * a hostile server are bounded: nothing past 64 KiB per image. */
/* Bounds what a hostile listing can make us keep: a value of at most
 * 4 KiB, at most 64 KiB per image. */
static bool fits(const struct cfs_object *o, const char *name, const char *value)
{
    size_t v = strlen(value);
    return v <= 4096 && o->xattrs_len + strlen(name) + v + 2 <= 64 * 1024;
}

static int add_xattrs(json_t *img, struct cfs_object *o)
{
    static const char *const skip[] = { "self", "file", "schema", "locations", "direct_url" };
    const char *key;
    json_t *v;
    int err = cfs_object_add_xattr(o, "user.cloudfs.id", o->id);

    if (!err && o->digest_algo) {
        char *d = cfs_printf("%s:%s", o->digest_algo, o->digest_hex);
        err = d ? cfs_object_add_xattr(o, "user.cloudfs.digest", d) : -ENOMEM;
        free(d);
    }
    json_object_foreach (img, key, v) {
        char name[256], value[64];
        const char *text = value;
        bool skipped = false;
        for (size_t i = 0; i < CFS_ARRAY_SIZE(skip); i++)
            skipped |= strcmp(key, skip[i]) == 0;
        if (err || skipped || strlen(key) > 200)
            continue;
        if (json_is_string(v))
            text = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(value, sizeof value, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_boolean(v))
            snprintf(value, sizeof value, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_array(v) && strcmp(key, "tags") == 0) {
            char *tags = json_dumps(v, JSON_COMPACT);
            snprintf(name, sizeof name, "user.glance.%s", key);
            if (!tags)
                err = -ENOMEM;
            else if (fits(o, name, tags))
                err = cfs_object_add_xattr(o, name, tags);
            free(tags);
            continue;
        } else
            continue;
        snprintf(name, sizeof name, "user.glance.%s", key);
        if (fits(o, name, text))
            err = cfs_object_add_xattr(o, name, text);
        /* A migration's warnings, where cloudfs shows warnings. */
        if (!err && strcmp(key, GLANCE_WARNINGS_KEY) == 0 && json_is_string(v) &&
            fits(o, "user.cloudfs.warnings", text))
            err = cfs_object_add_xattr(o, "user.cloudfs.warnings", text);
    }
    return err;
}

/* How a log line names a listing entry: its id, or its place on the
 * page (and its name) when it has no usable one. */
static void entry_label(json_t *img, size_t pos, char *out, size_t n)
{
    const char *id = json_string_value(json_object_get(img, "id"));
    const char *name = json_string_value(json_object_get(img, "name"));
    if (id && safe_id(id))
        snprintf(out, n, "image %s", id);
    else if (name)
        snprintf(out, n, "entry %zu of a listing page (named \"%.100s\")", pos + 1, name);
    else
        snprintf(out, n, "entry %zu of a listing page", pos + 1);
}

/* An entry that cannot be understood is skipped with one log line; the
 * rest of the listing stands. pos is its place on the page. */
static int parse_image(json_t *img, size_t pos, struct cfs_object *o)
{
    const char *id = json_string_value(json_object_get(img, "id"));
    const char *status = json_string_value(json_object_get(img, "status"));
    json_t *name = json_object_get(img, "name");
    json_t *size = json_object_get(img, "size");
    const char *algo = json_string_value(json_object_get(img, "os_hash_algo"));
    const char *hash = json_string_value(json_object_get(img, "os_hash_value"));
    const char *md5 = json_string_value(json_object_get(img, "checksum"));
    const char *why = NULL;
    char label[200];

    memset(o, 0, sizeof *o);
    if (!json_is_object(img))
        why = "not a JSON object";
    else if (!id || !safe_id(id))
        why = "no usable id";
    else if (!status)
        why = "no status";
    else if (strcmp(status, "active") != 0)
        return -EAGAIN; /* not yet (or no longer) readable */
    else if (!json_is_integer(size) || json_integer_value(size) < 0)
        why = "no size";
    else if (name && !json_is_string(name) && !json_is_null(name))
        why = "its name is not a string";
    if (why) {
        entry_label(img, pos, label, sizeof label);
        cfs_log_warn("glance: %s skipped: %s", label, why);
        return -EINVAL;
    }
    o->id = strdup(id);
    o->name = json_is_string(name) ? strndup(json_string_value(name), json_string_length(name))
                                   : strdup("");
    o->ext = extension(img);
    o->size = (uint64_t)json_integer_value(size);
    o->immutable = true;
    if (cfs_parse_iso8601(json_string_value(json_object_get(img, "created_at")), &o->mtime))
        o->mtime.tv_sec = 0;
    if (cfs_parse_iso8601(json_string_value(json_object_get(img, "updated_at")), &o->ctime))
        o->ctime = o->mtime;
    /* A time stored by utimensat wins over the creation time. */
    cfs_mtime_parse(json_string_value(json_object_get(img, CFS_MTIME_KEY)), &o->mtime);
    if (algo && hash && *algo && *hash) {
        o->digest_algo = strdup(algo);
        o->digest_hex = strdup(hash);
    } else if (md5 && *md5) {
        o->digest_algo = strdup("md5");
        o->digest_hex = strdup(md5);
    }
    if (!o->id || !o->name || !o->ext)
        return -ENOMEM;
    return add_xattrs(img, o);
}

/* The query of a "next" link: only the query is taken, so the link can
 * never send our token to another host. */
static char *next_query(json_t *doc)
{
    const char *next = json_string_value(json_object_get(doc, "next"));
    const char *q = next ? strchr(next, '?') : NULL;
    return q ? strdup(q) : NULL;
}

int glance_parse_page(const char *body, size_t len, struct cfs_object_list *out, size_t *cap,
                      char **next)
{
    json_t *doc = openstack_json_load(body, len);
    json_t *images = json_object_get(doc, "images"), *img;
    size_t i;
    int err = 0;

    *next = NULL;
    if (!json_is_array(images)) {
        json_decref(doc);
        return -EPROTO;
    }
    json_array_foreach (images, i, img) {
        struct cfs_object o;
        int perr = parse_image(img, i, &o);
        if (!perr && out->n >= MAX_IMAGES)
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
    /* Glance sends "next" whenever a page is full, even the last one. */
    if (!err && json_array_size(images) > 0)
        *next = next_query(doc);
    json_decref(doc);
    return err;
}

struct image_pages {
    struct cfs_object_list *out;
    size_t cap;
};

static int image_page(void *ctx, const char *body, size_t len, char **next)
{
    struct image_pages *ip = ctx;
    return glance_parse_page(body, len, ip->out, &ip->cap, next);
}

int glance_list_images(struct openstack *os, struct cfs_object_list *out)
{
    struct image_pages ip = { .out = out };
    char *base = NULL, *query = cfs_printf("?limit=%d&status=active", PAGE_LIMIT);
    unsigned pages = 0;
    int err;

    memset(out, 0, sizeof *out);
    err = query ? openstack_image_url(os, &base) : -ENOMEM;
    char *images = err ? NULL : cfs_printf("%s/v2/images", base);
    if (!err && !images)
        err = -ENOMEM;
    if (!err)
        err = openstack_pages(os, "list images", images, query, NULL, image_page, &ip, &pages);
    if (err == -EPROTO)
        cfs_log_error("glance: cloud %s: image listing is not a JSON list of images",
                      os->base.name);
    else if (err == -EFBIG)
        cfs_log_error("glance: cloud %s: more than %d images", os->base.name, MAX_IMAGES);
    free(images);
    free(query);
    free(base);
    if (err) {
        cfs_object_list_free(out);
        return err == -EPROTO || err == -EFBIG ? -EIO : err;
    }
    cfs_log_debug("glance: cloud %s: %zu active images in %u pages", os->base.name, out->n, pages);
    return 0;
}

int glance_open_image(struct openstack *os, const struct cfs_object *obj, unsigned flags,
                      struct cfs_source **out)
{
    char *base = NULL, *url, *label;
    int err = openstack_image_url(os, &base);
    if (err)
        return err;
    url = cfs_printf("%s/v2/images/%s/file", base, obj->id);
    label = cfs_printf("glance: cloud %s: image %s (%s)", os->base.name, obj->id, obj->name);
    free(base);
    if (!url || !label) {
        free(url);
        free(label);
        return -ENOMEM;
    }
    struct cfs_http_source_params p = {
        .url = url,
        .size = obj->size,
        .tls = &os->tls,
        .auth = &os->auth,
        .digest_algo = flags & CFS_OPEN_CHECKED ? NULL : obj->digest_algo,
        .digest_hex = flags & CFS_OPEN_CHECKED ? NULL : obj->digest_hex,
        .label = label,
        .lazy_stream = flags & CFS_OPEN_DECODE,
    };
    err = cfs_http_source_open(&p, out);
    free(url);
    free(label);
    /* Every view of an active image reads through the one block cache.
     * Not with md5, the checksum of older images: md5 collisions can be
     * made on purpose, and one tenant must not poison another's cache. */
    struct cfs_cache *bc = os->base.block_cache;
    if (!err && bc && obj->digest_algo && obj->digest_hex && strcmp(obj->digest_algo, "md5")) {
        struct cfs_source *cached;
        int (*open)(struct cfs_source *, struct cfs_cache *, const char *, const char *,
                    struct cfs_source **) =
            flags & CFS_OPEN_NO_FILL ? cfs_cache_source_open_stored : cfs_cache_source_open;
        if (open(*out, bc, obj->digest_algo, obj->digest_hex, &cached) == 0) {
            *out = cached;
            if (flags & CFS_OPEN_DECODE) /* a view's conversion wants the cores */
                cfs_cache_source_spare(cached);
        }
    }
    return err;
}

int glance_image_state(struct openstack *os, const char *id, char *status, size_t status_len,
                       struct cfs_object *out)
{
    char *base = NULL, *url;
    int err = openstack_image_url(os, &base);

    snprintf(status, status_len, "?");
    if (err)
        return err;
    url = cfs_printf("%s/v2/images/%s", base, id);
    free(base);
    if (!url)
        return -ENOMEM;
    struct cfs_http_req req = { .method = "GET", .url = url };
    struct cfs_http_resp resp;
    err = openstack_request(os, "show image", &req, &resp);
    free(url);
    if (!err) {
        json_t *img = openstack_json_load(resp.body, resp.body_len);
        const char *s = json_string_value(json_object_get(img, "status"));
        if (!json_is_object(img) || !s) {
            cfs_log_error("glance: cloud %s: image %s: not a JSON image record", os->base.name, id);
            err = -EIO;
        } else {
            snprintf(status, status_len, "%s", s);
            err = parse_image(img, 0, out);
            if (err && err != -EAGAIN) {
                cfs_object_clear(out);
                if (err != -ENOMEM)
                    err = -EIO;
            }
        }
        json_decref(img);
    }
    cfs_http_resp_free(&resp);
    return err;
}
