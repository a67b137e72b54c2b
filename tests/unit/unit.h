/* A tiny unit-test harness: CHECK records failures, main returns 1 if any. */
#ifndef CFS_UNIT_H
#define CFS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            unit_failures++;                                                         \
        }                                                                            \
    } while (0)

#define CHECK_STR(a, b)                                                                      \
    do {                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                             \
            fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                                     \
            unit_failures++;                                                                 \
        }                                                                                    \
    } while (0)

#define UNIT_RESULT() (unit_failures ? 1 : 0)

#endif
