/* XML from a vCD server, parsed as untrusted input (ref/vcd-api.md §0.1):
 * no network, no entity substitution, no DTD at all (include/xml_safe.h:
 * the parser is stopped at a DOCTYPE, before any entity is declared), a
 * size bound.
 * Elements are matched by namespace URI and local name, never by prefix. */
#define _GNU_SOURCE
#include "util.h"
#include "vcloud.h"
#include "xml_safe.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#define MAX_XML_BYTES (16u << 20)

int vcd_xml_parse(const char *buf, size_t len, xmlDocPtr *out)
{
    *out = NULL;
    if (!buf || len == 0 || len > MAX_XML_BYTES)
        return -EPROTO;
    return cfs_xml_read(buf, len, "vcd.xml", XML_PARSE_NOCDATA, out, NULL);
}

char *vcd_xml_link(xmlNodePtr n, const char *rel, const char *type)
{
    for (xmlNodePtr l = cfs_xml_child(n, VCD_NS, "Link"); l; l = cfs_xml_next(l, VCD_NS, "Link")) {
        char *r = cfs_xml_attr(l, "rel"), *t = cfs_xml_attr(l, "type");
        bool hit = r && strcmp(r, rel) == 0 && (!type || (t && strcmp(t, type) == 0));
        free(r);
        free(t);
        if (hit)
            return cfs_xml_attr(l, "href");
    }
    return NULL;
}

char *vcd_xml_escape(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += strchr("&<>\"'", *p) ? 6 : 1;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p; p++) {
        const char *e = NULL;
        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        }
        if (e) {
            memcpy(o, e, strlen(e));
            o += strlen(e);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

char *vcd_xml_named(const char *element, const char *attrs, const char *name,
                    const char *description)
{
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return NULL; /* XML 1.0 cannot carry them */
    char *n = vcd_xml_escape(name), *d = vcd_xml_escape(description), *out = NULL;
    if (n && d)
        out = cfs_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<%s xmlns=\"" VCD_NS "\" name=\"%s\"%s%s>\n"
                         "    <Description>%s</Description>\n"
                         "</%s>\n",
                         element, n, *attrs ? " " : "", attrs, d, element);
    free(n);
    free(d);
    return out;
}
