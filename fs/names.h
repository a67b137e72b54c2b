/* File names for cloud objects (DESIGN.md §1): a cloud's name plus an
 * extension, '/' shown as U+FF0F, a leading '.' as U+FF0E, unusable or duplicate names marked
 * with "~" and the first 8 characters of the object's id. */
#ifndef CFS_NAMES_H
#define CFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct cfs_name_in {
    const char *name; /* the cloud's name */
    const char *id;   /* the cloud's id (safe characters only) */
    const char *ext;  /* extension without the dot; "" for none (a directory) */
    bool native;      /* the stored bytes, not a view: wins a tie with a view */
};

/* Fills out[i] with a malloc'd file name for in[i], or NULL when the
 * entry cannot be shown (the same object twice). Names are unique and do
 * not depend on the order of in. 0 or -ENOMEM. */
int cfs_names_assign(const struct cfs_name_in *in, size_t n, char **out);

/* The cloud's spelling of a file name written into the mount (escapes
 * of cfs_names_assign undone: U+FF0F, U+FF02, a leading U+FF0E), malloc'd;
 * NULL when out of memory. */
char *cfs_name_to_cloud(const char *fname);

/* The file name under by-id/: "<id>.<ext>". */
char *cfs_name_by_id(const char *id, const char *ext);

#endif
