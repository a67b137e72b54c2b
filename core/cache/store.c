/* The block cache's files and their LRU index (include/cache.h). One
 * mutex guards the index; file I/O runs outside it. An entry is written
 * to a temporary name and renamed, so a reader sees a whole file or none;
 * a crash or a full disk can still leave a bad file, which the CRC (and
 * lz4's bounds) catch on the next read. */
#include "cache.h"
#include "digest.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#define NAME_HEX     40 /* of the key's sha256: collisions are not a concern here */
#define NAME_MAX_LEN (NAME_HEX + 1 + 16 + 1)
#define BUCKETS      4096
#define MAGIC        "CFSBLK1"

struct hdr {
    char magic[8];
    uint32_t raw_len;
    uint32_t comp_len;
    uint32_t crc; /* CRC-32 (gzip's) of the uncompressed bytes */
    uint32_t pad;
};

struct entry {
    char name[NAME_MAX_LEN];
    uint64_t bytes;
    struct entry *prev, *next; /* LRU: head most recent */
    struct entry *chain;
};

struct cfs_cache {
    char *dir;
    uint64_t cap, used;
    pthread_mutex_t lock;
    struct entry *head, *tail;
    struct entry *table[BUCKETS];
    unsigned tmp_seq;
    struct cfs_memo *memo;
};

static unsigned hash_name(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % BUCKETS;
}

static void key_hex(const char *key, char *out)
{
    char hex[129] = "";
    struct cfs_digest *d;
    if (cfs_digest_new("sha256", &d) == 0) {
        cfs_digest_update(d, key, strlen(key));
        cfs_digest_matches(d, "", hex);
        cfs_digest_free(d);
    }
    snprintf(out, NAME_HEX + 1, "%s", hex);
}

static void entry_name(const char *key, uint64_t idx, char *out)
{
    char hex[NAME_HEX + 1];
    key_hex(key, hex);
    snprintf(out, NAME_MAX_LEN, "%s-%016llx", hex, (unsigned long long)idx);
}

static char *path_of(struct cfs_cache *c, const char *name)
{
    size_t n = strlen(c->dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", c->dir, name);
    return p;
}

static struct entry *find(struct cfs_cache *c, const char *name)
{
    for (struct entry *e = c->table[hash_name(name)]; e; e = e->chain)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct cfs_cache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(struct cfs_cache *c, struct entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Takes e out of the index (lock held); the caller unlinks the file. */
static void forget(struct cfs_cache *c, struct entry *e)
{
    struct entry **pp = &c->table[hash_name(e->name)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(c, e);
    c->used -= e->bytes;
}

static void add(struct cfs_cache *c, const char *name, uint64_t bytes)
{
    struct entry *e = find(c, name);
    if (e) {
        c->used -= e->bytes;
        lru_unlink(c, e);
    } else {
        e = calloc(1, sizeof *e);
        if (!e)
            return; /* the file stays, unaccounted until the next open */
        snprintf(e->name, sizeof e->name, "%s", name);
        unsigned b = hash_name(name);
        e->chain = c->table[b];
        c->table[b] = e;
    }
    e->bytes = bytes;
    c->used += bytes;
    lru_push(c, e);
}

static void remove_name(struct cfs_cache *c, const char *name)
{
    char *p = path_of(c, name);
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, name);
    if (e)
        forget(c, e);
    pthread_mutex_unlock(&c->lock);
    free(e);
    if (p)
        unlink(p);
    free(p);
}

struct scanned {
    char name[NAME_MAX_LEN];
    uint64_t bytes;
    struct timespec mtime;
};

static int by_mtime(const void *a, const void *b)
{
    const struct timespec *x = &((const struct scanned *)a)->mtime;
    const struct timespec *y = &((const struct scanned *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Rebuilds the index from the files: a hit sets an entry's mtime, so the
 * oldest mtime is the least recently used across remounts too. */
static int scan(struct cfs_cache *c)
{
    DIR *d = opendir(c->dir);
    struct scanned *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        struct stat st;
        const char *nm = de->d_name;
        if (nm[0] == '.' || fstatat(dirfd(d), nm, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (strstr(nm, ".tmp")) { /* an interrupted write */
            unlinkat(dirfd(d), nm, 0);
            continue;
        }
        if (strlen(nm) != NAME_HEX + 17 || nm[NAME_HEX] != '-')
            continue; /* manifests and strangers are not entries */
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            struct scanned *nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        snprintf(v[n].name, sizeof v[n].name, "%s", nm);
        v[n].bytes = (uint64_t)st.st_size;
        v[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, by_mtime);
    for (size_t i = 0; i < n; i++)
        add(c, v[i].name, v[i].bytes);
    free(v);
    return 0;
}

int cfs_cache_open(const char *dir, uint64_t cap_bytes, struct cfs_cache **out)
{
    struct cfs_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return -ENOMEM;
    }
    c->cap = cap_bytes;
    c->memo = cfs_memo_new();
    pthread_mutex_init(&c->lock, NULL);
    int err = mkdir(dir, 0700) == 0 || errno == EEXIST ? scan(c) : -errno;
    if (err) {
        cfs_cache_close(c);
        return err;
    }
    cfs_log_info("block cache %s: %llu MiB in use of %llu MiB", dir,
                 (unsigned long long)(c->used >> 20), (unsigned long long)(cap_bytes >> 20));
    *out = c;
    return 0;
}

void cfs_cache_close(struct cfs_cache *c)
{
    if (!c)
        return;
    for (struct entry *e = c->head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    pthread_mutex_destroy(&c->lock);
    cfs_memo_free(c->memo);
    free(c->dir);
    free(c);
}

uint64_t cfs_cache_cap(struct cfs_cache *c)
{
    return c->cap;
}

struct cfs_memo *cfs_cache_memo(struct cfs_cache *c)
{
    return c ? c->memo : NULL;
}

uint64_t cfs_cache_used(struct cfs_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t u = c->used;
    pthread_mutex_unlock(&c->lock);
    return u;
}

static ssize_t read_entry(int fd, void *buf, size_t len)
{
    struct hdr h;
    struct stat st;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h.magic, MAGIC, 8) != 0 ||
        h.raw_len != len || fstat(fd, &st) != 0 || (uint64_t)st.st_size != sizeof h + h.comp_len ||
        h.comp_len > (uint32_t)LZ4_compressBound((int)len))
        return -EBADMSG;
    char *comp = malloc(h.comp_len ? h.comp_len : 1);
    if (!comp)
        return -ENOMEM;
    ssize_t got = pread(fd, comp, h.comp_len, sizeof h);
    int n =
        got == (ssize_t)h.comp_len ? LZ4_decompress_safe(comp, buf, (int)h.comp_len, (int)len) : -1;
    free(comp);
    if (n != (int)len || libdeflate_crc32(0, buf, len) != h.crc)
        return -EBADMSG;
    return (ssize_t)len;
}

/* A file of the cache dir opened for reading: fd, -ENOENT or -ENOMEM. */
static int open_file(struct cfs_cache *c, const char *name)
{
    char *p = path_of(c, name);
    if (!p)
        return -ENOMEM;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    return fd < 0 ? -ENOENT : fd;
}

ssize_t cfs_cache_get(struct cfs_cache *c, const char *key, uint64_t idx, void *buf, size_t len)
{
    char name[NAME_MAX_LEN];
    entry_name(key, idx, name);
    int fd = open_file(c, name);
    if (fd == -ENOENT)
        remove_name(c, name); /* removed behind our back (a tmp cleaner): not held any more */
    if (fd < 0)
        return fd;
    ssize_t n = read_entry(fd, buf, len);
    if (n == (ssize_t)len)
        futimens(fd, NULL); /* the LRU order of the next mount */
    close(fd);
    if (n == -EBADMSG) {
        cfs_log_warn("block cache: entry %s is corrupt: dropped, refetched", name);
        remove_name(c, name);
    }
    if (n < 0)
        return n == -ENOMEM ? n : -ENOENT;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, name);
    if (e) {
        lru_unlink(c, e);
        lru_push(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

bool cfs_cache_has(struct cfs_cache *c, const char *key, uint64_t idx)
{
    char name[NAME_MAX_LEN];
    entry_name(key, idx, name);
    pthread_mutex_lock(&c->lock);
    bool has = find(c, name) != NULL;
    pthread_mutex_unlock(&c->lock);
    char *p = has ? path_of(c, name) : NULL;
    if (p && access(p, F_OK) != 0 && errno == ENOENT) {
        remove_name(c, name); /* removed behind our back: a download must store it again */
        has = false;
    }
    free(p);
    return has;
}

void cfs_cache_drop(struct cfs_cache *c, const char *key, uint64_t idx)
{
    char name[NAME_MAX_LEN];
    entry_name(key, idx, name);
    remove_name(c, name);
}

/* Writes name atomically (a temporary file renamed over it). */
static int write_file(struct cfs_cache *c, const char *name, const void *a, size_t alen,
                      const void *b, size_t blen)
{
    char tmp[NAME_MAX_LEN + 32];
    pthread_mutex_lock(&c->lock);
    unsigned seq = c->tmp_seq++;
    pthread_mutex_unlock(&c->lock);
    snprintf(tmp, sizeof tmp, "%s.tmp%u-%u", name, (unsigned)getpid(), seq);
    char *tp = path_of(c, tmp), *p = path_of(c, name);
    int err = -ENOMEM, fd = -1;
    if (tp && p && (fd = open(tp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 &&
        errno == ENOENT && mkdir(c->dir, 0700) == 0) /* the directory was removed under us */
        fd = open(tp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (tp && p && fd < 0)
        err = -errno;
    if (fd >= 0) {
        bool ok =
            write(fd, a, alen) == (ssize_t)alen && (!blen || write(fd, b, blen) == (ssize_t)blen);
        err = ok ? 0 : -ENOSPC;
        if (close(fd) != 0 && !err)
            err = -errno;
        if (!err && rename(tp, p) != 0)
            err = -errno;
        if (err)
            unlink(tp);
    }
    free(tp);
    free(p);
    return err;
}

int cfs_cache_put(struct cfs_cache *c, const char *key, uint64_t idx, const void *buf, size_t len)
{
    char name[NAME_MAX_LEN];
    int bound = LZ4_compressBound((int)len);
    struct hdr *h = malloc(sizeof *h + (size_t)bound);
    if (!h)
        return -ENOMEM;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, MAGIC, 8);
    h->raw_len = (uint32_t)len;
    h->crc = libdeflate_crc32(0, buf, len);
    /* Acceleration 4: about twice lz4's default speed for a few per cent
     * of size; the cache fill runs beside a reader on few cores. */
    int n = LZ4_compress_fast(buf, (char *)(h + 1), (int)len, bound, 4);
    if (n <= 0) {
        free(h);
        return -EIO;
    }
    h->comp_len = (uint32_t)n;
    uint64_t bytes = sizeof *h + (uint64_t)n;
    if (bytes > c->cap) {
        free(h);
        return -ENOSPC;
    }
    /* Make room first: least recently used entries go. */
    pthread_mutex_lock(&c->lock);
    while (c->used + bytes > c->cap && c->tail) {
        struct entry *e = c->tail;
        forget(c, e);
        char *p = path_of(c, e->name);
        if (p)
            unlink(p);
        free(p);
        free(e);
    }
    pthread_mutex_unlock(&c->lock);
    entry_name(key, idx, name);
    int err = write_file(c, name, h, bytes, NULL, 0);
    free(h);
    if (!err) {
        pthread_mutex_lock(&c->lock);
        add(c, name, bytes);
        pthread_mutex_unlock(&c->lock);
    }
    return err;
}

#define MANIFEST_NAME_LEN (NAME_HEX + 8)

static void manifest_name(const char *key, char *name)
{
    key_hex(key, name);
    strcat(name, ".m");
}

int cfs_cache_manifest_get(struct cfs_cache *c, const char *key, uint64_t n, uint8_t *sha)
{
    char name[MANIFEST_NAME_LEN];
    manifest_name(key, name);
    int fd = open_file(c, name);
    if (fd < 0)
        return fd;
    size_t len = (size_t)n * CFS_CACHE_SHA256;
    uint32_t crc;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && (uint64_t)st.st_size == len + 4 &&
              pread(fd, sha, len, 0) == (ssize_t)len && pread(fd, &crc, 4, (off_t)len) == 4 &&
              crc == libdeflate_crc32(0, sha, len);
    close(fd);
    return ok ? 0 : -ENOENT;
}

int cfs_cache_manifest_put(struct cfs_cache *c, const char *key, uint64_t n, const uint8_t *sha)
{
    char name[MANIFEST_NAME_LEN];
    size_t len = (size_t)n * CFS_CACHE_SHA256;
    uint32_t crc = libdeflate_crc32(0, sha, len);
    manifest_name(key, name);
    return write_file(c, name, sha, len, &crc, sizeof crc);
}
