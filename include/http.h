/* HTTP client: synchronous requests on the calling thread, over libcurl
 * with one shared connection pool, so that a request made by one FUSE
 * thread never waits for another thread's request.
 *
 * Every request is bounded: a connect timeout, and a stall timeout (no
 * byte received or sent for that long aborts the transfer). */
#ifndef CFS_HTTP_H
#define CFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfs_source;

struct cfs_http_settings {
    unsigned connect_timeout_s; /* TCP + TLS handshake */
    unsigned stall_timeout_s;   /* no progress for this long = timed out */
    unsigned retries;           /* retries of idempotent requests */
    uint64_t prefetch_bytes;    /* read-ahead buffers of all downloads together; 0: default */
};

/* TLS settings of one cloud. */
struct cfs_tls {
    bool verify;        /* verify the server's certificate (default true) */
    const char *cacert; /* CA bundle file, or NULL for the system's */
};

/* Called with body bytes as they arrive; return 0 to go on, or a negative
 * errno to abort the transfer (cfs_http_do then returns that errno). */
typedef int (*cfs_http_sink)(void *ctx, const char *data, size_t len);

struct cfs_http_req {
    const char *method; /* "GET", "POST", ... */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
    const char *body;           /* request body, or NULL */
    size_t body_len;
    /* Or a streamed body: body_src_len bytes of body_src from body_off,
     * read as curl sends them, so a body needs no memory of its size. A
     * read error aborts the request with the read's errno, a source that
     * ends early with -EIO. */
    struct cfs_source *body_src;
    uint64_t body_off, body_src_len;
    const struct cfs_tls *tls; /* NULL: verify with the system's CAs */
    cfs_http_sink sink;        /* NULL: collect the body into resp->body */
    void *sink_ctx;
    size_t max_body;              /* collected body limit; 0 = 16 MiB */
    bool only_2xx_to_sink;        /* error bodies are collected, not sunk */
    bool (*cancelled)(void *ctx); /* polled about once a second; true aborts
                                     the transfer with -ECANCELED */
    void *cancel_ctx;
    double deadline; /* cfs_now() time the whole request must end by
                        (-ETIMEDOUT), retries included; 0: none */
};

struct cfs_http_resp {
    long status; /* HTTP status of the final response */
    char *body;  /* NUL-terminated collected body (may be NULL) */
    size_t body_len;
    char *headers;     /* raw header block of the final response */
    uint64_t received; /* body bytes received (sunk or collected) */
    uint64_t sent;     /* request body bytes sent (also after a failure) */
};

int cfs_http_init(const struct cfs_http_settings *settings);
const struct cfs_http_settings *cfs_http_settings(void);
void cfs_http_cleanup(void);

/* Performs one request. Returns 0 when a response arrived (whatever its
 * status), or a negative errno for a transport failure:
 * -ETIMEDOUT (connect or stall timeout), -ECONNREFUSED, -EHOSTUNREACH,
 * -ECONNRESET (connection broken, body short), -EPROTO (TLS or protocol
 * failure, including certificate verification), -EFBIG (body over
 * max_body), -ENOMEM, or the sink's errno. The reason is logged at debug
 * level; callers log the one line the user sees. */
int cfs_http_do(const struct cfs_http_req *req, struct cfs_http_resp *resp);

/* A short human description of the last transport failure of this thread
 * (curl's message), for the caller's log line. */
const char *cfs_http_last_error(void);

/* Value of a response header (case-insensitive name), malloc'd, or NULL. */
char *cfs_http_header(const struct cfs_http_resp *resp, const char *name);

void cfs_http_resp_free(struct cfs_http_resp *resp);

/* "Authorization: Basic ..." for user and password, malloc'd (free it
 * with cfs_free_secret), or NULL. */
char *cfs_http_basic_auth(const char *user, const char *password);

/* True for failures worth retrying: transport errors and 5xx/429. */
bool cfs_http_retryable(int err, long status);

/* Backoff before retry number attempt (1, 2, ...): 0.25 s doubling, max 4 s. */
double cfs_http_backoff(unsigned attempt);

/* The longest a request with its retries takes against a server that
 * accepts connections and never answers (cloudfs(1), timeout=):
 * (retries + 1) x timeout + the backoffs between the attempts. */
double cfs_http_bound(void);

/* A message from an error body for log lines: JSON "message" fields or
 * the text of an HTML page, whitespace squeezed, at most n-1 bytes. */
void cfs_http_error_text(const struct cfs_http_resp *resp, char *out, size_t n);

#endif
