/* Checking what a decoder reads of an image against the cloud's digest
 * (core/format/verify_source.c): a converted view reads its image in file
 * order, mostly; its bytes are hashed as they pass, and the end of a whole
 * read waits for the verdict, as a native read's does (DESIGN.md §3). */
#ifndef CFS_VERIFY_H
#define CFS_VERIFY_H

#include "source.h"

/* A filter over an image's stored bytes (inner, owned from the call on,
 * also on failure) that hashes them with algo as they are read, and at
 * finish compares with hex. An inner source already verified (the block
 * cache's manifest) is passed through. tables_first: a decoder reads its
 * tables at open, which must not pull in the data between them; from a
 * gate's first read on, the data is read in order. An algo this build
 * does not know is logged and the bytes pass unchecked (finish() says
 * -ENODATA). 0 or -ENOMEM. */
int cfs_verify_open(struct cfs_source *inner, const char *algo, const char *hex, const char *label,
                    bool tables_first, struct cfs_source **out);

/* A filter over a view (top, owned from the call on, also on failure)
 * whose bytes come from verify, a source of cfs_verify_open somewhere
 * below it: a read that reaches top's end, by a reader that has read at
 * least half of it, waits for verify's verdict and fails with EIO on a
 * mismatch, and so does every later read. finish() asks for the verdict. */
int cfs_verify_gate_open(struct cfs_source *top, struct cfs_source *verify,
                         struct cfs_source **out);

#endif
