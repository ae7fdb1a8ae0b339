/* SPDX-License-Identifier: MIT */
/*
 * dirty.c: which pages a process wrote since a point in time, without
 * soft-dirty (this kernel has none): an asynchronous write-protect
 * userfaultfd (UFFD_FEATURE_WP_ASYNC) registered over its private
 * anonymous memory, read and re-armed with the PAGEMAP_SCAN ioctl of
 * /proc/PID/pagemap (Linux 6.7+).  Debian's headers predate both, so the
 * kernel's ABI is spelled out here.
 */
#ifndef CRFS_KH_DIRTY_H
#define CRFS_KH_DIRTY_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "crfs/image.h"

#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

struct page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC	(1 << 15)
#endif

/*
 * Regions asked of one PAGEMAP_SCAN: at most the kernel's own bounce
 * buffer (PAGEMAP_WALK_SIZE >> PAGE_SHIFT, 512 with 4 KiB pages).  The
 * kernel sets walk_end only when that buffer fills; a call that fills it,
 * copies it out and then walks on to the end of the range returns the
 * walk_end of the fill, short of where it stopped (seen on 6.18; the
 * code has been so since 6.7).  Resumed from there, a walk that also
 * protects (a take) goes over pages once more and lists them out of
 * order: a page written in between was taken for clean (t_precopy's
 * churned writer: 6 of 55 runs, up to three at once).  No larger than
 * the bounce buffer, a call either fills it (walk_end exact) or reaches
 * the end.
 */
#define KH_SCAN_VEC	512

/* r[0..n) sorted by address, overlapping or touching regions merged;
 * returns the new count */
size_t kh_regions_normalize(struct page_region *r, size_t n);

/*
 * PAGEMAP_SCAN of a's [start, end) on pm (a /proc/PID/pagemap) to the
 * end, in calls of KH_SCAN_VEC: every region found, in address order,
 * in *out (malloc'd, *n of them; a->start is moved on).
 */
int kh_pagemap_scan(int pm, struct pm_scan_arg *a, struct page_region **out,
		    size_t *n);

/* a mapping whose writes are tracked: private, writable, anonymous */
bool kh_dirty_trackable(const struct crfs_vma *v);

/*
 * Starts tracking in pid, which must be ptrace-stopped: makes the
 * userfaultfd inside it (its mm is the one tracked), takes it with
 * pidfd_getfd and closes it there, registers every trackable mapping of
 * vmas and write-protects their pages.  Returns our descriptor in *uffd:
 * closing it (or the process's death) ends the tracking.
 */
int kh_dirty_start(pid_t pid, const struct crfs_vma *vmas, size_t n,
		   int *uffd, const char **why);

/*
 * The pages of [start, end) written since the last protect, protected
 * again in the same walk (a write is in this answer or the next, never
 * lost): the get-and-clear of a pre-copy round, costing updates of the
 * written ptes only.  *written may hold holes never populated too.
 * -EPERM: part of the range is not registered (any more): count all of
 * it as written.
 */
int kh_dirty_take(pid_t pid, uint64_t start, uint64_t end,
		  struct page_region **written, size_t *n);

/*
 * Registers (again) and write-protects every trackable mapping of vmas on
 * uffd: after a take, mappings made since are tracked too.  Fails
 * if uffd's mm is no longer pid's (an exec: -ESRCH from the kernel).
 */
int kh_dirty_arm(int uffd, const struct crfs_vma *vmas, size_t n,
		 bool protect);

/*
 * protect false above registers only: every page then counts as written
 * until kh_dirty_protect, which may run while the process does (each
 * pte is protected under its lock; a page written before its pte is
 * reached holds those bytes when copied after).  The walk over all of
 * the range's memory is the expensive part of an arm, so a pre-copy
 * round does it after the tree runs again, before its pages are read,
 * and only over memory whose tracking begins then: protecting again a
 * range a take has read would hide the writes made since that take.
 */
int kh_dirty_protect(int uffd, uint64_t start, uint64_t end);

/* a pidfd of pid (-errno), and whether that process still runs */
int kh_dirty_pidfd(pid_t pid);
bool kh_dirty_alive(int pidfd);

#endif
