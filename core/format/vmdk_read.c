/* VMDK decoder, serving half: a guest read becomes one read of the image
 * file per contiguous run of uncompressed grains, zeros for absent and
 * zeroed grains, and whole decompressed grains (zlib, RFC 1950, as every
 * writer emits; raw deflate as the spec's wording allows, ref/formats.md
 * §3.3) from a small LRU cache. vmdk.c checked every table entry at open;
 * what can only go wrong now (a grain marker naming another grain, a
 * grain that does not decode to exactly one grain, a short read) is -EIO
 * and one log line, never wrong bytes. */
#include "log.h"
#include "vmdk.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CACHE_BYTES (8u << 20)
#define CACHE_MIN   4
#define CACHE_MAX   128

int vmdk_cache_init(struct vmdk *v)
{
    return cfs_block_cache_init(&v->cache, v->grain_bytes, CACHE_BYTES, CACHE_MIN, CACHE_MAX);
}

void vmdk_cache_free(struct vmdk *v)
{
    cfs_block_cache_free(&v->cache);
}

/* Inflates src (zlib, or raw deflate when it has no zlib header) into
 * dst; the output length, or -1 if the stream is bad, unfinished or
 * longer than dst_len. */
static int64_t inflate_grain(void *dst, size_t dst_len, const unsigned char *src, size_t src_len)
{
    bool zlib = src_len >= 2 && (src[0] & 0x0f) == 8 && (src[0] >> 4) <= 7 &&
                ((unsigned)src[0] << 8 | src[1]) % 31 == 0;
    z_stream z = { 0 };
    if (inflateInit2(&z, zlib ? 15 : -15) != Z_OK)
        return -1;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)src_len;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int ret = inflate(&z, Z_FINISH);
    int64_t out = (int64_t)z.total_out;
    inflateEnd(&z);
    return ret == Z_STREAM_END ? out : -1;
}

/* n bytes at in of compressed grain g, whose record is at sector off and
 * takes at most span sectors. */
static int read_compressed(struct vmdk *v, uint64_t g, uint64_t off, uint64_t span, uint64_t in,
                           void *dst, uint64_t n)
{
    uint64_t guest = g << v->grain_shift, at = off * VMDK_SECTOR, len = span * VMDK_SECTOR;
    uint64_t want = v->base.size - guest < v->grain_bytes ? v->base.size - guest : v->grain_bytes;
    unsigned char *raw = NULL, *data = NULL;
    const unsigned char *payload;
    uint64_t payload_len;
    ssize_t got;
    int err = 0;

    if (cfs_block_cache_get(&v->cache, g + 1, in, dst, n))
        return 0;
    if (len > v->file_size - at) /* checked at open: at < file_size */
        len = v->file_size - at;
    raw = malloc(len ? len : 1);
    data = malloc(v->grain_bytes);
    if (!raw || !data) {
        err = -ENOMEM;
        cfs_log_error("vmdk: %s: out of memory for a compressed grain", v->label);
        goto out;
    }
    got = cfs_source_pread(v->file, raw, len, at);
    if (got < 0 || (uint64_t)got != len) {
        err = got < 0 ? (int)got : -EIO;
        cfs_log_error("vmdk: %s: grain %llu: reading its record at 0x%llx+%llu: %s", v->label,
                      (unsigned long long)g, (unsigned long long)at, (unsigned long long)len,
                      got < 0 ? strerror(-err) : "short read");
        goto out;
    }
    payload = raw;
    payload_len = len;
    if (v->markers) {
        uint64_t lba, size;
        if (len < VMDK_MARKER_HEAD) {
            err = -EIO;
            cfs_log_error("vmdk: %s: grain %llu: record at 0x%llx cut short", v->label,
                          (unsigned long long)g, (unsigned long long)at);
            goto out;
        }
        memcpy(&lba, raw, 8);
        lba = le64toh(lba);
        size = (uint64_t)raw[8] | (uint64_t)raw[9] << 8 | (uint64_t)raw[10] << 16 |
               (uint64_t)raw[11] << 24;
        if (lba != guest / VMDK_SECTOR) {
            err = -EIO;
            cfs_log_error("vmdk: %s: grain %llu: its marker at 0x%llx names sector %llu, not %llu",
                          v->label, (unsigned long long)g, (unsigned long long)at,
                          (unsigned long long)lba, (unsigned long long)(guest / VMDK_SECTOR));
            goto out;
        }
        if (size == 0 || size > len - VMDK_MARKER_HEAD) {
            err = -EIO;
            cfs_log_error("vmdk: %s: grain %llu: marker at 0x%llx gives %llu compressed bytes, "
                          "the record has room for %llu",
                          v->label, (unsigned long long)g, (unsigned long long)at,
                          (unsigned long long)size, (unsigned long long)(len - VMDK_MARKER_HEAD));
            goto out;
        }
        payload = raw + VMDK_MARKER_HEAD;
        payload_len = size;
    }
    /* Exactly one grain; the last, partial grain may stop at the disk's
     * end (qemu compresses only what is inside the capacity). */
    int64_t out_len = inflate_grain(data, v->grain_bytes, payload, payload_len);
    if (out_len < 0 || (uint64_t)out_len < want ||
        (want == v->grain_bytes && (uint64_t)out_len != v->grain_bytes)) {
        err = -EIO;
        cfs_log_error("vmdk: %s: grain %llu: compressed record at 0x%llx does not decode to one "
                      "grain of %llu bytes",
                      v->label, (unsigned long long)g, (unsigned long long)at,
                      (unsigned long long)v->grain_bytes);
        goto out;
    }
    memset(data + out_len, 0, v->grain_bytes - (uint64_t)out_len);
    memcpy(dst, data + in, n);
    cfs_block_cache_put(&v->cache, g + 1, data);
    data = NULL;
out:
    free(raw);
    free(data);
    return err;
}

static int read_data(struct vmdk *v, uint64_t guest, uint64_t host, void *dst, uint64_t n)
{
    ssize_t got = cfs_source_pread(v->file, dst, n, host);
    if (got >= 0 && (uint64_t)got == n)
        return 0;
    /* A failed read was logged where it failed (a digest mismatch, HTTP). */
    cfs_log(got < 0 ? CFS_LOG_DEBUG : CFS_LOG_ERROR,
            "vmdk: %s: guest offset %llu: reading data at 0x%llx+%llu: %s", v->label,
            (unsigned long long)guest, (unsigned long long)host, (unsigned long long)n,
            got < 0 ? strerror((int)-got) : "beyond the end of the file");
    return got < 0 ? (int)got : -EIO;
}

ssize_t vmdk_disk_pread(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    struct vmdk *v = (struct vmdk *)src;
    unsigned char *out = buf;
    uint64_t run_host = 0, run_len = 0, run_at = 0;
    int err;

    if (off >= v->base.size)
        return 0;
    if (len > v->base.size - off)
        len = (size_t)(v->base.size - off);
    for (uint64_t done = 0; done < len;) {
        uint64_t p = off + done, g = p >> v->grain_shift, in = p & (v->grain_bytes - 1);
        uint64_t n = v->grain_bytes - in < len - done ? v->grain_bytes - in : len - done;
        uint32_t k = v->gt_index[g / v->gtes];
        uint64_t w = k ? (uint64_t)(k - 1) * v->gtes + g % v->gtes : 0;
        uint64_t sector = k ? v->gt_off[w] : 0;
        uint64_t host = sector * VMDK_SECTOR + in;
        if (sector && !v->compressed && run_len && run_host + run_len == host) {
            run_len += n;
            done += n;
            continue;
        }
        if (run_len) {
            err = read_data(v, off + run_at, run_host, out + run_at, run_len);
            if (err)
                return err;
            run_len = 0;
        }
        if (!sector) {
            memset(out + done, 0, n);
        } else if (!v->compressed) {
            run_host = host;
            run_len = n;
            run_at = done;
        } else {
            err = read_compressed(v, g, sector, v->gt_span[w], in, out + done, n);
            if (err)
                return err;
        }
        done += n;
    }
    if (run_len) {
        err = read_data(v, off + run_at, run_host, out + run_at, run_len);
        if (err)
            return err;
    }
    return (ssize_t)len;
}
