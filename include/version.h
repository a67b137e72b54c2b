#ifndef CFS_VERSION_H
#define CFS_VERSION_H
#define CFS_VERSION "0.1.0"
#endif
