/* SPDX-License-Identifier: MIT */
/* The container's mount tree (restore/mounts.c). */
#ifndef CRFS_RESTORE_MOUNTS_H
#define CRFS_RESTORE_MOUNTS_H

#include <stddef.h>

#include "image.h"

/* parse the mounts file and check every host source and tar file */
int mnt_check(struct image *img, char *err, size_t errlen);
/* a new mount namespace of ours with the tree, pivoted into its root */
int mnt_restore(struct image *img, char *err, size_t errlen);
/* in init of a new pid namespace: the procs that need it */
void mnt_child(struct image *img, int err_fd);
/* once the root is forked: back to our own mount namespace */
int mnt_leave(struct image *img);
void mnt_free(struct image *img);

#endif
