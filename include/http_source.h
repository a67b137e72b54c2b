/* A byte source over one HTTP object read with Range requests: sequential
 * readers get a streaming download that runs ahead of them into a bounded
 * buffer; random reads get one range request each. Dropped connections,
 * stalls and 5xx are retried from the byte where they stopped. */
#ifndef CFS_HTTP_SOURCE_H
#define CFS_HTTP_SOURCE_H

#include "http.h"
#include "source.h"

/* Supplies the authentication header of each request. stale is the header
 * a request was refused with (401), or NULL; the callee renews its
 * credentials when stale is still current. Writes a "Name: value" line
 * into out; returns 0 or a negative errno. */
struct cfs_http_auth {
    int (*header)(struct cfs_http_auth *auth, const char *stale, char *out, size_t n);
};

struct cfs_http_source_params {
    const char *url;
    uint64_t size; /* exact size of the object */
    const struct cfs_tls *tls;
    struct cfs_http_auth *auth; /* may be NULL */
    const char *digest_algo;    /* check a complete sequential read, or NULL */
    const char *digest_hex;
    const char *label;   /* for log lines, e.g. "openstack:images/x.qcow2" */
    size_t buffer_bytes; /* read-ahead buffer of the stream; 0 = default */
    /* A decoder reads metadata here and there before data: start a stream
     * only when two reads in a row are sequential, not at offset 0. */
    bool lazy_stream;
};

int cfs_http_source_open(const struct cfs_http_source_params *params, struct cfs_source **out);

/* Stream threads still running (they use their cloud's authentication):
 * the mount waits for them before it frees the clouds. */
int cfs_http_source_threads(void);

/* Bytes of read-ahead buffers in use by all streams (at most the budget of
 * cfs_http_settings()->prefetch_bytes). */
uint64_t cfs_http_source_memory(void);

#endif
