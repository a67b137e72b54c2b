/* Logging: one line per event, to stderr, a file or syslog.
 * Never pass a secret (password, token) to these functions. */
#ifndef CFS_LOG_H
#define CFS_LOG_H

enum cfs_log_level { CFS_LOG_ERROR, CFS_LOG_WARN, CFS_LOG_INFO, CFS_LOG_DEBUG };

/* Logs to path (created 0600; a symbolic link there is -ELOOP), or to
 * stderr when path is NULL. Returns 0 or -errno. */
int cfs_log_open(const char *path, enum cfs_log_level level);
/* Once detached from the terminal: syslog, unless a file was given. */
void cfs_log_use_syslog(void);
int cfs_log_level_parse(const char *s, enum cfs_log_level *out);
int cfs_log_enabled(enum cfs_log_level level);
void cfs_log(enum cfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cfs_log_error(...) cfs_log(CFS_LOG_ERROR, __VA_ARGS__)
#define cfs_log_warn(...)  cfs_log(CFS_LOG_WARN, __VA_ARGS__)
#define cfs_log_info(...)  cfs_log(CFS_LOG_INFO, __VA_ARGS__)
#define cfs_log_debug(...) cfs_log(CFS_LOG_DEBUG, __VA_ARGS__)

#endif
