#ifndef CFS_OPS_H
#define CFS_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

extern const struct fuse_operations cfs_ops;

#endif
