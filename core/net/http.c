/* HTTP requests over libcurl.
 *
 * Each thread keeps one easy handle (reset between requests); all handles
 * share a connection pool, DNS cache and TLS sessions through one CURLSH,
 * so FUSE threads run requests in parallel and still reuse connections.
 * Stalls are bounded by the progress callback: a transfer that moves no byte
 * for stall_timeout_s seconds fails the request with -ETIMEDOUT. */
#define _GNU_SOURCE
#include "http.h"
#include "log.h"
#include "source.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BODY (16u << 20)

static struct cfs_http_settings settings = { 10, 30, 4, 0 };
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_key_t easy_key;
static __thread char last_error[CURL_ERROR_SIZE];
/* Requests running on this thread: more than one when a streamed body is
 * read from another cloud (a copy between clouds), whose request then
 * needs an easy handle of its own. */
static __thread unsigned depth;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *u)
{
    (void)h, (void)a, (void)u;
    pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
    (void)h, (void)u;
    pthread_mutex_unlock(&share_locks[data]);
}

static void easy_destroy(void *p)
{
    curl_easy_cleanup(p);
}

int cfs_http_init(const struct cfs_http_settings *s)
{
    if (s)
        settings = *s;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -EIO;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    if (!share)
        return -ENOMEM;
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    if (pthread_key_create(&easy_key, easy_destroy) != 0)
        return -ENOMEM;
    return 0;
}

const struct cfs_http_settings *cfs_http_settings(void)
{
    return &settings;
}

void cfs_http_cleanup(void)
{
    CURL *h = pthread_getspecific(easy_key);
    if (h) {
        curl_easy_cleanup(h);
        pthread_setspecific(easy_key, NULL);
    }
    if (share)
        curl_share_cleanup(share);
    share = NULL;
    curl_global_cleanup();
}

const char *cfs_http_last_error(void)
{
    return last_error;
}

static CURL *thread_handle(void)
{
    CURL *h = pthread_getspecific(easy_key);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h)
        pthread_setspecific(easy_key, h);
    return h;
}

struct transfer {
    const struct cfs_http_req *req;
    struct cfs_http_resp *resp;
    size_t max_body;
    size_t body_cap;
    size_t headers_len;
    int sink_err;
    uint64_t src_pos;      /* next byte of a streamed body, from body_off */
    bool read_failed;      /* sink_err came from reading the body */
    curl_off_t last_bytes; /* progress seen at last_change */
    double last_change;    /* monotonic time of the last progress */
};

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
    struct transfer *t = p;
    size_t len = size * n;

    /* A new status line starts a new header block (100-continue, redirects). */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        t->headers_len = 0;
        if (sscanf(data, "HTTP/%*s %ld", &t->resp->status) != 1)
            t->resp->status = 0;
    }
    if (t->headers_len + len > 64 * 1024)
        return 0; /* hostile header flood */
    char *nh = realloc(t->resp->headers, t->headers_len + len + 1);
    if (!nh)
        return 0;
    memcpy(nh + t->headers_len, data, len);
    t->headers_len += len;
    nh[t->headers_len] = '\0';
    t->resp->headers = nh;
    return len;
}

static int collect(struct transfer *t, const char *data, size_t len)
{
    struct cfs_http_resp *r = t->resp;
    if (r->body_len + len > t->max_body)
        return -EFBIG;
    if (r->body_len + len + 1 > t->body_cap) {
        size_t cap = t->body_cap ? t->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(r->body, cap);
        if (!nb)
            return -ENOMEM;
        r->body = nb;
        t->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
    struct transfer *t = p;
    size_t len = size * n;
    int err;

    if (t->req->sink) {
        bool to_sink = true;
        if (t->req->only_2xx_to_sink)
            to_sink = t->resp->status >= 200 && t->resp->status < 300;
        err = to_sink ? t->req->sink(t->req->sink_ctx, data, len) : collect(t, data, len);
    } else {
        err = collect(t, data, len);
    }
    if (err) {
        t->sink_err = err;
        return 0;
    }
    t->resp->received += len;
    return len;
}

/* Streamed request body: curl pulls it through here, so an upload of any
 * size needs only curl's buffer. */
static size_t on_read(char *buf, size_t size, size_t n, void *p)
{
    struct transfer *t = p;
    const struct cfs_http_req *req = t->req;
    uint64_t left = req->body_src_len - t->src_pos;
    size_t want = size * n;
    ssize_t got;

    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    got = cfs_source_pread(req->body_src, buf, want, req->body_off + t->src_pos);
    if (got <= 0) {
        /* A source shorter than announced would leave the server waiting
         * for the rest: fail now instead. */
        t->sink_err = got < 0 ? (int)got : -EIO;
        t->read_failed = true;
        return CURL_READFUNC_ABORT;
    }
    t->src_pos += (uint64_t)got;
    return (size_t)got;
}

/* curl rewinds when it resends a body, e.g. on a fresh connection after a
 * pooled one turned out closed. */
static int on_seek(void *p, curl_off_t off, int origin)
{
    struct transfer *t = p;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > t->req->body_src_len)
        return CURL_SEEKFUNC_CANTSEEK;
    t->src_pos = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

/* Our own stall bound: curl's low-speed check averages over several
 * seconds, so a stall would last timeout + ~5 s; this one is exact. */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct transfer *t = p;
    double now = cfs_now();
    (void)dt, (void)ut;
    if (t->req->cancelled && t->req->cancelled(t->req->cancel_ctx)) {
        t->sink_err = -ECANCELED;
        return 1;
    }
    if (dn + un != t->last_bytes || t->last_change == 0) {
        t->last_bytes = dn + un;
        t->last_change = now;
    } else if (now - t->last_change > settings.stall_timeout_s) {
        t->sink_err = -ETIMEDOUT;
        return 1;
    }
    return 0;
}

static int map_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2_STREAM:
        return -ECONNRESET;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WEIRD_SERVER_REPLY:
    default:
        return -EPROTO;
    }
}

int cfs_http_do(const struct cfs_http_req *req, struct cfs_http_resp *resp)
{
    struct transfer t = { .req = req, .resp = resp };
    struct curl_slist *hdrs = NULL;
    CURL *h;
    CURLcode rc;
    int err = 0;

    memset(resp, 0, sizeof *resp);
    t.max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
    last_error[0] = '\0';

    bool nested = depth > 0;
    h = nested ? curl_easy_init() : thread_handle();
    if (!h)
        return -ENOMEM;
    depth++;

    for (const char *const *p = req->headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(hdrs, *p);
        if (!n) {
            err = -ENOMEM;
            goto out;
        }
        hdrs = n;
    }
    /* Glance and Keystone answer errors in JSON when asked. */
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    /* A streamed body keeps curl's Expect: 100-continue, so a refused
     * upload (401, 416) is answered before the body is sent. */
    if (req->body)
        hdrs = curl_slist_append(hdrs, "Expect:");
    if (!hdrs) {
        err = -ENOMEM;
        goto out;
    }

    curl_easy_setopt(h, CURLOPT_SHARE, share);
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, last_error);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (req->body_src) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_src_len);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &t);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)settings.connect_timeout_s);
    if (req->deadline) {
        double left = req->deadline - cfs_now();
        if (left <= 0) {
            snprintf(last_error, sizeof last_error, "out of time");
            err = -ETIMEDOUT;
            goto out;
        }
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left * 1000) + 1);
    }
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (req->tls) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req->tls->verify ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req->tls->verify ? 2L : 0L);
        if (req->tls->cacert)
            curl_easy_setopt(h, CURLOPT_CAINFO, req->tls->cacert);
    }

    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_off_t sent = 0;
    if (curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK && sent > 0)
        resp->sent = (uint64_t)sent;
    if (t.sink_err) {
        err = t.sink_err;
        if (t.read_failed)
            snprintf(last_error, sizeof last_error, "reading the body at %llu: %s",
                     (unsigned long long)(req->body_off + t.src_pos), strerror(-err));
        else if (err == -ETIMEDOUT)
            snprintf(last_error, sizeof last_error, "no data for %u s", settings.stall_timeout_s);
    } else if (rc != CURLE_OK) {
        err = map_curl_error(rc);
        if (!last_error[0])
            snprintf(last_error, sizeof last_error, "%s", curl_easy_strerror(rc));
        char shown[512];
        cfs_log_debug("http: %s %s: %s", req->method, cfs_url_shown(req->url, shown, sizeof shown),
                      last_error);
    }
out:
    curl_slist_free_all(hdrs);
    depth--;
    if (nested)
        curl_easy_cleanup(h); /* its connection stays in the shared pool */
    return err;
}

char *cfs_http_header(const struct cfs_http_resp *resp, const char *name)
{
    size_t n = strlen(name);
    const char *p = resp->headers;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *e = p + len;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && isspace((unsigned char)e[-1]))
                e--;
            return strndup(v, (size_t)(e - v));
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

void cfs_http_resp_free(struct cfs_http_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof *resp);
}

bool cfs_http_retryable(int err, long status)
{
    if (err)
        return err == -ETIMEDOUT || err == -ECONNREFUSED || err == -ECONNRESET ||
               err == -EHOSTUNREACH;
    return status >= 500 || status == 429;
}

double cfs_http_backoff(unsigned attempt)
{
    double d = 0.25;
    for (unsigned i = 1; i < attempt && d < 4; i++)
        d *= 2;
    return d > 4 ? 4 : d;
}

double cfs_http_bound(void)
{
    double b = (settings.retries + 1.0) * settings.stall_timeout_s;
    for (unsigned i = 1; i <= settings.retries; i++)
        b += cfs_http_backoff(i);
    return b;
}

/* Finds a "message" string at the top level or one level down. */
static const char *json_message(json_t *j)
{
    const char *key;
    json_t *v;
    json_t *m = json_object_get(j, "message");
    if (json_is_string(m))
        return json_string_value(m);
    json_object_foreach (j, key, v) {
        m = json_object_get(v, "message");
        if (json_is_string(m))
            return json_string_value(m);
    }
    return NULL;
}

void cfs_http_error_text(const struct cfs_http_resp *resp, char *out, size_t n)
{
    const char *src = resp->body ? resp->body : "";
    json_t *j = NULL;
    size_t o = 0;
    bool in_tag = false, space = false;

    if (n == 0)
        return;
    if (*src == '{') {
        j = json_loadb(resp->body, resp->body_len, 0, NULL);
        const char *m = j ? json_message(j) : NULL;
        if (m)
            src = m;
    }
    for (const char *p = src; *p && o + 1 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '<') {
            in_tag = true;
            space = o > 0;
            continue;
        }
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (isspace(c) || c < 0x20) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < n)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    json_decref(j);
}
