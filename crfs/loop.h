/* SPDX-License-Identifier: MIT */
#ifndef CRFS_LOOP_H
#define CRFS_LOOP_H

struct fuse;
struct registry;

/* Serves requests until unmounted or signalled; 0 or -errno. */
int crfs_loop(struct fuse *fuse, struct registry *reg);

#endif
