/* The on-disk block cache (DESIGN.md §3): chunks of immutable images kept
 * lz4-compressed in files under the mount's cache_dir, named by a hash of
 * (image key, chunk index), each with a CRC32 of its bytes, evicted least
 * recently used first under a size cap. The files are the index: it is
 * rebuilt from them (mtime order) when the cache is opened, so the cache
 * survives remounts. */
#ifndef CFS_CACHE_H
#define CFS_CACHE_H

#include "source.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Chunks are this size and aligned (the last one of an image is short). */
#define CFS_CACHE_CHUNK_SHIFT 20
#define CFS_CACHE_CHUNK       ((size_t)1 << CFS_CACHE_CHUNK_SHIFT)
#define CFS_CACHE_SHA256      32

struct cfs_cache;

/* dir is created if missing; cap_bytes bounds the entries' file sizes.
 * Returns 0, or a negative errno. */
int cfs_cache_open(const char *dir, uint64_t cap_bytes, struct cfs_cache **out);
void cfs_cache_close(struct cfs_cache *c);
uint64_t cfs_cache_used(struct cfs_cache *c);
uint64_t cfs_cache_cap(struct cfs_cache *c);

/* Reads chunk idx of key into buf (len bytes expected). Returns len, or
 * -ENOENT when missing; a corrupt or truncated entry is removed and is
 * -ENOENT too, so the caller refetches it. */
ssize_t cfs_cache_get(struct cfs_cache *c, const char *key, uint64_t idx, void *buf, size_t len);
int cfs_cache_put(struct cfs_cache *c, const char *key, uint64_t idx, const void *buf, size_t len);
bool cfs_cache_has(struct cfs_cache *c, const char *key, uint64_t idx);
void cfs_cache_drop(struct cfs_cache *c, const char *key, uint64_t idx);

/* The manifest of a key: the sha256 of each of its n chunks, written only
 * once the chunks' concatenation matched the cloud's digest. */
int cfs_cache_manifest_get(struct cfs_cache *c, const char *key, uint64_t n, uint8_t *sha);
int cfs_cache_manifest_put(struct cfs_cache *c, const char *key, uint64_t n, const uint8_t *sha);

/* The filter: a source reading inner through the cache. key names the
 * content ("sha512:<hex>:<size>"); algo/hex the cloud's digest of it. On
 * success the source owns inner; on failure the caller keeps it: -EFBIG
 * for an image over half the cache's size, which would only push out the
 * rest of the cache and its own first chunks (and slow its reader down to
 * the disk's write speed) without ever being whole. */
int cfs_cache_source_open(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                          const char *hex, struct cfs_source **out);
/* The same, only when the cache holds the image verified (-ENOENT if not):
 * for a one-off read that should not fill the cache. */
int cfs_cache_source_open_stored(struct cfs_source *inner, struct cfs_cache *c, const char *algo,
                                 const char *hex, struct cfs_source **out);

/* Makes a source of cfs_cache_source_open fill the cache from spare CPU
 * only: a reader that decodes (a view, whose conversion wants both cores)
 * never waits for lz4 and the write; what the storers cannot keep up with
 * is not stored, and a later read stores it. */
void cfs_cache_source_spare(struct cfs_source *src);

/* A source caching decoded, what a decoder made of image (a source of
 * cfs_cache_source_open, which decoded reads), keyed by image's key and
 * tag (name the decoder and its version: "qcow2-guest-v1"). Its chunks are
 * stored only once image is verified. On success it owns decoded;
 * -ENOTSUP when image is not a cached source. */
int cfs_cache_source_derive(struct cfs_source *image, struct cfs_source *decoded, const char *tag,
                            struct cfs_source **out);

/* A memo of small reads in memory (core/cache/memo.c), for a decoder's
 * metadata, by key and byte range (up to CFS_MEMO_MAX bytes). get copies
 * [off, off + len) if an entry holds it, waiting while one is being
 * fetched; else a reader claims a range (false: someone else has it now),
 * fetches it and fills it (buf NULL: the fetch failed). */
#define CFS_MEMO_MAX (512u << 10)
struct cfs_memo;
struct cfs_memo *cfs_memo_new(void);
void cfs_memo_free(struct cfs_memo *m);
bool cfs_memo_get(struct cfs_memo *m, const char *key, uint64_t off, size_t len, void *buf);
bool cfs_memo_claim(struct cfs_memo *m, const char *key, uint64_t off, size_t len);
void cfs_memo_fill(struct cfs_memo *m, const char *key, uint64_t off, size_t len, const void *buf);
/* Drops the filled entries of key: they came from bytes that failed a check. */
void cfs_memo_forget(struct cfs_memo *m, const char *key);
/* The memo of a block cache (made with it), or NULL. */
struct cfs_memo *cfs_cache_memo(struct cfs_cache *c);

#endif
