// SPDX-License-Identifier: MIT
/*
 * Processes sharing cwd, root and umask (CLONE_FS) change them for all at
 * once.  The parent sets them, and must not before each of its children
 * sharing them has opened what it opens by path (its pages, executable,
 * mapped files; /proc, which a chroot may hide): a counter in a page
 * shared with them, which the restorer unmaps with the rest.
 */
#include <sched.h>
#include <unistd.h>
#include <sys/mman.h>

#include "restore.h"

static int *ours;	/* our children still opening; inherited by them */
static int *parents;	/* the one to count down, in a child sharing fs */

void fs_share_prepare(struct image *img, int idx, int err_fd)
{
	size_t i;
	int n = 0;

	parents = img->procs[idx].attr.shares_fs ? ours : NULL;
	ours = NULL;
	for (i = 0; i < img->nprocs; i++)
		if (img->procs[i].parent == idx && img->procs[i].attr.shares_fs &&
		    !is_vm_kid(img, i))	/* cloned by our restorer */
			n++;
	if (!n)
		return;
	ours = mmap(NULL, sizeof(*ours), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ours == MAP_FAILED)
		child_fail(err_fd, "CLONE_FS children: mmap: %m");
	*ours = n;
}

void fs_share_done(int err_fd)
{
	int i;

	for (i = 0; ours && __atomic_load_n(ours, __ATOMIC_ACQUIRE) > 0; i++) {
		if (i == 30000)
			child_fail(err_fd, "children sharing our fs (CLONE_FS) never got ready");
		usleep(1000);
	}
	if (parents)
		__atomic_sub_fetch(parents, 1, __ATOMIC_RELEASE);
}
