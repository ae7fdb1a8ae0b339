// SPDX-License-Identifier: MIT
/*
 * Huge pages (hugetlb) again: the host must have a pool of the saved page
 * size with room for every hugetlb mapping of the image, checked before
 * anything is made (mmap would fail part way, or a page fault kill the
 * restored process later); their objects are made of those pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <linux/memfd.h>

#include "kh.h"
#include "restore.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)
#define MAX_SIZES 4
#ifndef SHM_HUGE_SHIFT
#define SHM_HUGE_SHIFT 26
#endif

struct pool {
	uint32_t kb;
	uint64_t need;
};

/* a count of the pool of kb pages (its sysfs file name), or -1 */
static long pool_count(uint32_t kb, const char *name)
{
	char path[96], *buf;
	long n;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%ukB/%s",
		 kb, name);
	if (kh_read_file(path, &buf, NULL))
		return -1;
	n = atol(buf);
	free(buf);
	return n;
}

/* free pages of the pool of kb pages not promised to a mapping, or -1 */
static long pool_free(uint32_t kb)
{
	long fr = pool_count(kb, "free_hugepages"),
	     resv = pool_count(kb, "resv_hugepages");

	if (fr < 0 || resv < 0)
		return -1;
	return fr > resv ? fr - resv : 0;
}

/* an object (shmem, a memfd, a SysV segment) counts once, by its inode */
static bool seen_before(const struct image *img, size_t pi, size_t vi)
{
	const struct crfs_vma *v = &img->procs[pi].vmas[vi];
	size_t i, k;

	for (i = 0; i <= pi; i++)
		for (k = 0; k < img->procs[i].nvmas &&
			    (i < pi || k < vi); k++) {
			const struct crfs_vma *o = &img->procs[i].vmas[k];

			if ((o->flags & VMA_F_HUGETLB) && o->kind == v->kind &&
			    o->shm_ino == v->shm_ino &&
			    (o->kind == VMA_SHMEM || o->kind == VMA_SYSV))
				return true;
		}
	return false;
}

/* the bytes of the saved pages of private mapping v of process p */
static uint64_t saved_bytes(const struct proc_image *p,
			    const struct crfs_vma *v)
{
	uint64_t n = 0;
	size_t r;

	for (r = 0; r < p->nruns; r++)
		if (p->runs[r].addr >= v->start && p->runs[r].addr < v->end)
			n += p->runs[r].npages * 4096;
	return n;
}

/*
 * Pages a mapping takes: a private one reserves its whole length when it
 * is mapped (MAP_NORESERVE: only its saved pages are made), plus, for a
 * private mapping of a memfd, its object; a shared one, its object once.
 */
static uint64_t pages_of(const struct image *img, size_t pi, size_t vi)
{
	const struct crfs_vma *v = &img->procs[pi].vmas[vi];
	uint64_t huge = v->huge_kb * 1024ULL, n = 0;

	if (!(v->flags & VMA_F_SHARED) && !(v->flags & VMA_F_NORESERVE))
		n += (v->end - v->start) / huge;
	else if (!(v->flags & VMA_F_SHARED))
		n += (saved_bytes(&img->procs[pi], v) + huge - 1) / huge;
	if ((v->kind == VMA_SHMEM || v->kind == VMA_SYSV ||
	     v->kind == VMA_DELETED) && !seen_before(img, pi, vi))
		n += (v->file_size + huge - 1) / huge;
	return n;
}

static struct pool *pool_of(struct pool *p, size_t *n, uint32_t kb)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (p[i].kb == kb)
			return &p[i];
	if (*n == MAX_SIZES)
		return NULL;
	p[*n] = (struct pool){ .kb = kb };
	return &p[(*n)++];
}

int hugetlb_check(const struct image *img, char *err, size_t errlen)
{
	struct pool pools[MAX_SIZES], *pl;
	size_t npools = 0, i, k;
	long fr;

	for (i = 0; i < img->nprocs; i++)
		for (k = 0; k < img->procs[i].nvmas; k++) {
			const struct crfs_vma *v = &img->procs[i].vmas[k];

			if (!(v->flags & VMA_F_HUGETLB))
				continue;
			pl = pool_of(pools, &npools, v->huge_kb);
			if (!pl)
				return ERR("%s/%d/%s: hugetlb mapping at 0x%lx: more than %d huge page sizes",
					   img->dir, img->procs[i].pid,
					   CRFS_F_MAPS, v->start, MAX_SIZES);
			pl->need += pages_of(img, i, k);
			fr = pool_free(v->huge_kb);
			if (fr < 0)
				return ERR("%s/%d/%s: hugetlb mapping at 0x%lx needs %u kB pages: this host has none of that size",
					   img->dir, img->procs[i].pid,
					   CRFS_F_MAPS, v->start, v->huge_kb);
			if ((uint64_t)fr < pl->need)
				return ERR("%s/%d/%s: hugetlb mapping at 0x%lx needs %u kB pages: only %ld free (the image needs %lu of them)",
					   img->dir, img->procs[i].pid,
					   CRFS_F_MAPS, v->start, v->huge_kb,
					   fr, pl->need);
		}
	return 0;
}

/* log2 of a page size in kB, in bytes: MAP_HUGE_*, MFD_HUGE_*, SHM_HUGE_* */
static int huge_shift(uint32_t kb)
{
	return __builtin_ctz(kb) + 10;
}

/* a shared hugetlb object of the image: anonymous, or a memfd by name */
void *hugetlb_obj_map(const struct crfs_vma *v, uint64_t size)
{
	void *addr;
	int fd;

	if (!v->path)
		return mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB |
			    huge_shift(v->huge_kb) << MAP_HUGE_SHIFT, -1, 0);
	if (strncmp(v->path, "/memfd:", 7)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	fd = memfd_create(v->path + 7, MFD_CLOEXEC | MFD_HUGETLB |
			  huge_shift(v->huge_kb) << MFD_HUGE_SHIFT);
	if (fd < 0)
		return MAP_FAILED;
	addr = MAP_FAILED;
	if (!ftruncate(fd, size))
		addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, 0);
	close(fd);
	return addr;
}

int hugetlb_shm_flags(uint32_t kb)
{
	return kb ? SHM_HUGETLB | huge_shift(kb) << SHM_HUGE_SHIFT : 0;
}

/* the page size of SysV segment id's attaches (every saved one has one) */
uint32_t hugetlb_sysv_kb(const struct image *img, int kind, int id)
{
	size_t i, k;

	if (kind != KH_IPC_SHM)
		return 0;
	for (i = 0; i < img->nprocs; i++)
		for (k = 0; k < img->procs[i].nvmas; k++) {
			const struct crfs_vma *v = &img->procs[i].vmas[k];

			if (v->kind == VMA_SYSV && v->shm_ino == (uint64_t)id)
				return v->huge_kb;
		}
	return 0;
}
