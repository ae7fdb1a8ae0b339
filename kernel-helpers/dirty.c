// SPDX-License-Identifier: MIT
/*
 * Dirty-page tracking with an asynchronous write-protect userfaultfd and
 * PAGEMAP_SCAN (see kh_dirty.h).  The userfaultfd must be made by the
 * target, because it tracks the mm of whoever calls userfaultfd(2); the
 * ioctls act on that mm from any process, so the daemon does them on its
 * own copy of the descriptor and the target keeps none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kh.h"
#include "kh_dirty.h"

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif

/* userfaultfd refuses MAP_DROPPABLE memory */
bool kh_dirty_trackable(const struct crfs_vma *v)
{
	return (v->kind == VMA_ANON || v->kind == VMA_HEAP ||
		v->kind == VMA_STACK) && !(v->flags & VMA_F_SHARED) &&
	       !(v->flags & (VMA_F_HUGETLB | VMA_F_DROPPABLE)) &&
	       (v->prot & PROT_WRITE);
}

/* userfaultfd(2) run by pid itself, then moved into our table */
static int take_uffd(pid_t pid, int *uffd, const char **why)
{
	struct kh_remote r;
	long fd;
	int ret;

	ret = kh_remote_open(&r, pid, 0);
	if (ret) {
		*why = "cannot run a syscall in the process";
		return ret;
	}
	fd = kh_remote_syscall(&r, SYS_userfaultfd,
			       O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY,
			       0, 0, 0, 0, 0);
	if (fd < 0) {
		*why = "userfaultfd(2) in the process failed";
		kh_remote_close(&r);
		return fd;
	}
	ret = kh_steal_fd(pid, fd);
	/* the process must not keep it, whatever happened */
	kh_remote_syscall(&r, SYS_close, fd, 0, 0, 0, 0, 0);
	if (ret < 0)
		*why = "pidfd_getfd of the userfaultfd failed";
	else
		*uffd = ret;
	ret = ret < 0 ? ret : 0;
	return kh_remote_close(&r) ?: ret;
}

static int reg(int uffd, uint64_t start, uint64_t end)
{
	struct uffdio_register r = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

int kh_dirty_protect(int uffd, uint64_t start, uint64_t end)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

static int arm(int uffd, uint64_t start, uint64_t end)
{
	return reg(uffd, start, end) ?: kh_dirty_protect(uffd, start, end);
}

int kh_dirty_start(pid_t pid, const struct crfs_vma *vmas, size_t n,
		   int *uffd, const char **why)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
	};
	int ret, fd = -1;

	ret = take_uffd(pid, &fd, why);
	if (ret)
		return ret;
	if (ioctl(fd, UFFDIO_API, &api)) {
		ret = -errno;
		*why = "UFFDIO_API with UFFD_FEATURE_WP_ASYNC failed";
		goto out;
	}
	ret = kh_dirty_arm(fd, vmas, n, true);
	if (ret) {
		*why = "UFFDIO_REGISTER/UFFDIO_WRITEPROTECT failed";
		goto out;
	}
	*uffd = fd;
	return 0;
out:
	close(fd);
	return ret;
}

static int region_cmp(const void *a, const void *b)
{
	const struct page_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The regions in address order, overlaps merged: runs_minus (track.c)
 * walks them once, in order, and a page listed out of order would be
 * taken for clean.  Should a walk ever cover a range twice, a page
 * written in between is in both answers: its union is the written set.
 */
size_t kh_regions_normalize(struct page_region *r, size_t n)
{
	size_t i, k = 0;

	for (i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end)
			break;
	if (i >= n)
		return n;
	qsort(r, n, sizeof(*r), region_cmp);
	for (i = 1; i < n; i++) {
		if (r[i].start <= r[k].end) {
			if (r[i].end > r[k].end)
				r[k].end = r[i].end;
			continue;
		}
		r[++k] = r[i];
	}
	return k + 1;
}

int kh_pagemap_scan(int pm, struct pm_scan_arg *a, struct page_region **out,
		    size_t *n)
{
	long got;

	*out = NULL;
	*n = 0;
	a->size = sizeof(*a);
	while (a->start < a->end) {
		struct page_region *v = realloc(*out, (*n + KH_SCAN_VEC) *
						      sizeof(*v));

		if (!v)
			return -ENOMEM;
		*out = v;
		a->vec = (uintptr_t)(v + *n);
		a->vec_len = KH_SCAN_VEC;
		got = ioctl(pm, PAGEMAP_SCAN, a);
		if (got < 0)
			return -errno;
		*n += got;
		if (a->walk_end <= a->start)
			return -EIO;
		a->start = a->walk_end;
	}
	*n = kh_regions_normalize(*out, *n);
	return 0;
}

int kh_dirty_take(pid_t pid, uint64_t start, uint64_t end,
		  struct page_region **written, size_t *n)
{
	/*
	 * The kernel's fast path for exactly this mask: it skips a pte
	 * already protected and protects the one it reports, under the
	 * pte lock, so a write lands either before (reported now) or after
	 * (reported next time).  CHECK_WPASYNC: a mapping not registered
	 * fails the walk instead of being skipped as if never written.
	 */
	struct pm_scan_arg w = {
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = start, .end = end,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int pm = kh_pagemap_open(pid), ret;

	if (pm < 0)
		return pm;
	ret = kh_pagemap_scan(pm, &w, written, n);
	close(pm);
	if (ret) {
		free(*written);
		*written = NULL;
		*n = 0;
	}
	return ret;
}

int kh_dirty_arm(int uffd, const struct crfs_vma *vmas, size_t n,
		 bool protect)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (!kh_dirty_trackable(&vmas[i]))
			continue;
		ret = protect ? arm(uffd, vmas[i].start, vmas[i].end) :
				reg(uffd, vmas[i].start, vmas[i].end);
		if (ret)
			return ret;
	}
	return 0;
}

int kh_dirty_pidfd(pid_t pid)
{
	int fd = kh_pidfd_open(pid);

	return fd < 0 ? -errno : fd;
}

/* a reused pid is another process: its pidfd says ours is gone */
bool kh_dirty_alive(int pidfd)
{
	return !syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
}
