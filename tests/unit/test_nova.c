/* Nova's answers (nova.c): server pages in both flavor shapes, flavors,
 * createImage answers, snapshot names; no network. */
#include "nova.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int flavor_calls;

/* What GET /flavors/{id} would answer for the one flavor it knows. */
static int fake_flavor(void *ctx, const char *id, struct cfs_vm_hw *hw, char **name)
{
    (void)ctx;
    flavor_calls++;
    if (strcmp(id, "f2") != 0)
        return -ENOENT;
    hw->cpus = 2;
    hw->memory_mb = 4096;
    hw->disk_gb = 20;
    *name = strdup("m1.medium");
    return 0;
}

static int parse(const char *body, struct cfs_object_list *l, char **next)
{
    size_t cap = 0;
    memset(l, 0, sizeof *l);
    return nova_parse_page(body, strlen(body), fake_flavor, NULL, l, &cap, next);
}

static void test_page(void)
{
    struct cfs_object_list l;
    char *next = NULL;
    const char *page =
        "{\"servers\": ["
        " {\"id\": \"6bfa1da1-59c6\", \"name\": \"web1\", \"status\": \"ACTIVE\","
        "  \"created\": \"2026-11-22T09:37:01Z\", \"updated\": \"2026-11-22T09:38:01Z\","
        "  \"image\": {\"id\": \"img-1\", \"links\": []},"
        "  \"addresses\": {\"private\": [{\"addr\": \"10.0.0.5\", \"version\": 4}]},"
        "  \"flavor\": {\"vcpus\": 1, \"ram\": 2048, \"disk\": 10, \"original_name\": "
        "\"m1.small\"}},"
        " {\"id\": \"77aa\", \"name\": \"db1\", \"status\": \"SHUTOFF\", \"image\": \"\","
        "  \"flavor\": {\"id\": \"f2\", \"links\": []}},"
        " {\"id\": \"bad/id\", \"name\": \"x\"},"
        " {\"id\": \"88bb\", \"name\": \"gone\", \"flavor\": {\"id\": \"f9\"}}"
        "], \"servers_links\": [{\"rel\": \"next\", "
        "\"href\": \"http://evil.example/v2.1/servers/detail?limit=5&marker=88bb\"}]}";

    CHECK(parse(page, &l, &next) == 0);
    CHECK(l.n == 3);
    if (l.n == 3) {
        const struct cfs_object *w = &l.v[0], *d = &l.v[1], *g = &l.v[2];
        CHECK_STR(w->name, "web1");
        CHECK_STR(w->ext, "qcow2");
        CHECK(w->size_at_open && !w->immutable && w->size == 0);
        CHECK(w->mtime.tv_sec == 1795340281 && w->ctime.tv_sec == 1795340221);
        CHECK(w->hw.cpus == 1 && w->hw.memory_mb == 2048 && w->hw.disk_gb == 10);
        CHECK_STR(cfs_object_xattr(w, "user.cloudfs.id"), "6bfa1da1-59c6");
        CHECK_STR(cfs_object_xattr(w, "user.nova.id"), "6bfa1da1-59c6");
        CHECK_STR(cfs_object_xattr(w, "user.nova.status"), "ACTIVE");
        CHECK_STR(cfs_object_xattr(w, "user.nova.flavor.name"), "m1.small");
        CHECK_STR(cfs_object_xattr(w, "user.nova.flavor.vcpus"), "1");
        CHECK_STR(cfs_object_xattr(w, "user.nova.flavor.ram"), "2048");
        CHECK_STR(cfs_object_xattr(w, "user.nova.flavor.disk"), "10");
        CHECK_STR(cfs_object_xattr(w, "user.nova.image"), "img-1");
        CHECK_STR(cfs_object_xattr(w, "user.nova.addresses"),
                  "{\"private\":[{\"addr\":\"10.0.0.5\",\"version\":4}]}");
        /* An older Nova: the flavor by id. */
        CHECK(d->hw.cpus == 2 && d->hw.memory_mb == 4096 && d->hw.disk_gb == 20);
        CHECK_STR(cfs_object_xattr(d, "user.nova.flavor.name"), "m1.medium");
        CHECK_STR(cfs_object_xattr(d, "user.nova.image"), "");
        /* A flavor that cannot be found: no hardware, still listed. */
        CHECK_STR(g->name, "gone");
        CHECK(g->hw.cpus == 0 && cfs_object_xattr(g, "user.nova.flavor.vcpus") == NULL);
    }
    CHECK(flavor_calls == 2);
    /* Only the query of the next link is kept. */
    CHECK_STR(next, "?limit=5&marker=88bb");
    free(next);
    cfs_object_list_free(&l);

    CHECK(parse("{\"servers\": [], \"servers_links\": [{\"rel\": \"next\", \"href\": \"/x?y\"}]}",
                &l, &next) == 0);
    CHECK(l.n == 0 && next == NULL);
    CHECK(parse("{\"servers\": [{\"id\": \"a\", \"name\": \"a\"}]}", &l, &next) == 0);
    CHECK(l.n == 1 && next == NULL);
    cfs_object_list_free(&l);
    /* A NUL in a name is U+FFFD; a name of the wrong type skips that
     * server only. */
    CHECK(parse("{\"servers\": [{\"id\": \"a\", \"name\": \"\\u0000x\"}, {\"id\": \"b\", "
                "\"name\": [1]}, {\"id\": \"c\", \"name\": \"c\", \"k\\u0000\": 1}]}",
                &l, &next) == 0);
    CHECK(l.n == 2 && strcmp(l.v[0].name, "\xef\xbf\xbdx") == 0 && strcmp(l.v[1].id, "c") == 0);
    cfs_object_list_free(&l);
    CHECK(parse("{\"servers\": {}}", &l, &next) == -EPROTO);
    CHECK(parse("<html>500</html>", &l, &next) == -EPROTO);
}

static void test_flavor(void)
{
    struct cfs_vm_hw hw = { 0 };
    char *name = NULL;
    const char *f = "{\"flavor\": {\"id\": \"1\", \"name\": \"m1.tiny\", \"vcpus\": 1, "
                    "\"ram\": 512, \"disk\": 1}}";
    CHECK(nova_parse_flavor(f, strlen(f), &hw, &name) == 0);
    CHECK(hw.cpus == 1 && hw.memory_mb == 512 && hw.disk_gb == 1);
    CHECK_STR(name, "m1.tiny");
    free(name);
    CHECK(nova_parse_flavor("{}", 2, &hw, &name) == -EPROTO);
}

static void test_snapshot_answers(void)
{
    char *id;
    const char *b = "{\"image_id\": \"0e7761e2-7d55\"}";
    CHECK_STR(id = nova_snapshot_id(b, strlen(b), NULL), "0e7761e2-7d55");
    free(id);
    CHECK_STR(id = nova_snapshot_id(NULL, 0, "http://glance:9292/v2/images/abc-1\r"), "abc-1");
    free(id);
    CHECK_STR(id = nova_snapshot_id("", 0, "http://g/images/abc-2/"), "abc-2");
    free(id);
    CHECK(nova_snapshot_id("{}", 2, NULL) == NULL);
    CHECK(nova_snapshot_id("{\"image_id\": \"../x\"}", 19, NULL) == NULL);

    char *n = nova_snapshot_name("web1", 1795340221);
    CHECK_STR(n, "web1-snapshot-20261122T093701Z");
    free(n);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    n = nova_snapshot_name(longname, 0);
    CHECK(n && strlen(n) == 200 + strlen("-snapshot-19700101T000000Z"));
    free(n);
}

int main(void)
{
    test_page();
    test_flavor();
    test_snapshot_answers();
    return UNIT_RESULT();
}
