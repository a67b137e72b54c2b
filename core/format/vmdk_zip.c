/* Compressed grain records (vmdk_zip.h). A record is the 12-byte grain
 * marker, the grain's zlib stream, zeros to the next sector. libdeflate's
 * zlib compressor at a fixed level is a pure function of its input (one
 * whole buffer, no streaming state), so the second compression (the read)
 * repeats the first (the plan) byte for byte; the length is checked anyway:
 * a different library loaded between the two would otherwise corrupt the
 * upload silently. libdeflate rather than zlib: 2-3 times zlib's speed at
 * level 1 with a better ratio, and the plan and the read both pay it.
 *
 * A grain whose compressed stream would exceed the stored form (65 552
 * bytes: 129 sectors with its marker, formats.md §3.5) is written in the
 * stored form, so no record is ever over 129 sectors.
 *
 * Reads come from an upload streaming front to back: the records are
 * compressed in batches on all cores, and while one batch is sent the next
 * is compressed in the background (read-ahead). A read elsewhere restarts
 * the batches there. */
#include "vmdk_zip.h"
#include "bytes.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h> /* adler32 of the stored form */

#define SECTOR        512u
#define GRAIN_SECTORS 128u
#define MARKER        12u
#define STORED_BYTES  65552u /* zlib header, two stored blocks, Adler-32 */
#define MAX_THREADS   32
#define BLOCK         512u /* records per prefix-sum entry */

/* One batch of records compressed together; data[i] holds record first+i. */
struct batch {
    uint64_t first, count;
    unsigned char **data; /* STORED_BYTES each; NULL in the plan */
    uint32_t *lens;
    /* running in the background: */
    pthread_t threads[MAX_THREADS];
    unsigned n_threads;
    uint64_t next; /* the next index to take, under the zip's job lock */
    int err;
};

struct vmdk_zip {
    struct cfs_source *disk;
    const struct cfs_alloc_index *ix;
    uint64_t n_alloc;
    int level;
    unsigned n_threads;
    uint32_t *lens;   /* compressed bytes of each record */
    uint64_t *prefix; /* first sector of record BLOCK * i */
    uint64_t sectors; /* of all records */
    uint64_t per_batch;

    pthread_mutex_t job_lock; /* batch->next and batch->err while workers run */
    pthread_mutex_t lock;     /* serialises reads: the batches below */
    struct batch cur, ahead;
    int ahead_running;
};

struct worker {
    struct vmdk_zip *z;
    struct batch *b;
};

static uint32_t rec_sectors(uint32_t clen)
{
    return (MARKER + clen + SECTOR - 1) / SECTOR;
}

/* The stored form: 65 535 bytes and 1 byte in two stored blocks. */
static void store(const unsigned char *in, unsigned char *out)
{
    uint32_t adler = (uint32_t)adler32(adler32(0, NULL, 0), in, CFS_GRAIN_BYTES);
    memcpy(out, "\x78\x01\x00\xff\xff\x00\x00", 7);
    memcpy(out + 7, in, 65535);
    memcpy(out + 7 + 65535, "\x01\x01\x00\xfe\xff", 5);
    out[7 + 65535 + 5] = in[65535];
    for (int i = 0; i < 4; i++)
        out[STORED_BYTES - 4 + i] = (unsigned char)(adler >> (24 - 8 * i));
}

/* Grain g of the disk, zero padded, compressed into out (STORED_BYTES of
 * room); its length or -errno. */
static long compress_grain(struct vmdk_zip *z, struct libdeflate_compressor *c, unsigned char *in,
                           unsigned char *out, uint64_t g)
{
    uint64_t off = g << CFS_GRAIN_SHIFT;
    size_t want = CFS_GRAIN_BYTES;
    if (z->disk->size - off < want)
        want = (size_t)(z->disk->size - off);
    ssize_t n = cfs_source_pread(z->disk, in, want, off);
    if (n != (ssize_t)want) {
        if (n >= 0) {
            cfs_log_error("vmdk: short read of grain %llu from the %s source (%zd of %zu)",
                          (unsigned long long)g, z->disk->ops->name, n, want);
            return -EIO;
        }
        return (long)n;
    }
    memset(in + want, 0, CFS_GRAIN_BYTES - want);
    /* 0: it does not fit in the stored form's size, which is then used. */
    size_t clen = libdeflate_zlib_compress(c, in, CFS_GRAIN_BYTES, out, STORED_BYTES);
    if (clen == 0) {
        store(in, out);
        return STORED_BYTES;
    }
    return (long)clen;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct vmdk_zip *z = w->z;
    struct batch *b = w->b;
    unsigned char *in = malloc(CFS_GRAIN_BYTES), *scratch = malloc(STORED_BYTES);
    /* A fixed level: the read must produce what the plan measured. */
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(z->level);
    int err = 0;
    free(w);
    if (!in || !scratch || !c)
        err = -ENOMEM;
    while (!err) {
        pthread_mutex_lock(&z->job_lock);
        uint64_t i = b->next++;
        int stop = b->err != 0;
        pthread_mutex_unlock(&z->job_lock);
        if (stop || i >= b->count)
            break;
        uint64_t k = b->first + i;
        long n = compress_grain(z, c, in, scratch, cfs_alloc_select(z->ix, k));
        if (n < 0) {
            err = (int)n;
            break;
        }
        if (b->data) {
            memcpy(b->data[i], scratch, (size_t)n);
            b->lens[i] = (uint32_t)n;
        } else {
            z->lens[k] = (uint32_t)n;
        }
    }
    if (c)
        libdeflate_free_compressor(c);
    free(in);
    free(scratch);
    if (err) {
        pthread_mutex_lock(&z->job_lock);
        if (!b->err)
            b->err = err;
        pthread_mutex_unlock(&z->job_lock);
    }
    return NULL;
}

static int batch_start(struct vmdk_zip *z, struct batch *b, uint64_t first, uint64_t count)
{
    b->first = first;
    b->count = count;
    b->next = 0;
    b->err = 0;
    b->n_threads = 0;
    unsigned want = count < z->n_threads ? (unsigned)count : z->n_threads;
    for (unsigned t = 0; t < want; t++) {
        struct worker *w = malloc(sizeof *w);
        if (!w)
            break;
        *w = (struct worker){ z, b };
        if (pthread_create(&b->threads[b->n_threads], NULL, work, w) != 0) {
            free(w);
            break;
        }
        b->n_threads++;
    }
    if (b->n_threads == 0 && count > 0) {
        b->err = -EAGAIN;
        return -EAGAIN;
    }
    return 0;
}

static int batch_wait(struct batch *b)
{
    for (unsigned t = 0; t < b->n_threads; t++)
        pthread_join(b->threads[t], NULL);
    b->n_threads = 0;
    return b->err;
}

int vmdk_zip_plan(struct cfs_source *disk, const struct cfs_alloc_index *ix, uint64_t n_alloc,
                  int level, struct vmdk_zip **out)
{
    struct vmdk_zip *z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    z->disk = disk;
    z->ix = ix;
    z->n_alloc = n_alloc;
    z->level = level;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    z->n_threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
    z->per_batch = 8ull * z->n_threads;
    pthread_mutex_init(&z->job_lock, NULL);
    pthread_mutex_init(&z->lock, NULL);
    z->lens = malloc((n_alloc ? n_alloc : 1) * sizeof *z->lens);
    z->prefix = malloc((n_alloc / BLOCK + 1) * sizeof *z->prefix);
    int err = z->lens && z->prefix ? 0 : -ENOMEM;
    for (int i = 0; !err && i < 2; i++) {
        struct batch *b = i ? &z->ahead : &z->cur;
        b->data = calloc(z->per_batch, sizeof *b->data);
        b->lens = calloc(z->per_batch, sizeof *b->lens);
        err = b->data && b->lens ? 0 : -ENOMEM;
        for (uint64_t j = 0; !err && j < z->per_batch; j++)
            if (!(b->data[j] = malloc(STORED_BYTES)))
                err = -ENOMEM;
        b->first = UINT64_MAX;
    }

    /* The plan: one batch of every record, lengths only. */
    struct batch plan = { 0 };
    if (!err)
        err = batch_start(z, &plan, 0, n_alloc);
    if (!err)
        err = batch_wait(&plan);
    for (uint64_t k = 0; !err && k < n_alloc; k++) {
        if (k % BLOCK == 0)
            z->prefix[k / BLOCK] = z->sectors;
        z->sectors += rec_sectors(z->lens[k]);
    }
    if (err) {
        vmdk_zip_free(z);
        return err;
    }
    *out = z;
    return 0;
}

uint64_t vmdk_zip_sectors(const struct vmdk_zip *z)
{
    return z->sectors;
}

uint64_t vmdk_zip_start(const struct vmdk_zip *z, uint64_t k)
{
    uint64_t s = z->prefix[k / BLOCK];
    for (uint64_t j = k / BLOCK * BLOCK; j < k; j++)
        s += rec_sectors(z->lens[j]);
    return s;
}

uint32_t vmdk_zip_rec_sectors(const struct vmdk_zip *z, uint64_t k)
{
    return rec_sectors(z->lens[k]);
}

/* The record holding sector sec: binary search on the blocks, then a scan. */
static uint64_t find_record(const struct vmdk_zip *z, uint64_t sec, uint64_t *start)
{
    uint64_t lo = 0, hi = (z->n_alloc + BLOCK - 1) / BLOCK; /* prefix[lo] <= sec */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (z->prefix[mid] <= sec)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t k = lo * BLOCK, s = z->prefix[lo];
    while (k + 1 < z->n_alloc && s + rec_sectors(z->lens[k]) <= sec)
        s += rec_sectors(z->lens[k++]);
    *start = s;
    return k;
}

/* Makes record k's compressed bytes available: from the current batch, the
 * one compressed ahead, or a new batch from k; then starts the next one. */
static int batch_for(struct vmdk_zip *z, uint64_t k, struct batch **out)
{
    struct batch *c = &z->cur;
    if (c->first != UINT64_MAX && k >= c->first && k < c->first + c->count) {
        *out = c;
        return 0;
    }
    int err = 0;
    if (z->ahead_running) {
        err = batch_wait(&z->ahead);
        z->ahead_running = 0;
        struct batch t = *c; /* swap buffers: the one ahead becomes current */
        *c = z->ahead;
        z->ahead = t;
        if (err)
            c->first = UINT64_MAX;
    }
    if (err || !(k >= c->first && k < c->first + c->count)) {
        uint64_t n = z->n_alloc - k < z->per_batch ? z->n_alloc - k : z->per_batch;
        c->first = UINT64_MAX;
        err = batch_start(z, c, k, n);
        if (!err)
            err = batch_wait(c);
        if (err) {
            c->first = UINT64_MAX;
            return err;
        }
    }
    uint64_t next = c->first + c->count;
    if (next < z->n_alloc) {
        uint64_t n = z->n_alloc - next < z->per_batch ? z->n_alloc - next : z->per_batch;
        if (batch_start(z, &z->ahead, next, n) == 0)
            z->ahead_running = 1;
        else
            batch_wait(&z->ahead); /* no thread: compressed when reached */
    }
    *out = c;
    return 0;
}

static void copy_part(unsigned char *dst, uint64_t from, size_t len, uint64_t at,
                      const unsigned char *piece, size_t n)
{
    uint64_t lo = from > at ? from : at, hi = from + len < at + n ? from + len : at + n;
    if (lo >= hi)
        return;
    if (piece)
        memcpy(dst + (lo - from), piece + (lo - at), (size_t)(hi - lo));
    else
        memset(dst + (lo - from), 0, (size_t)(hi - lo));
}

int vmdk_zip_read(struct vmdk_zip *z, unsigned char *dst, uint64_t rel, size_t len)
{
    int err = 0;
    pthread_mutex_lock(&z->lock);
    while (len > 0 && !err) {
        uint64_t start;
        uint64_t k = find_record(z, rel / SECTOR, &start);
        uint64_t at = start * SECTOR, r = rel - at;
        uint32_t clen = z->lens[k];
        uint64_t rec = (uint64_t)rec_sectors(clen) * SECTOR;
        size_t n = len < rec - r ? len : (size_t)(rec - r);
        unsigned char marker[MARKER];
        cfs_put_le64(marker, cfs_alloc_select(z->ix, k) * GRAIN_SECTORS);
        cfs_put_le32(marker + 8, clen);
        copy_part(dst, r, n, 0, marker, MARKER);
        copy_part(dst, r, n, MARKER + clen, NULL, rec - MARKER - clen);
        if (r + n > MARKER && r < MARKER + clen) {
            struct batch *b;
            err = batch_for(z, k, &b);
            if (!err && b->lens[k - b->first] != clen) {
                cfs_log_error("vmdk: grain record %llu compressed to %u bytes, planned %u: "
                              "the compressor is not deterministic here",
                              (unsigned long long)k, b->lens[k - b->first], clen);
                err = -EIO;
            }
            if (!err)
                copy_part(dst, r, n, MARKER, b->data[k - b->first], clen);
        }
        dst += n;
        rel += n;
        len -= n;
    }
    pthread_mutex_unlock(&z->lock);
    return err;
}

void vmdk_zip_free(struct vmdk_zip *z)
{
    if (!z)
        return;
    if (z->ahead_running)
        batch_wait(&z->ahead);
    for (int i = 0; i < 2; i++) {
        struct batch *b = i ? &z->ahead : &z->cur;
        for (uint64_t j = 0; b->data && j < z->per_batch; j++)
            free(b->data[j]);
        free(b->data);
        free(b->lens);
    }
    pthread_mutex_destroy(&z->job_lock);
    pthread_mutex_destroy(&z->lock);
    free(z->lens);
    free(z->prefix);
    free(z);
}
