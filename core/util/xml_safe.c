/* Untrusted XML (include/xml_safe.h): the rule of ref/vcd-api.md §0.1,
 * one parser setup for every reader. A DOCTYPE has no business in an API
 * answer or an OVF descriptor, so the SAX handlers of the DOCTYPE stop the
 * parser: nothing of the internal subset is parsed, no entity declared. */
#include "xml_safe.h"

#include <errno.h>
#include <libxml/parser.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef XML_PARSE_NO_XXE
#define XML_PARSE_NO_XXE 0 /* libxml2 < 2.13: no external entity is loaded without DTDLOAD */
#endif

static char saw_dtd; /* its address marks a parse stopped at a DOCTYPE */

static void stop_at_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    xmlParserCtxtPtr ctxt = ctx;
    (void)name, (void)ext, (void)sys;
    ctxt->_private = &saw_dtd;
    xmlStopParser(ctxt);
}

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

int cfs_xml_read(const char *buf, size_t len, const char *url, int options, xmlDocPtr *out,
                 const char **why)
{
    const char *reason = "not XML";
    int err = -EPROTO;

    *out = NULL;
    if (!buf || len == 0 || len > INT_MAX) {
        if (why)
            *why = reason;
        return -EPROTO;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    ctxt->sax->internalSubset = stop_at_dtd;
    ctxt->sax->externalSubset = stop_at_dtd;
    ctxt->sax->error = quiet;
    ctxt->sax->warning = quiet;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, url, NULL,
                                      options | XML_PARSE_NONET | XML_PARSE_NO_XXE |
                                          XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (ctxt->_private == &saw_dtd || (doc && (doc->intSubset || doc->extSubset)))
        reason = "it has a DOCTYPE";
    else if (doc && ctxt->wellFormed && !ctxt->disableSAX && xmlDocGetRootElement(doc))
        err = 0;
    xmlFreeParserCtxt(ctxt);
    if (err) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    if (err && why)
        *why = reason;
    *out = doc;
    return err;
}

static bool matches(xmlNodePtr n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || (name && strcmp((const char *)n->name, name) != 0))
        return false;
    if (!ns)
        return true;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr cfs_xml_child(xmlNodePtr n, const char *ns, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (matches(c, ns, name))
            return c;
    return NULL;
}

xmlNodePtr cfs_xml_next(xmlNodePtr after, const char *ns, const char *name)
{
    for (xmlNodePtr c = after ? after->next : NULL; c; c = c->next)
        if (matches(c, ns, name))
            return c;
    return NULL;
}

char *cfs_xml_attr(xmlNodePtr n, const char *name)
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

char *cfs_xml_text(xmlNodePtr n)
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
