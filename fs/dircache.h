/* Cached listings of cloud directories: an immutable, reference-counted
 * snapshot per directory, replaced when older than the TTL. Lookups of
 * names a fresh snapshot does not hold answer ENOENT at once (negative
 * entries); `ls -l` is served from one listing, never a request per file. */
#ifndef CFS_DIRCACHE_H
#define CFS_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "provider.h"

#define CFS_NATIVE (-1) /* an entry of the stored bytes, not a view */

struct cfs_entry {
    char *fname;                  /* name in the directory (or in by-id/) */
    const struct cfs_object *obj; /* points into the snapshot's objects */
    int view;                     /* enum cfs_view, or CFS_NATIVE */
    char *vmdk_name;              /* .ovf views: the .vmdk next to it */
};

struct cfs_snapshot {
    struct cfs_object_list objs;
    struct cfs_entry *names; /* sorted by fname */
    size_t n_names;
    struct cfs_entry *ids; /* by-id/ entries, sorted by fname */
    size_t n_ids;
    int refs; /* guarded by the owning cache's lock */
    struct cfs_dircache *owner;
    bool warmed[2]; /* the sizes of its views (names, by-id) are being found */
};

struct cfs_dircache;

/* views: the mask of views (enum cfs_view bits) offered with each object
 * (none for directories and no_views objects). dir is the provider's:
 * "images", "catalogs/<the catalog's own name>". One reference. */
struct cfs_dircache *cfs_dircache_new(struct cfs_cloud *cloud, const char *dir, double ttl,
                                      unsigned views);
void cfs_dircache_hold(struct cfs_dircache *dc);
/* Drops a reference; the last frees the cache. */
void cfs_dircache_put(struct cfs_dircache *dc);

const char *cfs_dircache_dir(const struct cfs_dircache *dc);
struct cfs_cloud *cfs_dircache_cloud(const struct cfs_dircache *dc);

/* The next get lists again (a file was just uploaded into it). */
void cfs_dircache_invalidate(struct cfs_dircache *dc);

/* The provider's can_put for this directory, asked at most once per TTL
 * (directory modes depend on it, and stat must not wait on a cloud).
 * 0, or -EROFS (no can_put) / its -errno. *first_refusal (may be NULL):
 * true the first time a refusal is returned, for one log line. */
int cfs_dircache_can_put(struct cfs_dircache *dc, bool *first_refusal);

/* A snapshot no older than the TTL (lists the directory if needed; one
 * thread lists, others wait for that result). When listing fails and an
 * older snapshot exists, that one is returned and the failure logged.
 * 0 or -errno; release with cfs_snapshot_put. */
int cfs_dircache_get(struct cfs_dircache *dc, struct cfs_snapshot **out);
/* Snapshots hold a reference to their cache. */
void cfs_snapshot_put(struct cfs_snapshot *snap);
/* One more reference to a snapshot already held. */
void cfs_snapshot_hold(struct cfs_snapshot *snap);
/* True the first time it is called for snap and list (names or by-id). */
bool cfs_snapshot_claim_warm(struct cfs_snapshot *snap, bool by_id);

const struct cfs_entry *cfs_snapshot_find(const struct cfs_snapshot *snap, const char *fname);
const struct cfs_entry *cfs_snapshot_find_id(const struct cfs_snapshot *snap, const char *fname);

#endif
