/* Helpers of the decoders' unit tests: a scratch directory, shell commands
 * run in it (qemu-img makes and judges the images), a random number
 * source, and the log read back to count refusals. The test defines
 * `static char dir[]` (a mkdtemp template) and `static char log_path[]`
 * before including this. */
#ifndef CFS_IMGTEST_H
#define CFS_IMGTEST_H

#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMGTEST_UNUSED __attribute__((unused))

static long log_seen IMGTEST_UNUSED;
static char log_last[4096] IMGTEST_UNUSED;
static uint64_t rng IMGTEST_UNUSED = 0x9e3779b97f4a7c15ull;

static IMGTEST_UNUSED uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A path in the test directory; a ring of buffers so a few can be alive. */
static IMGTEST_UNUSED const char *P(const char *name)
{
    static char ring[8][PATH_MAX];
    static unsigned next;
    char *p = ring[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%.200s", dir, name);
    return p;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));

/* Runs a shell command in the test directory; its exit status. */
static int sh(const char *fmt, ...)
{
    char *cmd, *full;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&full, "cd %s && %s", dir, cmd) < 0)
        abort();
    int rc = system(full);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    free(cmd);
    free(full);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- the log: every refusal is exactly one line naming the image ---- */

static IMGTEST_UNUSED void log_skip(void)
{
    struct stat st;
    log_seen = stat(log_path, &st) == 0 ? (long)st.st_size : 0;
}

/* Lines logged since the last call; *named: how many mention label. */
static IMGTEST_UNUSED int log_lines(const char *label, int *named)
{
    FILE *f = fopen(log_path, "r");
    char line[4096];
    int n = 0;
    *named = 0;
    if (!f)
        return 0;
    fseek(f, log_seen, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        n++;
        snprintf(log_last, sizeof log_last, "%s", line);
        if (strstr(line, label))
            (*named)++;
    }
    log_seen = ftell(f);
    fclose(f);
    return n;
}

#endif
