/* JSON answers of OpenStack services, loaded whatever one record holds.
 * jansson refuses a whole document for a "\u0000" in an object key (even
 * with JSON_ALLOW_NUL) and for an unpaired surrogate escape, and Glance
 * (Python) stores and sends back NULs in names and property keys alike
 * ("\u0000nul", "k\u0000"): one shared image would make the listing of
 * every user unreadable. Such escapes are read as U+FFFD, the character
 * fs/names.c shows a control character as, so no NUL ever reaches a C
 * string and no record is cut short at one. */
#include "openstack.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The value of 4 hex digits at p, or -1. */
static long hex4(const char *p, size_t left)
{
    long v = 0;
    if (left < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

json_t *openstack_json_load(const char *body, size_t len)
{
    const char *s = body ? body : "";
    char *copy = NULL;

    if (!body)
        len = 0;
    /* A backslash is only ever inside a string in JSON and always starts
     * an escape, so reading escapes pairwise from the left needs no
     * string state: "\\u0000" is a backslash, then text. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        long c = s[i + 1] == 'u' ? hex4(s + i + 2, len - i - 2) : -1;
        size_t esc = 2;
        bool bad = false;
        if (c >= 0) {
            esc = 6;
            bad = c == 0 || (c >= 0xdc00 && c <= 0xdfff);
            if (c >= 0xd800 && c <= 0xdbff) {
                long lo = i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u'
                              ? hex4(s + i + 8, len - i - 8)
                              : -1;
                if (lo >= 0xdc00 && lo <= 0xdfff)
                    esc = 12;
                else
                    bad = true;
            }
        }
        /* Same length: the escape's digits are replaced in place, in a
         * copy made at the first one (the common answer is not copied). */
        if (bad && !copy) {
            copy = malloc(len);
            if (!copy)
                return NULL;
            memcpy(copy, s, len);
            s = copy;
        }
        if (bad)
            memcpy(copy + i + 2, "fffd", 4);
        i += esc - 1;
    }
    json_t *doc = json_loadb(s, len, 0, NULL);
    free(copy);
    return doc;
}
