/* XML from outside (a vCD server's answers, an OVF a user brings) parsed
 * as untrusted input: no network, no entity substitution and no DTD at
 * all. The parse ends at a DOCTYPE, before any of its internal subset
 * (where entity bombs are declared) is read. */
#ifndef CFS_XML_SAFE_H
#define CFS_XML_SAFE_H

#include <libxml/tree.h>
#include <stddef.h>

/* Parses the len bytes at buf (url names them in libxml2's own state)
 * with XML_PARSE_NONET, no XXE, no error output, plus options, into *out
 * (free with xmlFreeDoc). 0, -EPROTO (a DOCTYPE, not well-formed, no root
 * element) with *why saying which (a static phrase; why may be NULL),
 * -ENOMEM. */
int cfs_xml_read(const char *buf, size_t len, const char *url, int options, xmlDocPtr *out,
                 const char **why);

/* The first child element of n named name (any element when name is
 * NULL) in namespace ns (any namespace when ns is NULL), or NULL;
 * cfs_xml_next the next such sibling after one. */
xmlNodePtr cfs_xml_child(xmlNodePtr n, const char *ns, const char *name);
xmlNodePtr cfs_xml_next(xmlNodePtr after, const char *ns, const char *name);
/* An attribute's value (no namespace), or the text content of n:
 * malloc'd (free()), or NULL. */
char *cfs_xml_attr(xmlNodePtr n, const char *name);
char *cfs_xml_text(xmlNodePtr n);

#endif
