// SPDX-License-Identifier: MIT
/*
 * Which pages carry state of their own: present or swapped pages of
 * anonymous memory, and the copied-on-write (anonymous) pages of private
 * file mappings.  Untouched file pages come back from the file itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kh.h"
#include "kh_dirty.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PM_GUARD_REGION	(1ULL << 58)	/* a MADV_GUARD_INSTALL marker */
#define PAGE		4096ULL
#define BATCH		4096

/*
 * A page never touched that dirty tracking (kh_dirty.h) write-protected
 * ahead: the kernel's pte marker shows as swap of type 31 (SWP_PTE_MARKER,
 * above every swap device), offset PTE_MARKER_UFFD_WP.  No bytes: it
 * reads as zero, like a page that was never there.
 */
static bool uffd_wp_marker(uint64_t e)
{
	return (e & PM_SWAP) && !(e & PM_PRESENT) && (e & 0x1f) == 31 &&
	       ((e & ((1ULL << 55) - 1)) >> 5) == 1;
}

static bool dump_whole_file_pages(const struct crfs_vma *v)
{
	return v->kind != VMA_FILE && v->kind != VMA_DELETED;
}

static bool skip_vma(const struct crfs_vma *v)
{
	/*
	 * MAP_DROPPABLE: the kernel may drop its pages at any time (reads
	 * then give zeros), so none is stored and it comes back empty, as
	 * with CRIU (zdtm maps11 expects zeros after a restore)
	 */
	if (v->flags & (VMA_F_PAGES_ELSEWHERE | VMA_F_DROPPABLE))
		return true;
	switch (v->kind) {
	case VMA_VDSO:
	case VMA_VVAR:
	case VMA_VVAR_VCLOCK:
	case VMA_VSYSCALL:
	case VMA_SYSV:		/* the segment's bytes are in ipc/shm/ */
		return true;
	case VMA_FILE:
		/* a shared file mapping's state is the file */
		return v->flags & VMA_F_SHARED;
	default:
		return false;
	}
}

struct builder {
	pid_t pid;
	struct crfs_page_run *runs;
	size_t n, cap;
	uint64_t own_off;	/* end of our own pages file so far */
	uint64_t guard_at;	/* the first guard page met, or 0 */
};

/*
 * Appends one page, stored by src at off (or, for our own pages, at the
 * end of our pages file).  Runs never cross a VMA boundary (restore fills
 * each mapping on its own), a change of source, nor a multiple of
 * CRFS_RUN_CUT (restore's fill workers share out runs).
 */
static int add_page(struct builder *b, uint64_t addr, int32_t src,
		    uint64_t off, uint64_t vma_start)
{
	struct crfs_page_run *r = b->n ? &b->runs[b->n - 1] : NULL;

	if (src == b->pid)
		off = b->own_off;
	if (r && addr != vma_start && !crfs_run_cut(addr) && r->src == src &&
	    r->addr + r->npages * PAGE == addr &&
	    r->offset + r->npages * PAGE == off) {
		r->npages++;
	} else {
		if (b->n == b->cap) {
			size_t nc = b->cap ? b->cap * 2 : 64;
			struct crfs_page_run *nr = realloc(b->runs,
							   nc * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			b->runs = nr;
			b->cap = nc;
		}
		r = &b->runs[b->n++];
		r->addr = addr;
		r->npages = 1;
		r->src = src;
		r->offset = off;
		r->hash = 0;
	}
	if (src == b->pid)
		b->own_off += PAGE;
	return 0;
}

/* the object mapped at v, read-only: -errno or a descriptor */
static int open_object(pid_t pid, const struct crfs_vma *v)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * A shared anonymous mapping's pages live in a shmem object: a page another
 * process wrote, or one that went to swap, has no entry in our page table.
 * The object itself (map_files) tells which pages exist, by SEEK_DATA.
 */
static int shared_anon_runs(struct builder *b, const struct crfs_vma *v)
{
	off_t pos, hole, start = v->pgoff, end = v->pgoff + v->end - v->start;
	int fd, ret = 0;

	fd = open_object(b->pid, v);
	if (fd < 0)
		return fd;
	for (pos = start; pos < end && !ret;) {
		pos = lseek(fd, pos, SEEK_DATA);
		if (pos < 0 || pos >= end)
			break;
		hole = lseek(fd, pos, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		for (; pos < hole && !ret; pos += PAGE)
			ret = add_page(b, v->start + pos - start, b->pid, 0,
				       v->start);
	}
	close(fd);
	return ret;
}

/*
 * hugetlbfs has no SEEK_DATA (all of a file is data to it) and no other
 * way to tell a page from a hole; a read of a hole gives zeros without
 * making a page.  So each huge page of the object is read, and stored if
 * it is not all zeros: a page of zeros comes back as a hole, which reads
 * the same, and the tree's reads of its holes make no page either.
 */
static bool all_zero(const char *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static int shared_hugetlb_runs(struct builder *b, const struct crfs_vma *v)
{
	uint64_t huge = v->huge_kb * 1024ULL, pos, k;
	ssize_t got;
	char *buf;
	int fd, ret = 0;

	fd = open_object(b->pid, v);
	if (fd < 0)
		return fd;
	buf = malloc(huge);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (pos = 0; pos < v->end - v->start && !ret; pos += huge) {
		got = pread(fd, buf, huge, v->pgoff + pos);
		if (got < 0) {
			ret = -errno;
			break;
		}
		if (all_zero(buf, got))
			continue;
		for (k = 0; k < huge && !ret; k += PAGE)
			ret = add_page(b, v->start + pos + k, b->pid, 0,
				       v->start);
	}
	free(buf);
	close(fd);
	return ret;
}

static const struct crfs_page_run *run_at(const struct kh_parent *q,
					  uint64_t addr)
{
	size_t lo = 0, hi = q->nruns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct crfs_page_run *r = &q->runs[mid];

		if (addr < r->addr)
			hi = mid;
		else if (addr >= r->addr + r->npages * PAGE)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* does a run of q hold any page of [start, end)? */
static bool runs_within(const struct kh_parent *q, uint64_t start,
			uint64_t end)
{
	size_t i = crfs_runs_first_above(q->runs, q->nruns, start);

	return i < q->nruns && q->runs[i].addr < end;
}

/* the page frame of a present anonymous page, 0 for any other */
static uint64_t anon_frame(uint64_t e)
{
	return (e & PM_PRESENT) && !(e & PM_FILE) ? e & ((1ULL << 55) - 1) : 0;
}

/* the donors' pagemaps, read for the addresses we look at */
struct donors {
	const struct kh_parent *q;
	size_t n;
	int fd[KH_MAX_DONORS];
	uint64_t *pm[KH_MAX_DONORS];
};

/* donors [from, to) */
static void read_donors(struct donors *d, size_t from, size_t to,
			uint64_t addr, uint64_t cnt)
{
	size_t i;

	for (i = from; i < to && i < d->n; i++)
		if (d->fd[i] < 0 || pread(d->fd[i], d->pm[i], cnt * 8,
					  addr / PAGE * 8) != (ssize_t)(cnt * 8))
			memset(d->pm[i], 0, cnt * 8);
}

/* the first donor's run holding our page frame at a (its k-th of a batch) */
static const struct crfs_page_run *donor_run(const struct donors *d,
					     uint64_t e, uint64_t k, uint64_t a)
{
	const struct crfs_page_run *r;
	size_t i;

	if (!anon_frame(e))
		return NULL;
	for (i = 0; i < d->n; i++)
		if (anon_frame(e) == anon_frame(d->pm[i][k]) &&
		    (r = run_at(&d->q[i], a)))
			return r;
	return NULL;
}

/*
 * The pagemap entries of up to BATCH pages from addr (below end) into pm:
 * how many were read (at least one), or -errno
 */
static ssize_t pm_batch(int fd, uint64_t *pm, uint64_t addr, uint64_t end)
{
	uint64_t cnt = (end - addr) / PAGE;
	ssize_t got;

	if (cnt > BATCH)
		cnt = BATCH;
	got = pread(fd, pm, cnt * 8, addr / PAGE * 8);
	if (got <= 0)
		return got < 0 ? -errno : -EIO;
	return got / 8;
}

/* [start, end) of v, page by page from the pagemap */
static int range_runs(struct builder *b, int fd, struct donors *d,
		      const struct crfs_vma *v, uint64_t start, uint64_t end)
{
	uint64_t pm[BATCH], addr, cnt, k;
	const struct crfs_page_run *qr;
	ssize_t got;
	int ret = 0;

	for (addr = start; addr < end && !ret; addr += cnt * PAGE) {
		got = pm_batch(fd, pm, addr, end);
		if (got < 0)
			return got;
		cnt = got;
		/* the siblings only where the first donor (the parent) does
		 * not hold one of our pages: their pagemaps cost */
		read_donors(d, 0, 1, addr, cnt);
		for (k = 0; d->n > 1 && k < cnt; k++)
			if (anon_frame(pm[k]) &&
			    anon_frame(pm[k]) != anon_frame(d->pm[0][k]))
				break;
		if (k < cnt)
			read_donors(d, 1, d->n, addr, cnt);
		else
			for (k = 1; k < d->n; k++)
				memset(d->pm[k], 0, cnt * 8);
		for (k = 0; k < cnt && !ret; k++) {
			uint64_t e = pm[k], a = addr + k * PAGE;

			/* a guard marker reads as swap but has no bytes:
			 * the caller refuses it by name */
			if (e & PM_GUARD_REGION) {
				b->guard_at = b->guard_at ?: a;
				continue;
			}
			if (!(e & (PM_PRESENT | PM_SWAP)) || uffd_wp_marker(e))
				continue;
			if ((e & PM_FILE) && !(e & PM_SWAP) &&
			    !dump_whole_file_pages(v))
				continue;
			qr = donor_run(d, e, k, a);
			ret = qr ? add_page(b, a, qr->src,
					    qr->offset + (a - qr->addr), v->start) :
				   add_page(b, a, b->pid, 0, v->start);
		}
	}
	return ret;
}

static int vma_runs(struct builder *b, int fd, struct donors *d,
		    const struct crfs_vma *v)
{
	return range_runs(b, fd, d, v, v->start, v->end);
}

/* n pages of our own from addr, as add_page would append them one by one */
static int add_own_pages(struct builder *b, uint64_t addr, uint64_t n,
			 uint64_t vma_start)
{
	uint64_t k;
	int ret = 0;

	/* piece by piece up to each run cut, which add_page honours */
	while (!ret && n) {
		k = (CRFS_RUN_CUT - (addr & (CRFS_RUN_CUT - 1))) / PAGE;
		if (k > n)
			k = n;
		ret = add_page(b, addr, b->pid, 0, vma_start);
		if (!ret && k > 1) {
			b->runs[b->n - 1].npages += k - 1;
			b->own_off += (k - 1) * PAGE;
		}
		addr += k * PAGE;
		n -= k;
	}
	return ret;
}

/* private anonymous memory: no file pages, nothing of another object */
static bool anon_private(const struct crfs_vma *v)
{
	return (v->kind == VMA_ANON || v->kind == VMA_HEAP ||
		v->kind == VMA_STACK) &&
	       !(v->flags & (VMA_F_SHARED | VMA_F_HUGETLB));
}

/*
 * A donor shares a page only at its own address (a fork's copy-on-write):
 * a mapping where no donor has a page has none of theirs (a process's
 * own mmap after the fork, as a server's 1 GiB, whose pagemap, 8 bytes a
 * page, took 10-17 ms of a freeze to read).
 */
static bool donor_pages_in(const struct donors *d, const struct crfs_vma *v)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (runs_within(&d->q[i], v->start, v->end))
			return true;
	return false;
}

/*
 * Memory whose pages no relative of the tree may share (no donor has a
 * page in the mapping): no page frame is compared, so the kernel can list
 * the present ranges of its anonymous memory (PAGEMAP_SCAN) instead of 8
 * bytes a page.
 * Swapped ranges are looked at page by page: a guard marker and dirty
 * tracking's marker of a page never touched (kh_dirty.h) read as swap
 * there too, and have no bytes.
 */
static int vma_runs_scan(struct builder *b, int fd, struct donors *d,
			 const struct crfs_vma *v)
{
	struct page_region r[KH_SCAN_VEC];	/* so walk_end is exact */
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = v->start, .end = v->end,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	long got, k;
	int ret = 0;

	while (!ret && a.start < a.end) {
		a.vec = (uintptr_t)r;
		a.vec_len = sizeof(r) / sizeof(r[0]);
		got = ioctl(fd, PAGEMAP_SCAN, &a);
		if (got < 0)	/* a kernel before 6.7: the pagemap then */
			return errno == ENOTTY ? vma_runs(b, fd, d, v) : -errno;
		for (k = 0; k < got && !ret; k++)
			ret = r[k].categories & PAGE_IS_PRESENT ?
			      add_own_pages(b, r[k].start,
					    (r[k].end - r[k].start) / PAGE,
					    v->start) :
			      range_runs(b, fd, d, v, r[k].start, r[k].end);
		if (a.walk_end <= a.start)
			return -EIO;
		a.start = a.walk_end;
	}
	return ret;
}

/*
 * A guard region can sit in memory whose pages are not read through the
 * pagemap (a shared file mapping, shared anonymous or SysV memory, whose
 * bytes are their object's): its markers are in this process's page
 * tables all the same.  One PAGEMAP_SCAN for the first marker (Linux
 * 6.14+ has the category); before, the pagemap page by page.
 */
#define PAGE_IS_GUARD_	(1 << 8)

static bool special_vma(const struct crfs_vma *v)
{
	return v->kind == VMA_VDSO || v->kind == VMA_VVAR ||
	       v->kind == VMA_VVAR_VCLOCK || v->kind == VMA_VSYSCALL;
}

/* the guard pages of v, appended to *g (*n of them), by the pagemap */
static int guards_by_pagemap(int fd, const struct crfs_vma *v,
			     struct crfs_guard **g, size_t *n)
{
	uint64_t pm[BATCH], addr, cnt, k, a;
	struct crfs_guard *ng;
	ssize_t got;

	for (addr = v->start; addr < v->end; addr += cnt * PAGE) {
		got = pm_batch(fd, pm, addr, v->end);
		if (got < 0)
			return got;
		cnt = got;
		for (k = 0; k < cnt; k++) {
			if (!(pm[k] & PM_GUARD_REGION))
				continue;
			a = addr + k * PAGE;
			/* one range a mapping: PID/guards wants each in one */
			if (*n && (*g)[*n - 1].end == a &&
			    (*g)[*n - 1].start >= v->start) {
				(*g)[*n - 1].end += PAGE;
				continue;
			}
			ng = realloc(*g, (*n + 1) * sizeof(*ng));
			if (!ng)
				return -ENOMEM;
			*g = ng;
			ng[(*n)++] = (struct crfs_guard){ a, a + PAGE };
		}
	}
	return 0;
}

static int guard_scan(int fd, const struct crfs_vma *v, uint64_t *guard_at)
{
	struct page_region r;
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = v->start, .end = v->end,
		.vec = (uintptr_t)&r, .vec_len = 1, .max_pages = 1,
		.category_anyof_mask = PAGE_IS_GUARD_,
		.return_mask = PAGE_IS_GUARD_,
	};
	long got = ioctl(fd, PAGEMAP_SCAN, &a);
	struct crfs_guard *g = NULL;
	size_t n = 0;

	/* before 6.14: the first of all the pagemap shows */
	if (got < 0 && (errno == EINVAL || errno == ENOTTY)) {
		got = guards_by_pagemap(fd, v, &g, &n);
		if (!got && n)
			*guard_at = g[0].start;
		free(g);
		return (int)got;
	}
	if (got < 0)
		return -errno;
	if (got > 0)
		*guard_at = r.start;
	return 0;
}

/* the guard pages of v, appended to *g: one PAGEMAP_SCAN (6.14+) */
static int guards_of(int fd, const struct crfs_vma *v, struct crfs_guard **g,
		     size_t *n)
{
	struct pm_scan_arg a = {
		.start = v->start, .end = v->end,
		.category_anyof_mask = PAGE_IS_GUARD_,
		.return_mask = PAGE_IS_GUARD_,
	};
	struct page_region *r;
	struct crfs_guard *ng;
	size_t nr, i;
	int ret = kh_pagemap_scan(fd, &a, &r, &nr);

	if (ret == -EINVAL || ret == -ENOTTY) {
		free(r);
		return guards_by_pagemap(fd, v, g, n);
	}
	ng = ret || !nr ? NULL : realloc(*g, (*n + nr) * sizeof(*ng));
	if (!ret && nr && !ng)
		ret = -ENOMEM;
	for (i = 0; ng && i < nr; i++)
		ng[(*n)++] = (struct crfs_guard){ r[i].start, r[i].end };
	if (ng)
		*g = ng;
	free(r);
	return ret;
}

int kh_guard_ranges(pid_t pid, const struct crfs_vma *vmas, size_t n,
		    struct crfs_guard **out, size_t *nout)
{
	int fd = kh_pagemap_open(pid), ret = 0;
	size_t i;

	*out = NULL;
	*nout = 0;
	if (fd < 0)
		return fd;
	for (i = 0; !ret && i < n; i++)
		if (!special_vma(&vmas[i]))
			ret = guards_of(fd, &vmas[i], out, nout);
	close(fd);
	if (ret) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	return ret;
}

int kh_pagemap_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", kh_via(pid));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void close_donors(struct donors *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (d->fd[i] >= 0)
			close(d->fd[i]);
		free(d->pm[i]);
	}
}

static int open_donors(struct donors *d, const struct kh_parent *q, size_t n)
{
	size_t i;

	d->q = q;
	d->n = 0;
	for (i = 0; i < n && i < KH_MAX_DONORS; i++) {
		d->pm[i] = malloc(BATCH * 8);
		d->fd[i] = q[i].nruns ? kh_pagemap_open(q[i].pid) : -1;
		d->n++;
		if (!d->pm[i]) {
			close_donors(d);
			return -ENOMEM;
		}
	}
	return 0;
}

int kh_page_runs(pid_t pid, const struct crfs_vma *vmas, size_t n,
		 const struct kh_parent *donors, size_t ndonors,
		 struct crfs_page_run **out, size_t *nout, uint64_t *guard_at)
{
	struct builder b = { .pid = pid };
	struct donors d;
	int fd, ret = 0;
	bool opened;
	size_t i;

	fd = kh_pagemap_open(pid);
	if (fd < 0)
		return fd;
	ret = open_donors(&d, donors, ndonors);
	opened = !ret;
	for (i = 0; i < n && !ret; i++) {
		if (guard_at && !b.guard_at && !special_vma(&vmas[i]) &&
		    (skip_vma(&vmas[i]) || vmas[i].kind == VMA_SHMEM))
			ret = guard_scan(fd, &vmas[i], &b.guard_at);
		if (ret || skip_vma(&vmas[i]))
			continue;
		if (vmas[i].kind == VMA_SHMEM &&
		    (vmas[i].flags & VMA_F_HUGETLB))
			ret = shared_hugetlb_runs(&b, &vmas[i]);
		else if (vmas[i].kind == VMA_SHMEM)
			ret = shared_anon_runs(&b, &vmas[i]);
		else if (anon_private(&vmas[i]) && !donor_pages_in(&d, &vmas[i]))
			ret = vma_runs_scan(&b, fd, &d, &vmas[i]);
		else
			ret = vma_runs(&b, fd, &d, &vmas[i]);
	}
	close(fd);
	if (opened)
		close_donors(&d);
	if (ret) {
		free(b.runs);
		return ret;
	}
	*out = b.runs;
	*nout = b.n;
	if (guard_at)
		*guard_at = b.guard_at;
	return 0;
}
