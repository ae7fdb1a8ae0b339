/* SPDX-License-Identifier: MIT */
#ifndef CRFS_FS_H
#define CRFS_FS_H

#define FUSE_USE_VERSION 35
#include <fuse.h>

extern const struct fuse_operations crfs_ops;

#endif
