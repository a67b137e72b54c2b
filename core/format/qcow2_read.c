/* qcow2 decoder, serving half: a guest read becomes one read of the image
 * file per contiguous host run, zeros for zero and unallocated clusters and
 * subclusters, and whole decompressed clusters (zlib raw deflate or zstd,
 * ref/formats.md §1.6) from a small LRU cache. qcow2.c checked every
 * pointer at open; what can only go wrong now (a compressed cluster that
 * does not decode to exactly one cluster, a short read) is -EIO, never
 * wrong bytes. */
#include "log.h"
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define CACHE_BYTES     (8u << 20)
#define CACHE_MIN       4
#define CACHE_MAX       64
#define ZSTD_WINDOW_LOG 22 /* qemu compresses one cluster (<= 2 MiB) per frame */

int qcow2_cache_init(struct qcow2 *q)
{
    return cfs_block_cache_init(&q->cache, q->cluster_size, CACHE_BYTES, CACHE_MIN, CACHE_MAX);
}

void qcow2_cache_free(struct qcow2 *q)
{
    cfs_block_cache_free(&q->cache);
}

/* Raw deflate, 4 KiB window; the span may end inside the next cluster's
 * data, so a full output buffer is success (qemu qcow2_zlib_decompress). */
static int inflate_zlib(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    z_stream z = { 0 };
    if (inflateInit2(&z, -12) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)src_len;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int ret = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    return (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z.avail_out == 0 ? 0 : -EIO;
}

/* zstd frames until the cluster is full, with a bounded window and no
 * loop without progress (qemu qcow2_zstd_decompress). */
static int inflate_zstd(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_outBuffer out = { dst, dst_len, 0 };
    ZSTD_inBuffer in = { src, src_len, 0 };
    size_t ret = 0;
    int err = 0;

    if (!d)
        return -ENOMEM;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG)))
        err = -EIO;
    while (!err && out.pos < out.size) {
        size_t in_pos = in.pos, out_pos = out.pos;
        ret = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(ret) || (in.pos <= in_pos && out.pos <= out_pos))
            err = -EIO;
    }
    /* A frame not finished when the cluster is full decodes to more. */
    if (!err && ret > 0)
        err = -EIO;
    ZSTD_freeDCtx(d);
    return err;
}

/* n bytes at in of the compressed cluster with descriptor e. */
static int read_compressed(struct qcow2 *q, uint64_t guest, uint64_t e, uint64_t in, void *dst,
                           uint64_t n)
{
    uint64_t key = e & ~(3ull << 62), off, len;
    unsigned char *raw = NULL, *data = NULL;
    ssize_t got;
    int err;

    if (cfs_block_cache_get(&q->cache, key, in, dst, n))
        return 0;
    qcow2_compressed_span(q, e, &off, &len);
    if (len > q->file_size - off) /* checked at open: off < file_size */
        len = q->file_size - off;
    raw = malloc(len);
    data = malloc(q->cluster_size);
    if (!raw || !data) {
        err = -ENOMEM;
        cfs_log_error("qcow2: %s: out of memory for a compressed cluster", q->label);
        goto out;
    }
    got = cfs_source_pread(q->file, raw, len, off);
    if (got < 0 || (uint64_t)got != len) {
        err = got < 0 ? (int)got : -EIO;
        cfs_log_error("qcow2: %s: guest offset %llu: reading compressed data at 0x%llx+%llu: %s",
                      q->label, (unsigned long long)guest, (unsigned long long)off,
                      (unsigned long long)len, got < 0 ? strerror(-err) : "short read");
        goto out;
    }
    err = q->compression == QCOW2_ZSTD ? inflate_zstd(data, q->cluster_size, raw, len)
                                       : inflate_zlib(data, q->cluster_size, raw, len);
    if (err) {
        cfs_log_error("qcow2: %s: guest offset %llu: compressed cluster at 0x%llx does not "
                      "decode to %llu bytes (%s)",
                      q->label, (unsigned long long)guest, (unsigned long long)off,
                      (unsigned long long)q->cluster_size,
                      q->compression == QCOW2_ZSTD ? "zstd" : "zlib");
        err = -EIO;
        goto out;
    }
    memcpy(dst, data + in, n);
    cfs_block_cache_put(&q->cache, key, data);
    data = NULL;
out:
    free(raw);
    free(data);
    return err;
}

static int read_data(struct qcow2 *q, uint64_t guest, uint64_t host, void *dst, uint64_t n)
{
    ssize_t got = cfs_source_pread(q->file, dst, n, host);
    if (got >= 0 && (uint64_t)got == n)
        return 0;
    /* A failed read was logged where it failed (a digest mismatch, HTTP). */
    cfs_log(got < 0 ? CFS_LOG_DEBUG : CFS_LOG_ERROR,
            "qcow2: %s: guest offset %llu: reading data at 0x%llx+%llu: %s", q->label,
            (unsigned long long)guest, (unsigned long long)host, (unsigned long long)n,
            got < 0 ? strerror((int)-got) : "beyond the end of the file");
    return got < 0 ? (int)got : -EIO;
}

/* What guest bytes [p, p + *n) are (*n <= max, within one cluster): for
 * DATA *host is where they are, for COMPRESSED *entry is the descriptor. */
static enum qcow2_kind map_extent(const struct qcow2 *q, uint64_t p, uint64_t max, uint64_t *n,
                                  uint64_t *host, uint64_t *entry)
{
    uint64_t c = p >> q->cluster_bits, in = p & (q->cluster_size - 1);
    uint64_t avail = q->cluster_size - in;
    const uint64_t *t = q->l2[c >> q->l2_bits];

    *n = avail < max ? avail : max;
    if (!t)
        return QCOW2_KIND_ZERO;
    const uint64_t *ent = t + (c & ((1ull << q->l2_bits) - 1)) * q->entry_words;
    uint64_t e = ent[0], ho = e & QCOW2_OFFSET_MASK;
    if (e & QCOW2_COMPRESSED) {
        *entry = e;
        return QCOW2_KIND_COMPRESSED;
    }
    if (q->entry_words == 1) {
        if ((e & QCOW2_ZERO_FLAG) || !ho)
            return QCOW2_KIND_ZERO;
        *host = ho + in;
        return QCOW2_KIND_DATA;
    }
    if (!ho)
        return QCOW2_KIND_ZERO;
    /* Subclusters: data if allocated and not zero; the extent runs on
     * while the following subclusters are of the same kind. */
    uint64_t bm = ent[1];
    uint64_t data_bits = bm & ~(bm >> 32) & QCOW2_SUB_ALLOC_ALL;
    unsigned s = (unsigned)(in >> q->subcluster_bits);
    bool is_data = (data_bits >> s) & 1;
    unsigned e_sub = s + 1;
    while (e_sub < QCOW2_SUBCLUSTERS && (bool)((data_bits >> e_sub) & 1) == is_data)
        e_sub++;
    uint64_t len = ((uint64_t)e_sub << q->subcluster_bits) - in;
    if (len < *n)
        *n = len;
    if (!is_data)
        return QCOW2_KIND_ZERO;
    *host = ho + in;
    return QCOW2_KIND_DATA;
}

ssize_t qcow2_disk_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct qcow2 *q = (struct qcow2 *)src;
    unsigned char *out = buf;
    uint64_t run_host = 0, run_len = 0, run_at = 0;
    int err;

    if (off >= q->base.size)
        return 0;
    if (len > q->base.size - off)
        len = (size_t)(q->base.size - off);
    for (uint64_t done = 0; done < len;) {
        uint64_t p = off + done, n, host = 0, e = 0;
        enum qcow2_kind kind = map_extent(q, p, len - done, &n, &host, &e);
        if (kind == QCOW2_KIND_DATA && run_len && run_host + run_len == host) {
            run_len += n;
            done += n;
            continue;
        }
        if (run_len) {
            err = read_data(q, off + run_at, run_host, out + run_at, run_len);
            if (err)
                return err;
            run_len = 0;
        }
        if (kind == QCOW2_KIND_DATA) {
            run_host = host;
            run_len = n;
            run_at = done;
        } else if (kind == QCOW2_KIND_ZERO) {
            memset(out + done, 0, n);
        } else {
            err = read_compressed(q, p, e, p & (q->cluster_size - 1), out + done, n);
            if (err)
                return err;
        }
        done += n;
    }
    if (run_len) {
        err = read_data(q, off + run_at, run_host, out + run_at, run_len);
        if (err)
            return err;
    }
    qcow2_read_ahead(q, off, len);
    return (ssize_t)len;
}
