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

#endif
