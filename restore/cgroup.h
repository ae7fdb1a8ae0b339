/* SPDX-License-Identifier: MIT */
/* cgroup.c: the image's cgroups and cgroup namespace */
#ifndef CRFS_RESTORE_CGROUP_H
#define CRFS_RESTORE_CGROUP_H

#include "image.h"

/* --cgroup-root [HIER:]PATH: the tree's cgroups go below PATH */
struct cg_root {
	const char *hier;	/* NULL: every hierarchy not named alone */
	const char *path;
};

/* check or make every cgroup of the image (before the tree is forked) */
int cgroup_prepare(const struct image *img, const struct cg_root *roots,
		   size_t nroots, char *err, size_t errlen);
/* in process idx, just forked: join its cgroups (child_fail on error) */
void cgroup_enter(const struct image *img, int idx, int err_fd);
/* after a failed restore, once the tree is gone: remove what we made */
void cgroup_undo(void);
void cgroup_free(void);

#endif
