/* libFuzzer target: XML from a hostile vCD server (vcloud provider):
 * any document through the safe parser, then read as a query page, a
 * SupportedVersions list, an Error, and as an export's descriptor that
 * gets its references renamed. */
#include "format.h"
#include "log.h"
#include "vcloud.h"

#include <stdlib.h>
#include <string.h>

static int record(void *ctx, xmlNodePtr rec)
{
    free(cfs_xml_attr(rec, "href"));
    free(vcd_xml_link(rec, "alternate", NULL));
    ++*(int *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        cfs_log_open("/dev/null", CFS_LOG_ERROR);
    const char *xml = (const char *)data;
    xmlDocPtr doc;
    if (vcd_xml_parse(xml, size, &doc) == 0) {
        uint64_t total;
        bool more;
        size_t n;
        int seen = 0;
        vcd_query_page(doc, record, &seen, &total, &more, &n);
        free(cfs_xml_text(xmlDocGetRootElement(doc)));
        xmlFreeDoc(doc);
    }
    char *v = NULL;
    const char *why;
    vcd_versions_pick(xml, size, NULL, &v, &why);
    free(v);

    /* Collected bodies are NUL-terminated (http.h). */
    char *body = malloc(size + 1);
    if (body) {
        memcpy(body, data, size);
        body[size] = '\0';
        struct vcd_cloud c = { .base.name = "fuzz", .url = "https://h" };
        struct cfs_http_resp r = { .status = 403, .body = body, .body_len = size };
        vcd_api_error(&c, "fuzz", &r);
        free(body);
    }

    struct ovf_info info;
    if (ovf_parse(xml, size, "fuzz", &info) == 0) {
        char *names[OVF_MAX_ITEMS];
        uint64_t sizes[OVF_MAX_ITEMS] = { 0 };
        char *out = NULL;
        size_t len;
        for (size_t i = 0; i < OVF_MAX_ITEMS; i++)
            names[i] = "x.vmdk";
        if (vcd_ovf_rename(xml, size, &info, names, sizes, &out, &len) == 0)
            free(out);
        ovf_info_free(&info);
    }
    return 0;
}
