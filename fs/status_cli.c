/* `cloudfs status MOUNTPOINT [--once]`: reads MOUNTPOINT/.cloudfs/status
 * (fs/status_file.c) and prints one row per transfer with a progress bar;
 * on a terminal it redraws every second until interrupted, otherwise it
 * prints once, for scripts. */
#include "status_cli.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546
#define BAR_WIDTH        20
#define PATH_MIN_WIDTH   16

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: cloudfs status MOUNTPOINT [--once]\n"
               "Shows the transfers of a cloudfs mount; refreshes every second on a\n"
               "terminal (until interrupted), else prints once.\n");
}

/* The whole status file: malloc'd text, or NULL with errno set. */
static char *read_status(const char *mnt)
{
    size_t plen = strlen(mnt) + sizeof "/.cloudfs/status";
    char *path = malloc(plen);
    if (!path)
        return NULL;
    snprintf(path, plen, "%s/.cloudfs/status", mnt);
    FILE *f = fopen(path, "re");
    free(path);
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (buf && bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

static void human(double bytes, char *out, size_t n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%.0f %s", bytes, units[u]);
    else
        snprintf(out, n, "%.1f %s", bytes, units[u]);
}

/* Columns a UTF-8 string takes (one per character: good enough for names). */
static size_t columns(const char *s)
{
    size_t c = 0;
    for (; *s; s++)
        c += ((unsigned char)*s & 0xc0) != 0x80;
    return c;
}

/* s for a terminal: control characters (a newline, an escape sequence in
 * a file name) shown as '?'; cut to its last max columns, marked "...". */
static void put_field(const char *s, size_t max, size_t width)
{
    size_t cols = columns(s);
    if (cols > max && max > 3) {
        size_t skip = cols - (max - 3);
        fputs("...", stdout);
        for (; *s && skip; s++)
            if (((unsigned char)s[1] & 0xc0) != 0x80)
                skip--;
        cols = max;
    }
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    for (; cols < width; cols++)
        putchar(' ');
}

static const char *str_of(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static double num_of(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

struct rows {
    json_t **v;
    size_t n;
};

/* The lines as JSON objects; unparsable lines are skipped. */
static int parse(char *text, struct rows *r)
{
    size_t cap = 16;
    r->n = 0;
    r->v = malloc(cap * sizeof *r->v);
    if (!r->v)
        return -ENOMEM;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        if (r->n == cap) {
            json_t **nv = realloc(r->v, 2 * cap * sizeof *nv);
            if (!nv) {
                json_decref(o);
                return -ENOMEM;
            }
            r->v = nv;
            cap *= 2;
        }
        r->v[r->n++] = o;
    }
    return 0;
}

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->v[i]);
    free(r->v);
}

static void print_table(const struct rows *r, size_t term_cols)
{
    /* Everything but the path and the error takes 90 columns. */
    size_t path_w = 4;
    for (size_t i = 0; i < r->n; i++) {
        size_t c = columns(str_of(r->v[i], "path", ""));
        if (c > path_w)
            path_w = c;
    }
    if (term_cols && path_w + 90 > term_cols)
        path_w = term_cols > 90 + PATH_MIN_WIDTH ? term_cols - 90 : PATH_MIN_WIDTH;

    put_field("PATH", path_w, path_w);
    printf("  %-6s  %21s  %4s  %-*s  %12s  %-9s  %s\n", "DIR", "DONE / TOTAL", "%", BAR_WIDTH + 2,
           "PROGRESS", "RATE", "STATE", "ERROR");
    if (r->n == 0)
        printf("(no transfers)\n");
    for (size_t i = 0; i < r->n; i++) {
        json_t *o = r->v[i];
        double done = num_of(o, "done"), total = num_of(o, "total");
        const char *state = str_of(o, "state", "?");
        double frac = total > 0 ? done / total : strcmp(state, "done") == 0;
        if (frac > 1)
            frac = 1;
        char d[16], t[16], rate[24], bar[BAR_WIDTH + 3];
        human(done, d, sizeof d);
        human(total, t, sizeof t);
        human(num_of(o, "rate"), rate, sizeof rate - 2);
        strcat(rate, "/s");
        int filled = (int)(frac * BAR_WIDTH);
        bar[0] = '[';
        for (int k = 0; k < BAR_WIDTH; k++)
            bar[k + 1] = k < filled ? '#' : '-';
        bar[BAR_WIDTH + 1] = ']';
        bar[BAR_WIDTH + 2] = '\0';

        put_field(str_of(o, "path", "?"), path_w, path_w);
        const char *error = str_of(o, "error", "");
        printf("  %-6s  %10s/%-10s  %3d%%  %s  %12s  %-*s", str_of(o, "direction", "?"), d, t,
               (int)(frac * 100), bar, rate, *error ? 11 : 0, state);
        put_field(error, 200, 0);
        putchar('\n');
    }
}

int cfs_status_main(int argc, char **argv)
{
    const char *mnt = NULL;
    bool once = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (!mnt && argv[i][0] != '-') {
            mnt = argv[i];
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (!mnt) {
        usage(stderr);
        return 1;
    }
    struct statfs sf;
    if (statfs(mnt, &sf) != 0) {
        fprintf(stderr, "cloudfs status: %s: %s\n", mnt, strerror(errno));
        return 1;
    }
    char *text = sf.f_type == FUSE_SUPER_MAGIC ? read_status(mnt) : NULL;
    if (!text) {
        fprintf(stderr, "cloudfs status: %s is not a cloudfs mount\n", mnt);
        return 1;
    }

    bool tty = isatty(STDOUT_FILENO);
    bool repeat = tty && !once;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int ret = 0;
    for (;;) {
        struct rows r = { 0 };
        size_t cols = 0;
        struct winsize ws;
        if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
            cols = ws.ws_col;
        if (parse(text, &r) != 0) {
            fprintf(stderr, "cloudfs status: out of memory\n");
            rows_free(&r);
            ret = 1;
            break;
        }
        if (repeat)
            fputs("\033[H\033[2J", stdout); /* home, clear the screen */
        print_table(&r, cols);
        rows_free(&r);
        fflush(stdout);
        free(text);
        text = NULL;
        if (!repeat)
            break;
        /* nanosleep ends early on a signal: ^C answers at once. */
        struct timespec second = { 1, 0 };
        if (stop || (nanosleep(&second, NULL) != 0 && stop))
            break;
        text = read_status(mnt);
        if (!text) {
            fprintf(stderr, "cloudfs status: %s: %s (unmounted?)\n", mnt, strerror(errno));
            ret = 1;
            break;
        }
    }
    free(text);
    return ret;
}
