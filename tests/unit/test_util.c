/* Times, sizes, error bodies, digests. */
#include "digest.h"
#include "http.h"
#include "unit.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

int main(void)
{
    struct timespec ts;
    uint64_t v;

    CHECK(cfs_parse_iso8601("2026-11-22T09:37:01Z", &ts) == 0 && ts.tv_sec == 1795340221);
    CHECK(cfs_parse_iso8601("2026-11-22T09:37:01.500000Z", &ts) == 0 && ts.tv_sec == 1795340221 &&
          ts.tv_nsec == 500000000);
    CHECK(cfs_parse_iso8601("2026-11-22T10:37:01+01:00", &ts) == 0 && ts.tv_sec == 1795340221);
    CHECK(cfs_parse_iso8601("2026-11-22T09:37:01", &ts) == 0 && ts.tv_sec == 1795340221);
    CHECK(cfs_parse_iso8601("yesterday", &ts) == -EINVAL);
    CHECK(cfs_parse_iso8601("2026-11-22T09:37:01Zjunk", &ts) == -EINVAL);
    CHECK(cfs_parse_iso8601(NULL, &ts) == -EINVAL);

    CHECK(cfs_parse_size("64M", &v) == 0 && v == 64u << 20);
    CHECK(cfs_parse_size("2GiB", &v) == 0 && v == 2ull << 30);
    CHECK(cfs_parse_size("12", &v) == 0 && v == 12);
    CHECK(cfs_parse_size("-1", &v) == -EINVAL);
    CHECK(cfs_parse_size("99999999999T", &v) == -EINVAL);

    char msg[128];
    struct cfs_http_resp r = { 0 };
    r.body = "{\"message\": \"Image status transition from active to saving is not "
             "allowed<br /><br />\\n\\n\\n\", \"code\": \"409 Conflict\"}";
    r.body_len = strlen(r.body);
    cfs_http_error_text(&r, msg, sizeof msg);
    CHECK_STR(msg, "Image status transition from active to saving is not allowed");
    r.body = "{\"error\": {\"code\": 401, \"message\": \"The request you have made requires "
             "authentication.\"}}";
    r.body_len = strlen(r.body);
    cfs_http_error_text(&r, msg, sizeof msg);
    CHECK_STR(msg, "The request you have made requires authentication.");
    r.body = "<html><head><title>413</title></head><body><h1>Too large</h1>  x</body></html>";
    r.body_len = strlen(r.body);
    cfs_http_error_text(&r, msg, sizeof msg);
    CHECK_STR(msg, "413 Too large x");

    char hdrs[] =
        "HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-4/20\r\nX-Subject-Token:  t0k \r\n";
    r.headers = hdrs;
    char *h = cfs_http_header(&r, "content-range");
    CHECK_STR(h, "bytes 0-4/20");
    free(h);
    h = cfs_http_header(&r, "X-Subject-Token");
    CHECK_STR(h, "t0k");
    free(h);
    CHECK(cfs_http_header(&r, "Content") == NULL);

    CHECK(cfs_http_retryable(-ECONNRESET, 0));
    CHECK(cfs_http_retryable(0, 503));
    CHECK(!cfs_http_retryable(0, 404));
    CHECK(!cfs_http_retryable(-EPROTO, 0));
    CHECK(cfs_http_backoff(1) == 0.25 && cfs_http_backoff(10) == 4);
    /* cloudfs(1)'s bound: (retries + 1) x timeout + the backoffs. */
    struct cfs_http_settings hs = { 10, 30, 4, 0 };
    CHECK(cfs_http_init(&hs) == 0);
    CHECK(cfs_http_bound() == 5 * 30 + 3.75);
    cfs_http_cleanup();

    struct cfs_digest *d;
    char hex[129];
    CHECK(cfs_digest_new("sha256", &d) == 0);
    cfs_digest_update(d, "abc", 3);
    CHECK(cfs_digest_matches(d, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
                             hex));
    cfs_digest_free(d);
    CHECK(cfs_digest_new("nope", &d) == -ENOTSUP);
    return UNIT_RESULT();
}
