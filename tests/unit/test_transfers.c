/* The transfer registry (fs/transfers.c) and the meter source (fs/meter.c):
 * JSON lines, states, rates, the bound of the recent list, cancellation,
 * and what a meter counts. */
#include "meter.h"
#include "transfers.h"
#include "unit.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The registry's lines as JSON objects; *n of them. */
static json_t **snapshot(size_t *n)
{
    char *text = NULL;
    size_t len = 0;
    *n = 0;
    CHECK(cfs_transfers_json(&text, &len) == 0);
    if (!text)
        return NULL;
    CHECK(strlen(text) == len);
    CHECK(len == 0 || text[len - 1] == '\n');
    json_t **v = calloc(len + 1, sizeof *v);
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        json_error_t e;
        v[*n] = json_loads(line, 0, &e);
        CHECK(v[*n] != NULL);
        (*n)++;
    }
    free(text);
    return v;
}

static void snapshot_free(json_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    free(v);
}

static json_t *find(json_t **v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_string_value(json_object_get(v[i], "path")), path) == 0)
            return v[i];
    return NULL;
}

static json_int_t done_of(const char *path)
{
    size_t n;
    json_t **v = snapshot(&n);
    json_t *o = find(v, n, path);
    json_int_t done = o ? json_integer_value(json_object_get(o, "done")) : -1;
    snapshot_free(v, n);
    return done;
}

static void *end_later(void *t)
{
    cfs_sleep(0.2);
    cfs_transfer_end(t, 0);
    return NULL;
}

int main(void)
{
    size_t n;
    json_t **v;

    /* Empty: no lines. */
    v = snapshot(&n);
    CHECK(n == 0);
    snapshot_free(v, n);
    CHECK(cfs_transfers_active() == 0);
    CHECK(cfs_transfers_wait(0));

    /* A running upload: fields, a moving-window rate. */
    struct cfs_transfer *up =
        cfs_transfer_begin("/vcloud/catalogs/c/a.vmdk", NULL, CFS_XFER_UPLOAD, 10u << 20);
    struct cfs_transfer *cp = cfs_transfer_begin("/openstack2/images/b \"q\"\n\xff.qcow2",
                                                 "/openstack/images/b.qcow2", CFS_XFER_COPY, 100);
    CHECK(up && cp);
    CHECK(cfs_transfers_active() == 2);
    for (int i = 1; i <= 4; i++) {
        cfs_sleep(0.1);
        cfs_transfer_progress(up, (uint64_t)i << 20);
    }
    cfs_transfer_progress(up, 1); /* not monotonic: ignored */
    v = snapshot(&n);
    CHECK(n == 2);
    json_t *o = find(v, n, "/vcloud/catalogs/c/a.vmdk");
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(json_string_value(json_object_get(o, "direction")), "upload");
        CHECK(json_is_null(json_object_get(o, "from")));
        CHECK(json_integer_value(json_object_get(o, "done")) == 4 << 20);
        CHECK(json_integer_value(json_object_get(o, "total")) == 10 << 20);
        CHECK_STR(json_string_value(json_object_get(o, "state")), "running");
        CHECK(json_is_null(json_object_get(o, "error")));
        CHECK(json_is_null(json_object_get(o, "ended")));
        CHECK(json_real_value(json_object_get(o, "started")) > 1.6e9);
        /* 4 MiB in about 0.4 s: about 10 MiB/s (slack for a loaded host). */
        double rate = json_real_value(json_object_get(o, "rate"));
        CHECK(rate > 2e6 && rate < 12e6);
    }
    /* Any bytes in a path: escaped, and the bytes that are not UTF-8 shown
     * as U+FFFD. */
    o = find(v, n, "/openstack2/images/b \"q\"\n\xef\xbf\xbd.qcow2");
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(json_string_value(json_object_get(o, "direction")), "copy");
        CHECK_STR(json_string_value(json_object_get(o, "from")), "/openstack/images/b.qcow2");
    }
    snapshot_free(v, n);

    /* A stalled transfer's rate decays to 0 after the window. */
    cfs_sleep(3.2);
    v = snapshot(&n);
    o = find(v, n, "/vcloud/catalogs/c/a.vmdk");
    CHECK(o && json_real_value(json_object_get(o, "rate")) < 1.0);
    snapshot_free(v, n);

    /* Ends: done, failed with its error, cancelled. */
    cfs_transfer_progress(up, 10u << 20);
    cfs_transfer_end(up, 0);
    cfs_transfer_end(cp, -EIO);
    struct cfs_transfer *c3 = cfs_transfer_begin("/x", NULL, CFS_XFER_UPLOAD, 0);
    CHECK(!cfs_transfer_cancelled(c3));
    cfs_transfers_cancel_all();
    CHECK(cfs_transfer_cancelled(c3));
    cfs_transfer_end(c3, -ECANCELED);
    CHECK(cfs_transfers_active() == 0);
    v = snapshot(&n);
    CHECK(n == 3);
    o = find(v, n, "/vcloud/catalogs/c/a.vmdk");
    CHECK(o && strcmp(json_string_value(json_object_get(o, "state")), "done") == 0);
    if (o) {
        CHECK(json_real_value(json_object_get(o, "ended")) >=
              json_real_value(json_object_get(o, "started")));
        /* The average over the whole transfer: 10 MiB in about 3.6 s. */
        double rate = json_real_value(json_object_get(o, "rate"));
        CHECK(rate > 1e6 && rate < 4e6);
    }
    o = n > 1 ? v[1] : NULL;
    CHECK(o && strcmp(json_string_value(json_object_get(o, "state")), "failed") == 0);
    CHECK(o && strcmp(json_string_value(json_object_get(o, "error")), strerror(EIO)) == 0);
    o = n > 2 ? v[2] : NULL;
    CHECK(o && strcmp(json_string_value(json_object_get(o, "state")), "cancelled") == 0);
    snapshot_free(v, n);

    /* The recent list keeps the last 50; running ones always show. */
    struct cfs_transfer *keep = cfs_transfer_begin("/keep", NULL, CFS_XFER_UPLOAD, 1);
    for (int i = 0; i < 60; i++) {
        char path[32];
        snprintf(path, sizeof path, "/r%d", i);
        cfs_transfer_end(cfs_transfer_begin(path, NULL, CFS_XFER_UPLOAD, 1), 0);
    }
    v = snapshot(&n);
    CHECK(n == 51);
    CHECK(find(v, n, "/keep") != NULL);
    CHECK(find(v, n, "/r9") == NULL);
    CHECK(find(v, n, "/r10") != NULL && find(v, n, "/r59") != NULL);
    snapshot_free(v, n);

    /* wait: times out while one runs, returns when it ends. */
    CHECK(!cfs_transfers_wait(0.1));
    pthread_t th;
    pthread_create(&th, NULL, end_later, keep);
    double t0 = cfs_now();
    CHECK(cfs_transfers_wait(5));
    CHECK(cfs_now() - t0 < 2);
    pthread_join(th, NULL);

    /* The meter: grains read at least once, and the holes passed. */
    struct cfs_transfer *m = cfs_transfer_begin("/meter", NULL, CFS_XFER_UPLOAD, 5 << 16);
    struct cfs_source *inner = NULL, *meter = NULL;
    char *data = calloc(1, 5 << 16), buf[1 << 16];
    struct cfs_alloc *a = cfs_alloc_new(5 << 16);
    CHECK(cfs_mem_source_new(data, 5 << 16, &inner) == 0);
    cfs_alloc_set(a, 0);
    cfs_alloc_set(a, 3);
    cfs_alloc_set(a, 4); /* grains 1 and 2: a hole */
    inner->alloc = a;
    CHECK(cfs_meter_source_open(inner, m, &meter) == 0);
    CHECK(meter->size == 5 << 16 && meter->alloc == a);
    CHECK(cfs_source_pread(meter, buf, 512, (5 << 16) - 512) == 512); /* a check of the tail */
    CHECK(done_of("/meter") == 1 << 16);
    CHECK(cfs_source_pread(meter, buf, 1 << 16, 0) == 1 << 16);
    CHECK(cfs_source_pread(meter, buf, 1 << 16, 0) == 1 << 16); /* a retry counts once */
    CHECK(done_of("/meter") == 2 << 16);
    CHECK(cfs_source_pread(meter, buf, 1 << 16, 3 << 16) == 1 << 16); /* past the hole */
    CHECK(done_of("/meter") == 5 << 16);
    cfs_source_close(meter);
    cfs_source_close(inner);
    cfs_alloc_free(a);
    cfs_transfer_end(m, 0);
    /* NULL transfers (out of memory at begin) are accepted everywhere. */
    cfs_transfer_progress(NULL, 1);
    cfs_transfer_end(NULL, 0);
    return UNIT_RESULT();
}
