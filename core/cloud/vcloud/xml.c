/* XML from a vCD server, parsed as untrusted input (ref/vcd-api.md §0.1):
 * no network, no entity substitution, no DTD at all (the parser is
 * stopped at a DOCTYPE, before any entity is declared), a size bound.
 * Elements are matched by namespace URI and local name, never by prefix. */
#define _GNU_SOURCE
#include "vcloud.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#define MAX_XML_BYTES (16u << 20)

#ifndef XML_PARSE_NO_XXE
#define XML_PARSE_NO_XXE 0 /* libxml2 < 2.13: no external entity is loaded without DTDLOAD */
#endif

static void stop_at_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    xmlStopParser(ctx);
}

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

int vcd_xml_parse(const char *buf, size_t len, xmlDocPtr *out)
{
    *out = NULL;
    if (!buf || len == 0 || len > MAX_XML_BYTES)
        return -EPROTO;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    /* A DOCTYPE has no business in an API answer: its internal subset is
     * where entity bombs live, so the parse ends right there. */
    ctxt->sax->internalSubset = stop_at_dtd;
    ctxt->sax->externalSubset = stop_at_dtd;
    ctxt->sax->error = quiet;
    ctxt->sax->warning = quiet;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "vcd.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NO_XXE | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    bool ok = doc && ctxt->wellFormed && !ctxt->disableSAX && !doc->intSubset && !doc->extSubset &&
              xmlDocGetRootElement(doc);
    xmlFreeParserCtxt(ctxt);
    if (!ok) {
        xmlFreeDoc(doc);
        return -EPROTO;
    }
    *out = doc;
    return 0;
}

static bool matches(xmlNodePtr n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return false;
    if (!ns)
        return true;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr vcd_xml_child(xmlNodePtr n, const char *ns, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (matches(c, ns, name))
            return c;
    return NULL;
}

xmlNodePtr vcd_xml_next(xmlNodePtr after, const char *ns, const char *name)
{
    for (xmlNodePtr c = after ? after->next : NULL; c; c = c->next)
        if (matches(c, ns, name))
            return c;
    return NULL;
}

char *vcd_xml_attr(xmlNodePtr n, const char *name)
{
    if (!n)
        return NULL;
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    /* Copied with malloc so that callers free() it like every other string. */
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

char *vcd_xml_link(xmlNodePtr n, const char *rel, const char *type)
{
    for (xmlNodePtr l = vcd_xml_child(n, VCD_NS, "Link"); l; l = vcd_xml_next(l, VCD_NS, "Link")) {
        char *r = vcd_xml_attr(l, "rel"), *t = vcd_xml_attr(l, "type");
        bool hit = r && strcmp(r, rel) == 0 && (!type || (t && strcmp(t, type) == 0));
        free(r);
        free(t);
        if (hit)
            return vcd_xml_attr(l, "href");
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

char *vcd_xml_text(xmlNodePtr n)
{
    if (!n)
        return NULL;
    xmlChar *v = xmlNodeGetContent(n);
    if (!v)
        return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}
