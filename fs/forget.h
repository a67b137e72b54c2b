/* After a cloud object changed (replaced, removed, a new mtime), the
 * kernel still holds the attributes of each of its files (the native
 * file and every view, by name and under by-id/) for the listing TTL:
 * each is told to ask again. */
#ifndef CFS_FORGET_H
#define CFS_FORGET_H

#include "dircache.h"

/* dir_path: the directory's path in the mount ("/openstack/images").
 * The files of objects with id id or named name (either may be NULL), as the
 * directory's current snapshot lists them. Call before the listing is
 * invalidated (or with a snapshot that still shows the old object). */
void cfs_forget_object(struct cfs_dircache *dc, const char *dir_path, const char *id,
                       const char *name, size_t name_len);

struct cfs_node;
/* The files of a resolved NODE_FILE's object, path being the file's path
 * in the mount (by name or under by-id/). */
void cfs_forget_node(const struct cfs_node *node, const char *path);

#endif
