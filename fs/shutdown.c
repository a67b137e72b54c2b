/* SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by one
 * thread with sigwait, so that the waiting happens outside any signal
 * handler and the FUSE loop keeps serving requests (the uploads' own
 * close() among them) meanwhile. Once the uploads are over, cloudfs
 * unmounts as soon as the kernel agrees (no file open: `cp` closes its
 * source after the target whose close() waited for the upload), so the
 * loop ends as after fusermount3 -u. Should files stay open, the loop is
 * told to exit and libfuse detaches the mount (lazily): its main thread
 * sleeps in sem_wait (or read in single-threaded mode), which only a
 * signal interrupts: SIGUSR1 to it, with a handler that does nothing,
 * wakes it to see the exit flag. */
#define _GNU_SOURCE
#include "shutdown.h"
#include "log.h"
#include "transfers.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long cancelled uploads get to remove what they made. */
#define CANCEL_GRACE_S 120
/* How long files may stay open after the uploads before the lazy
 * unmount, and the pause between attempts. */
#define IDLE_GRACE_S 5
#define IDLE_POLL_S  0.1
/* The wake-up of the stop thread once the loop is over without a signal. */
#define SIG_LOOP_OVER SIGUSR2

struct cfs_shutdown {
    struct fuse_session *se;
    char *mountpoint;
    unsigned timeout_s;
    sigset_t set;
    pthread_t thread, main;
    atomic_bool loop_over;
};

static void wake(int sig)
{
    (void)sig;
}

/* The next signal of the set, or 0 when none is pending. */
static int pending(struct cfs_shutdown *s)
{
    struct timespec zero = { 0, 0 };
    int sig = sigtimedwait(&s->set, NULL, &zero);
    return sig > 0 ? sig : 0;
}

/* Waits for the uploads in progress; past the timeout or at a second
 * signal cancels them and waits for their clean-up. */
static void finish_or_cancel(struct cfs_shutdown *s)
{
    double end = cfs_now() + s->timeout_s;
    const char *why;

    for (;;) {
        double left = end - cfs_now();
        if (cfs_transfers_wait(left > 1 ? 1 : left > 0 ? left : 0))
            return;
        int sig = pending(s);
        if (sig == SIG_LOOP_OVER)
            return; /* the loop's threads are gone: nothing of ours runs */
        if (sig) {
            why = "a second signal";
            break;
        }
        if (cfs_now() >= end) {
            why = "unmount_timeout";
            break;
        }
    }
    cfs_log_warn("%s: cancelling %zu upload(s) in progress", why, cfs_transfers_active());
    cfs_transfers_cancel_all();
    if (cfs_transfers_wait(CANCEL_GRACE_S))
        cfs_log_info("cancelled uploads cleaned up");
    else
        cfs_log_error("%zu cancelled upload(s) still cleaning up after %d s; cloudfs exits when "
                      "they end",
                      cfs_transfers_active(), CANCEL_GRACE_S);
}

/* fusermount3 -u (not lazy): true once unmounted; the kernel refuses
 * while a file of the mount is open. */
static bool unmount_now(const char *mountpoint)
{
    char *const argv[] = { "fusermount3", "-u", "-q", (char *)mountpoint, NULL };
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;

    if (posix_spawn_file_actions_init(&fa) != 0)
        return false;
    /* Its "busy" message is expected: not for the log or the terminal. */
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int err = posix_spawnp(&pid, "fusermount3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0)
        return false;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void *stop_main(void *arg)
{
    struct cfs_shutdown *s = arg;
    int sig = 0;

    do {
        if (sigwait(&s->set, &sig) != 0)
            return NULL;
        if (atomic_load(&s->loop_over))
            return NULL;
    } while (sig == SIG_LOOP_OVER);
    size_t n = cfs_transfers_active();
    if (n)
        cfs_log_info("%s: finishing %zu upload(s) before unmounting (unmount_timeout %u s)",
                     strsignal(sig), n, s->timeout_s);
    else
        cfs_log_info("%s: unmounting", strsignal(sig));
    finish_or_cancel(s);
    for (double end = cfs_now() + IDLE_GRACE_S; cfs_now() < end; cfs_sleep(IDLE_POLL_S))
        if (atomic_load(&s->loop_over) || unmount_now(s->mountpoint))
            return NULL; /* the loop ends as after any unmount */
    cfs_log_warn("files of the mount are still open: detaching it");
    fuse_session_exit(s->se);
    /* Again and again: the loop may check its flag just before it sleeps. */
    while (!atomic_load(&s->loop_over)) {
        pthread_kill(s->main, SIGUSR1);
        cfs_sleep(0.2);
    }
    return NULL;
}

int cfs_shutdown_start(struct fuse_session *se, const char *mountpoint, unsigned timeout_s,
                       struct cfs_shutdown **out)
{
    struct cfs_shutdown *s = calloc(1, sizeof *s);
    struct sigaction sa = { .sa_handler = wake }; /* no SA_RESTART: sem_wait returns */
    int err;

    if (!s || !(s->mountpoint = strdup(mountpoint))) {
        free(s);
        return -ENOMEM;
    }
    s->se = se;
    s->timeout_s = timeout_s;
    s->main = pthread_self();
    atomic_init(&s->loop_over, false);
    sigemptyset(&s->set);
    sigaddset(&s->set, SIGTERM);
    sigaddset(&s->set, SIGINT);
    sigaddset(&s->set, SIGHUP);
    sigaddset(&s->set, SIG_LOOP_OVER);
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0) {
        err = -errno;
        free(s->mountpoint);
        free(s);
        return err;
    }
    err = -pthread_sigmask(SIG_BLOCK, &s->set, NULL);
    if (!err)
        err = -pthread_create(&s->thread, NULL, stop_main, s);
    if (err) {
        pthread_sigmask(SIG_UNBLOCK, &s->set, NULL);
        free(s->mountpoint);
        free(s);
        return err;
    }
    *out = s;
    return 0;
}

void cfs_shutdown_finish(struct cfs_shutdown *s)
{
    if (!s)
        return;
    atomic_store(&s->loop_over, true);
    pthread_kill(s->thread, SIG_LOOP_OVER);
    pthread_join(s->thread, NULL);
    free(s->mountpoint);
    free(s);
}

/* Is mountpoint still a mount of this namespace? /proc/self/mountinfo
 * escapes space, tab, newline and backslash as \ooo. */
static bool still_mounted(const char *mountpoint)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[8192], want[4 * 4096 + 1], *w = want;
    bool found = false;

    if (!f)
        return false;
    for (const char *c = mountpoint; *c && w < want + sizeof want - 5; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\\')
            w += sprintf(w, "\\%03o", (unsigned char)*c);
        else
            *w++ = *c;
    }
    *w = '\0';
    while (!found && fgets(line, sizeof line, f)) {
        char *fields[5], *save = NULL, *tok = strtok_r(line, " ", &save);
        int n = 0;
        for (; tok && n < 5; tok = strtok_r(NULL, " ", &save))
            fields[n++] = tok;
        found = n == 5 && strcmp(fields[4], want) == 0;
    }
    fclose(f);
    return found;
}

void cfs_shutdown_detach(const char *mountpoint)
{
    if (!mountpoint || !still_mounted(mountpoint))
        return;
    /* The loop ended but the kernel still has the mount (the audit saw it
     * after SIGTERM): detach it, or later opens hang on a dead mount. */
    if (umount2(mountpoint, MNT_DETACH) != 0) {
        char *const argv[] = { "fusermount3", "-u", "-z", "-q", (char *)mountpoint, NULL };
        pid_t pid;
        int status;
        if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ) == 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
    }
    if (still_mounted(mountpoint))
        cfs_log_error("%s is still mounted after cloudfs ended: fusermount3 -u %s", mountpoint,
                      mountpoint);
    else
        cfs_log_warn("%s was still mounted after the FUSE loop ended: detached", mountpoint);
}
