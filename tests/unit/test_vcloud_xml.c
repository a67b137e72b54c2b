/* The vcloud provider's parsers of server XML: safe parsing, helpers,
 * version negotiation, query pages, Error documents, the renamed
 * descriptor; and the small string helpers (filter escaping, hrefs). */
#include "format.h"
#include "unit.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>

static xmlDocPtr parse(const char *s)
{
    xmlDocPtr d = NULL;
    return vcd_xml_parse(s, strlen(s), &d) == 0 ? d : NULL;
}

static void test_parse(void)
{
    xmlDocPtr d;
    /* Entities of a DOCTYPE are never expanded: the document is refused. */
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
                       "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>";
    CHECK(vcd_xml_parse(bomb, strlen(bomb), &d) == -EPROTO && !d);
    const char *xxe = "<!DOCTYPE x SYSTEM \"http://127.0.0.1:1/x.dtd\"><x/>";
    CHECK(vcd_xml_parse(xxe, strlen(xxe), &d) == -EPROTO);
    const char *ent = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>";
    CHECK(vcd_xml_parse(ent, strlen(ent), &d) == -EPROTO);
    CHECK(vcd_xml_parse("<a>", 3, &d) == -EPROTO);
    CHECK(vcd_xml_parse("", 0, &d) == -EPROTO);
    CHECK(vcd_xml_parse("not xml", 7, &d) == -EPROTO);
    d = parse("<a/>");
    CHECK(d != NULL);
    xmlFreeDoc(d);
}

static void test_helpers(void)
{
    /* Prefixes differ, namespaces decide. */
    xmlDocPtr d = parse("<v:Catalog xmlns:v=\"http://www.vmware.com/vcloud/v1.5\" name=\"a&amp;b\">"
                        "<Link xmlns=\"urn:other\" rel=\"add\" href=\"wrong\"/>"
                        "<v:Link rel=\"add\" type=\"t1\" href=\"h1\"/>"
                        "<v:Link rel=\"add\" type=\"t2\" href=\"h2\"/>"
                        "<v:Description>  text </v:Description></v:Catalog>");
    CHECK(d != NULL);
    if (!d)
        return;
    xmlNodePtr r = xmlDocGetRootElement(d);
    char *s;
    CHECK_STR(s = cfs_xml_attr(r, "name"), "a&b");
    free(s);
    CHECK(cfs_xml_attr(r, "missing") == NULL);
    CHECK_STR(s = vcd_xml_link(r, "add", "t2"), "h2");
    free(s);
    CHECK_STR(s = vcd_xml_link(r, "add", NULL), "h1");
    free(s);
    CHECK(vcd_xml_link(r, "remove", NULL) == NULL);
    CHECK(cfs_xml_child(r, VCD_NS, "Link") != NULL);
    CHECK(cfs_xml_child(r, "urn:other", "Link") != NULL);
    CHECK(cfs_xml_child(r, "urn:none", "Link") == NULL);
    xmlNodePtr l = cfs_xml_child(r, VCD_NS, "Link");
    CHECK(cfs_xml_next(l, VCD_NS, "Link") != NULL);
    CHECK(cfs_xml_next(cfs_xml_next(l, VCD_NS, "Link"), VCD_NS, "Link") == NULL);
    CHECK_STR(s = cfs_xml_text(cfs_xml_child(r, VCD_NS, "Description")), "  text ");
    free(s);
    xmlFreeDoc(d);

    CHECK_STR(s = vcd_xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
    free(s);
    CHECK_STR(s = vcd_query_value("a(b),c;d\\e f"), "a\\(b\\)\\,c\\;d\\\\e f");
    free(s);
}

static void test_versions(void)
{
    const char *doc = "<SupportedVersions xmlns=\"http://www.vmware.com/vcloud/versions\">"
                      "<VersionInfo deprecated=\"false\"><Version>31.0</Version></VersionInfo>"
                      "<VersionInfo deprecated=\"true\"><Version>36.3</Version></VersionInfo>"
                      "<VersionInfo deprecated=\"false\"><Version> 5.10 </Version></VersionInfo>"
                      "<VersionInfo deprecated=\"false\"><Version>5.9</Version></VersionInfo>"
                      "<VersionInfo deprecated=\"false\"><Version>40.0</Version></VersionInfo>"
                      "<VersionInfo deprecated=\"false\"><Version>37.x</Version></VersionInfo>"
                      "<AlphaVersion><Version>39.0.0-alpha</Version></AlphaVersion>"
                      "</SupportedVersions>";
    const char *why;
    char *v;
    CHECK(vcd_version_cmp("5.10", "5.9") > 0);
    CHECK(vcd_version_cmp("36", "36.0") == 0);
    CHECK(vcd_version_cmp("38.0", "37.2") > 0);
    CHECK(vcd_versions_pick(doc, strlen(doc), NULL, &v, &why) == 0);
    CHECK_STR(v, "31.0"); /* 40.0 is past the client, 36.3 deprecated */
    free(v);
    CHECK(vcd_versions_pick(doc, strlen(doc), "36.3", &v, &why) == 0);
    CHECK_STR(v, "36.3");
    free(v);
    CHECK(vcd_versions_pick(doc, strlen(doc), "33.0", &v, &why) == -EPROTO && !v);
    const char *old = "<SupportedVersions xmlns=\"http://www.vmware.com/vcloud/versions\">"
                      "<VersionInfo><Version>5.9</Version></VersionInfo>"
                      "<VersionInfo><Version>5.10</Version></VersionInfo></SupportedVersions>";
    CHECK(vcd_versions_pick(old, strlen(old), NULL, &v, &why) == 0);
    CHECK_STR(v, "5.10");
    free(v);
    const char *none = "<SupportedVersions xmlns=\"http://www.vmware.com/vcloud/versions\">"
                       "<VersionInfo><Version>1.5</Version></VersionInfo></SupportedVersions>";
    CHECK(vcd_versions_pick(none, strlen(none), NULL, &v, &why) == -EPROTO);
    CHECK(vcd_versions_pick("<x/>", 4, NULL, &v, &why) == -EPROTO);
}

static int count(void *ctx, xmlNodePtr rec)
{
    char *name = cfs_xml_attr(rec, "name");
    if (name && strcmp(name, "stop") == 0) {
        free(name);
        return -EINTR;
    }
    free(name);
    ++*(int *)ctx;
    return 0;
}

static void test_query_page(void)
{
    xmlDocPtr d =
        parse("<QueryResultRecords xmlns=\"http://www.vmware.com/vcloud/v1.5\" total=\"130\" "
              "pageSize=\"128\" page=\"1\">"
              "<Link rel=\"nextPage\" href=\"x\" "
              "type=\"application/vnd.vmware.vcloud.query.records+xml\"/>"
              "<CatalogRecord name=\"a\"/><CatalogItemRecord name=\"b\"/><Other name=\"c\"/>"
              "<CatalogRecord xmlns=\"urn:x\" name=\"d\"/></QueryResultRecords>");
    uint64_t total;
    bool more;
    size_t n;
    int seen = 0;
    CHECK(vcd_query_page(d, count, &seen, &total, &more, &n) == 0);
    CHECK(seen == 2 && n == 2 && total == 130 && more);
    xmlFreeDoc(d);

    d = parse("<QueryResultRecords xmlns=\"http://www.vmware.com/vcloud/v1.5\" total=\"-3\">"
              "<CatalogRecord name=\"stop\"/></QueryResultRecords>");
    seen = 0;
    CHECK(vcd_query_page(d, count, &seen, &total, &more, &n) == -EINTR);
    CHECK(total == 0 && !more);
    xmlFreeDoc(d);

    d = parse("<Error xmlns=\"http://www.vmware.com/vcloud/v1.5\"/>");
    CHECK(vcd_query_page(d, count, &seen, &total, &more, &n) == -EPROTO);
    xmlFreeDoc(d);
}

static void test_errors(void)
{
    CHECK(vcd_errno(400, "DUPLICATE_NAME", "The VCD entity x already exists.") == -EEXIST);
    CHECK(vcd_errno(400, "BUSY_ENTITY", "busy") == -EBUSY);
    CHECK(vcd_errno(400, "BAD_REQUEST", "bad") == -EINVAL);
    CHECK(vcd_errno(401, NULL, NULL) == -EACCES);
    CHECK(vcd_errno(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                    "The VCD entity com.vmware.vcloud.entity.org:1 does not exist.") == -ENOENT);
    CHECK(vcd_errno(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
                    "[ 1 ] Either you need some or all of the following rights [x] to perform "
                    "operations [y] for z or the target entity is invalid.") == -ENOENT);
    CHECK(vcd_errno(403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", "Access denied.") == -EACCES);
    CHECK(vcd_errno(403, NULL, NULL) == -ENOENT);
    CHECK(vcd_errno(404, NULL, NULL) == -ENOENT);
    CHECK(vcd_errno(500, "INTERNAL_SERVER_ERROR", "item already exists") == -EEXIST);
    CHECK(vcd_errno(503, NULL, NULL) == -EIO);

    /* vcd_api_error reads the Error document (and survives junk). */
    struct vcd_cloud c = { .base.name = "t" };
    const char *body = "<Error xmlns=\"http://www.vmware.com/vcloud/v1.5\" "
                       "minorErrorCode=\"DUPLICATE_NAME\" message=\"The VCD entity x already "
                       "exists.\" majorErrorCode=\"400\"/>";
    struct cfs_http_resp r = { .status = 400, .body = (char *)body, .body_len = strlen(body) };
    CHECK(vcd_api_error(&c, "upload", &r) == -EEXIST);
    r = (struct cfs_http_resp){ .status = 403, .body = "<<<", .body_len = 3 };
    CHECK(vcd_api_error(&c, "GET", &r) == -ENOENT);
    r = (struct cfs_http_resp){ .status = 401 };
    CHECK(vcd_api_error(&c, "GET", &r) == -EACCES);
}

static void test_hrefs(void)
{
    struct vcd_cloud c = { .url = "https://vcd.example.com:8443" };
    char id[80], *u;
    CHECK_STR(u = vcd_url(&c, "https://10.0.0.1/api/catalog/x?y=1"),
              "https://vcd.example.com:8443/api/catalog/x?y=1");
    free(u);
    CHECK_STR(u = vcd_url(&c, "/api/org/"), "https://vcd.example.com:8443/api/org/");
    free(u);
    CHECK_STR(u = vcd_url(&c, "https://evil"), "https://vcd.example.com:8443/");
    free(u);
    CHECK(vcd_url(&c, "file:///etc/passwd") == NULL);
    CHECK(vcd_url(&c, "/api/x\r\nInjected: 1") == NULL);

    CHECK(vcd_uuid_of("https://h/api/vAppTemplate/vappTemplate-984d71f9-d5f8-493c-81d1-"
                      "821a72fe347e",
                      id, sizeof id) == 0);
    CHECK_STR(id, "984d71f9-d5f8-493c-81d1-821a72fe347e");
    CHECK(vcd_uuid_of("https://h/api/catalog/39867ab4-04e0/", id, sizeof id) == 0);
    CHECK_STR(id, "39867ab4-04e0");
    CHECK(vcd_uuid_of("https://h/api/catalog/../x y", id, sizeof id) == -EINVAL);
    CHECK(vcd_uuid_of("", id, sizeof id) == -EINVAL);
}

static void test_rename(void)
{
    const char *ovf =
        "<?xml version=\"1.0\"?>\n"
        "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
        "xmlns:o=\"http://schemas.dmtf.org/ovf/envelope/1\">"
        "<References><File o:href=\"vm-1-disk-0.vmdk\" o:id=\"file1\" o:size=\"10\"/>"
        "<File o:href=\"nvram\" o:id=\"file2\"/>"
        "<File o:href=\"vm-1-disk-1.vmdk\" o:id=\"file3\" o:size=\"30\"/></References>"
        "<DiskSection><Info>d</Info>"
        "<Disk o:diskId=\"d2\" o:fileRef=\"file3\" o:capacity=\"1024\"/>"
        "<Disk o:diskId=\"d1\" o:fileRef=\"file1\" o:capacity=\"1024\"/></DiskSection>"
        "<VirtualSystem o:id=\"vm\"><Info>v</Info></VirtualSystem></Envelope>";
    struct ovf_info info;
    size_t idx[OVF_MAX_ITEMS];
    CHECK(ovf_parse(ovf, strlen(ovf), "test", &info) == 0);
    CHECK(vcd_ovf_disk_files(&info, idx) == 2);
    CHECK(idx[0] == 0 && idx[1] == 2);
    char *names[] = { "c7.vmdk", "c7-file2", "c7-disk2.vmdk" };
    uint64_t sizes[] = { 10, 5, 30 };
    char *out = NULL;
    size_t len = 0;
    CHECK(vcd_ovf_rename(ovf, strlen(ovf), &info, names, sizes, &out, &len) == 0);
    CHECK(out && strlen(out) == len);
    struct ovf_info again;
    CHECK(out && ovf_parse(out, len, "test", &again) == 0);
    if (again.n_files == 3) {
        CHECK_STR(again.files[0].href, "c7.vmdk");
        CHECK_STR(again.files[1].href, "c7-file2");
        CHECK(again.files[1].size == 5);
        CHECK_STR(again.files[2].href, "c7-disk2.vmdk");
        CHECK(again.files[2].size == 30);
    } else {
        CHECK(again.n_files == 3);
    }
    ovf_info_free(&again);
    free(out);
    ovf_info_free(&info);
}

int main(void)
{
    test_parse();
    test_helpers();
    test_versions();
    test_query_page();
    test_errors();
    test_hrefs();
    test_rename();
    return UNIT_RESULT();
}
