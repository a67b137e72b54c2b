/* The warnings a hardware mapping gathers (ovf_map.c: Glance -> OVF,
 * ovf_glance.c: OVF -> Glance), joined with "; ", and how they quote the
 * text of an untrusted property or descriptor. */
#ifndef CFS_OVF_WARN_H
#define CFS_OVF_WARN_H

#include <stddef.h>

struct ovf_warnings {
    char *text; /* malloc'd, NULL while there is none */
    size_t len;
    int err; /* -ENOMEM once a warning could not be kept */
};

void ovf_warn(struct ovf_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* v as a warning may show it: printable ASCII, at most 40 bytes then "...". */
void ovf_shown(const char *v, char out[48]);

#endif
