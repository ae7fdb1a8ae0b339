// SPDX-License-Identifier: MIT
/*
 * A descriptor of a hugetlb memfd comes back as the object a mapping of
 * the tree makes again of huge pages (restore/hugetlb.c): alone, it would
 * come back as a memfd of ordinary pages, so that is refused.
 */
#include <stdio.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "files.h"
#include "snapshot.h"

const char *files_hugetlb_why(struct files_ctx *c, const struct kh_fd *f,
			      const struct stat *st)
{
	struct snapshot *s = c->s;
	char path[64];
	struct statfs fs;
	size_t i, k;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", kh_via(f->pid), f->fd);
	if (statfs(path, &fs) || fs.f_type != HUGETLBFS_MAGIC)
		return NULL;
	for (i = 0; i < s->nprocs; i++)
		for (k = 0; k < s->procs[i].nvmas; k++) {
			const struct crfs_vma *v = &s->procs[i].vmas[k];

			if ((v->flags & VMA_F_HUGETLB) &&
			    (v->kind == VMA_SHMEM || v->kind == VMA_DELETED) &&
			    v->shm_ino == st->st_ino)
				return NULL;
		}
	return "a hugetlb memfd that no process of the tree maps is not supported yet";
}
