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
#include <unistd.h>

#include "kh.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PAGE		4096ULL
#define BATCH		4096

static bool dump_whole_file_pages(const struct crfs_vma *v)
{
	return v->kind != VMA_FILE;
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
		return true;
	case VMA_FILE:
		/* a shared file mapping's state is the file */
		return v->flags & VMA_F_SHARED;
	default:
		return false;
	}
}

/* runs never cross a VMA boundary: restore fills each mapping on its own */
static int add_page(struct crfs_page_run **runs, size_t *n, size_t *cap,
		    uint64_t addr, uint64_t *off, uint64_t vma_start)
{
	struct crfs_page_run *r = *n ? &(*runs)[*n - 1] : NULL;

	if (r && r->addr + r->npages * PAGE == addr && addr != vma_start) {
		r->npages++;
	} else {
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct crfs_page_run *nr = realloc(*runs,
							   nc * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			*runs = nr;
			*cap = nc;
		}
		r = &(*runs)[(*n)++];
		r->addr = addr;
		r->npages = 1;
		r->offset = *off;
		r->hash = 0;
	}
	*off += PAGE;
	return 0;
}

/*
 * A shared anonymous mapping's pages live in a shmem object: a page another
 * process wrote, or one that went to swap, has no entry in our page table.
 * The object itself (map_files) tells which pages exist, by SEEK_DATA.
 */
static int shared_anon_runs(pid_t pid, const struct crfs_vma *v,
			    struct crfs_page_run **runs, size_t *n,
			    size_t *cap, uint64_t *off)
{
	char path[96];
	off_t pos, hole, start = v->pgoff, end = v->pgoff + v->end - v->start;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid,
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
			ret = add_page(runs, n, cap, v->start + pos - start,
				       off, v->start);
	}
	close(fd);
	return ret;
}

int kh_page_frames(pid_t pid, uint64_t addr, size_t n, uint64_t *pfn)
{
	char path[64];
	ssize_t got;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, pfn, n * 8, addr / PAGE * 8);
	close(fd);
	if (got != (ssize_t)(n * 8))
		return got < 0 ? -errno : -EIO;
	for (i = 0; i < n; i++)
		pfn[i] = (pfn[i] & PM_PRESENT) && !(pfn[i] & PM_FILE) ?
			 pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

int kh_page_runs(pid_t pid, const struct crfs_vma *vmas, size_t n,
		 struct crfs_page_run **out, size_t *nout)
{
	struct crfs_page_run *runs = NULL;
	size_t nruns = 0, cap = 0, i;
	uint64_t pm[BATCH], addr, off = 0;
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < n && !ret; i++) {
		const struct crfs_vma *v = &vmas[i];

		if (skip_vma(v))
			continue;
		if (v->kind == VMA_SHMEM) {
			ret = shared_anon_runs(pid, v, &runs, &nruns, &cap,
					       &off);
			continue;
		}
		for (addr = v->start; addr < v->end && !ret;) {
			uint64_t cnt = (v->end - addr) / PAGE, k;
			ssize_t got;

			if (cnt > BATCH)
				cnt = BATCH;
			got = pread(fd, pm, cnt * 8, addr / PAGE * 8);
			if (got <= 0) {
				ret = got < 0 ? -errno : -EIO;
				break;
			}
			cnt = got / 8;
			for (k = 0; k < cnt && !ret; k++) {
				uint64_t e = pm[k];

				if (!(e & (PM_PRESENT | PM_SWAP)))
					continue;
				if ((e & PM_FILE) && !(e & PM_SWAP) &&
				    !dump_whole_file_pages(v))
					continue;
				ret = add_page(&runs, &nruns, &cap,
					       addr + k * PAGE, &off, v->start);
			}
			addr += cnt * PAGE;
		}
	}
	close(fd);
	if (ret) {
		free(runs);
		return ret;
	}
	for (i = 0; i < nruns; i++)
		runs[i].src = pid;
	*out = runs;
	*nout = nruns;
	return 0;
}
