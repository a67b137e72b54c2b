/* Warnings of the hardware mappings (ovf_warn.h). */
#define _GNU_SOURCE
#include "ovf_warn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ovf_warn(struct ovf_warnings *w, const char *fmt, ...)
{
    char *msg = NULL, *t = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n >= 0)
        t = realloc(w->text, w->len + 2 + (size_t)n + 1);
    if (!t) {
        free(n >= 0 ? msg : NULL);
        w->err = -ENOMEM;
        return;
    }
    if (w->len) {
        memcpy(t + w->len, "; ", 2);
        w->len += 2;
    }
    memcpy(t + w->len, msg, (size_t)n + 1);
    w->len += (size_t)n;
    w->text = t;
    free(msg);
}

void ovf_shown(const char *v, char out[48])
{
    size_t n = 0;
    for (; v[n] && n < 40; n++)
        out[n] = v[n] >= 0x20 && v[n] < 0x7f ? v[n] : '?';
    if (v[n]) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}
