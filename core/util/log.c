/* Logging backend: timestamped lines to a file or stderr, or syslog when
 * the daemon has detached and no file was given. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static FILE *log_file;
static int use_syslog;
static enum cfs_log_level log_level = CFS_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int cfs_log_level_parse(const char *s, enum cfs_log_level *out)
{
    for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum cfs_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

int cfs_log_open(const char *path, enum cfs_log_level level)
{
    log_level = level;
    if (path) {
        /* The log names clouds, users and images: for the owner only. A
         * symbolic link put in its place (in /tmp, say) is refused, not
         * followed to a file of someone else's choosing. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return -errno;
        FILE *f = fdopen(fd, "a");
        if (!f) {
            int err = -errno;
            close(fd);
            return err;
        }
        setvbuf(f, NULL, _IOLBF, 0);
        log_file = f;
    }
    return 0;
}

void cfs_log_use_syslog(void)
{
    if (log_file)
        return;
    openlog("cloudfs", LOG_PID, LOG_DAEMON);
    use_syslog = 1;
}

int cfs_log_enabled(enum cfs_log_level level)
{
    return level <= log_level;
}

void cfs_log(enum cfs_log_level level, const char *fmt, ...)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    char msg[2048];
    va_list ap;

    if (level > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Names and messages come from clouds: one event, one line. */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';

    if (use_syslog && !log_file) {
        syslog(prio[level], "%s", msg);
        return;
    }

    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    fprintf(log_file ? log_file : stderr, "%s.%03ldZ cloudfs %s: %s\n", when, ts.tv_nsec / 1000000,
            level_names[level], msg);
    pthread_mutex_unlock(&log_lock);
}
