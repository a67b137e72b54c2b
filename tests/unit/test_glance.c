/* Glance listing pages: what is shown, what is skipped, hostile input. */
#include "openstack.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

static int parse(const char *json, struct cfs_object_list *l, char **next)
{
    size_t cap = 0;
    memset(l, 0, sizeof *l);
    return glance_parse_page(json, strlen(json), l, &cap, next);
}

int main(void)
{
    struct cfs_object_list l;
    char *next;

    int err =
        parse("{\"images\": ["
              "{\"id\": \"6bfa1da1-59c6\", \"name\": \"a/b\", \"status\": \"active\","
              " \"disk_format\": \"qcow2\", \"container_format\": \"bare\", \"size\": 20,"
              " \"created_at\": \"2026-11-22T09:37:01Z\","
              " \"updated_at\": \"2026-11-22T09:38:01Z\","
              " \"os_hash_algo\": \"sha512\", \"os_hash_value\": \"abcd\","
              " \"checksum\": \"ef\"},"
              "{\"id\": \"q1\", \"name\": \"queued\", \"status\": \"queued\", \"size\": null},"
              "{\"id\": \"../etc\", \"name\": \"evil\", \"status\": \"active\", \"size\": 1},"
              "{\"id\": \"o1\", \"name\": null, \"status\": \"active\", \"size\": 5,"
              " \"disk_format\": \"vmdk\", \"container_format\": \"ova\", \"checksum\": \"ff\"},"
              "{\"id\": \"w1\", \"name\": \"weird\", \"status\": \"active\", \"size\": 5,"
              " \"disk_format\": \"Q/../x\"},"
              "{\"id\": \"n1\", \"name\": \"neg\", \"status\": \"active\", \"size\": -5},"
              "7, null, [\"x\"]"
              "], \"next\": \"/v2/images?limit=2&marker=o1\"}",
              &l, &next);
    CHECK(err == 0);
    CHECK(l.n == 3);
    if (l.n == 3) {
        CHECK_STR(l.v[0].id, "6bfa1da1-59c6");
        CHECK_STR(l.v[0].name, "a/b");
        CHECK_STR(l.v[0].ext, "qcow2");
        CHECK(l.v[0].size == 20 && l.v[0].immutable);
        CHECK(l.v[0].mtime.tv_sec == 1795340221 && l.v[0].ctime.tv_sec == 1795340281);
        CHECK_STR(l.v[0].digest_algo, "sha512");
        CHECK_STR(l.v[0].digest_hex, "abcd");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.glance.name"), "a/b");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.glance.size"), "20");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.cloudfs.id"), "6bfa1da1-59c6");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.cloudfs.digest"), "sha512:abcd");
        CHECK(cfs_object_xattr(&l.v[0], "user.glance.nope") == NULL);
        CHECK_STR(l.v[1].name, "");
        CHECK_STR(l.v[1].ext, "ova");
        CHECK_STR(l.v[1].digest_algo, "md5");
        CHECK_STR(l.v[2].ext, "img");
    }
    /* Only the query of "next" is kept: the token never goes elsewhere. */
    CHECK_STR(next, "?limit=2&marker=o1");
    free(next);
    cfs_object_list_free(&l);

    CHECK(parse("{\"images\": [], \"next\": \"/v2/images?x\"}", &l, &next) == 0);
    CHECK(l.n == 0 && next == NULL);
    CHECK(parse("{\"images\": {}}", &l, &next) == -EPROTO);
    CHECK(parse("<html>500</html>", &l, &next) == -EPROTO);
    CHECK(parse("", &l, &next) == -EPROTO);
    CHECK(parse("{\"images\": [{\"id\": \"x\", \"status\": \"active\", \"size\": 1e30}]}", &l,
                &next) == 0 &&
          l.n == 0);
    cfs_object_list_free(&l);

    /* One odd image hides nothing else: a NUL (in a name or a property
     * key) and unpaired surrogates read as U+FFFD, an escaped backslash
     * is text, a pair stays; an entry of wrong types is skipped alone. */
    err = parse("{\"images\": ["
                "{\"id\": \"n1\", \"name\": \"\\u0000nul\", \"status\": \"active\", \"size\": 1,"
                " \"k\\u0000\": \"v\\u0000w\"},"
                "{\"id\": \"n2\", \"name\": \"a\\\\u0000b\", \"status\": \"active\", \"size\": 1},"
                "{\"id\": \"n3\", \"name\": \"\\ud800x\\udc00\\ud83d\\ude00\\uD800\", \"status\":"
                " \"active\", \"size\": 1},"
                "{\"id\": \"n4\", \"name\": 5, \"status\": \"active\", \"size\": 1},"
                "{\"id\": \"n5\", \"name\": \"x\", \"status\": 7, \"size\": 1},"
                "{\"id\": 9, \"name\": \"\\u0000\", \"status\": \"active\", \"size\": 1},"
                "{\"id\": \"n6\", \"name\": \"plain\", \"status\": \"active\", \"size\": 1}"
                "]}",
                &l, &next);
    CHECK(err == 0);
    CHECK(l.n == 4);
    if (l.n == 4) {
        CHECK_STR(l.v[0].name, "\xef\xbf\xbdnul");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.glance.name"), "\xef\xbf\xbdnul");
        CHECK_STR(cfs_object_xattr(&l.v[0], "user.glance.k\xef\xbf\xbd"), "v\xef\xbf\xbdw");
        CHECK_STR(l.v[1].name, "a\\u0000b");
        CHECK_STR(l.v[2].name, "\xef\xbf\xbdx\xef\xbf\xbd\xf0\x9f\x98\x80\xef\xbf\xbd");
        CHECK_STR(l.v[3].name, "plain");
    }
    free(next);
    cfs_object_list_free(&l);
    return UNIT_RESULT();
}
