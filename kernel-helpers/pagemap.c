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

#include "kh.h"

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
	if (v->flags & VMA_F_PAGES_ELSEWHERE)
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
 * each mapping on its own) nor a change of source.
 */
static int add_page(struct builder *b, uint64_t addr, int32_t src,
		    uint64_t off, uint64_t vma_start)
{
	struct crfs_page_run *r = b->n ? &b->runs[b->n - 1] : NULL;

	if (src == b->pid)
		off = b->own_off;
	if (r && addr != vma_start && r->src == src &&
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

/*
 * A shared anonymous mapping's pages live in a shmem object: a page another
 * process wrote, or one that went to swap, has no entry in our page table.
 * The object itself (map_files) tells which pages exist, by SEEK_DATA.
 */
static int shared_anon_runs(struct builder *b, const struct crfs_vma *v)
{
	char path[96];
	off_t pos, hole, start = v->pgoff, end = v->pgoff + v->end - v->start;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", kh_via(b->pid),
		 v->start, v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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

static int vma_runs(struct builder *b, int fd, struct donors *d,
		    const struct crfs_vma *v)
{
	uint64_t pm[BATCH], addr, cnt, k;
	const struct crfs_page_run *qr;
	ssize_t got;
	int ret = 0;

	for (addr = v->start; addr < v->end && !ret; addr += cnt * PAGE) {
		cnt = (v->end - addr) / PAGE;
		if (cnt > BATCH)
			cnt = BATCH;
		got = pread(fd, pm, cnt * 8, addr / PAGE * 8);
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		cnt = got / 8;
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

static int open_pagemap(pid_t pid)
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
		d->fd[i] = q[i].nruns ? open_pagemap(q[i].pid) : -1;
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

	fd = open_pagemap(pid);
	if (fd < 0)
		return fd;
	ret = open_donors(&d, donors, ndonors);
	opened = !ret;
	for (i = 0; i < n && !ret; i++) {
		if (skip_vma(&vmas[i]))
			continue;
		ret = vmas[i].kind == VMA_SHMEM ?
		      shared_anon_runs(&b, &vmas[i]) :
		      vma_runs(&b, fd, &d, &vmas[i]);
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
