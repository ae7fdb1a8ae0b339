// SPDX-License-Identifier: MIT
/*
 * Mappings of huge pages (smaps "ht"): anonymous ones (MAP_HUGETLB, shown
 * as "/anon_hugepage (deleted)"), hugetlb memfds (MFD_HUGETLB) and SysV
 * segments (SHM_HUGETLB).  Their page size (KernelPageSize) goes into the
 * image, so restore makes them of the same pages; files on a hugetlbfs
 * mount are not the tree's to recreate and are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crfs/format.h"
#include "kh.h"

#define DELETED " (deleted)"

static bool is_deleted(const char *path)
{
	size_t n = strlen(path), d = strlen(DELETED);

	return n > d && !strcmp(path + n - d, DELETED);
}

/* the object mapped at v: its inode and size into v */
static int stat_object(pid_t pid, struct crfs_vma *v)
{
	char link[96];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", kh_via(pid),
		 v->start, v->end);
	if (stat(link, &st))
		return -1;
	v->shm_ino = st.st_ino;
	v->file_size = st.st_size;
	return 0;
}

/* a hugetlb memfd: one object, as for any memfd (its bytes: 4.21, 4.8) */
static int hugetlb_memfd(pid_t pid, struct crfs_vma *v, const char **why)
{
	if (stat_object(pid, v))
		return (*why = "cannot stat the hugetlb memfd"), 1;
	v->path[strlen(v->path) - strlen(DELETED)] = '\0';
	v->kind = v->flags & VMA_F_SHARED ? VMA_SHMEM : VMA_DELETED;
	return v->file_size ? 0 :
	       ((*why = "a mapping of an empty hugetlb memfd"), 1);
}

int kh_hugetlb_vma(pid_t pid, struct crfs_vma *v, const char **why)
{
	uint64_t huge = v->huge_kb * 1024ULL;

	/* restore maps it whole pages at a time, as the kernel did */
	if (v->huge_kb < 4 || (v->huge_kb & (v->huge_kb - 1)) ||
	    (v->start | v->end | v->pgoff) & (huge - 1))
		return (*why = "a hugetlb mapping of no known page size"), 1;
	if (!strncmp(v->path, "/SYSV", 5))
		return kh_sysv_vma(pid, v, why);
	if (!strncmp(v->path, "/memfd:", 7) && is_deleted(v->path))
		return hugetlb_memfd(pid, v, why);
	if (strcmp(v->path, "/anon_hugepage" DELETED))
		return (*why = "a file on hugetlbfs is not supported yet"), 1;
	if (!(v->flags & VMA_F_SHARED)) {
		v->kind = VMA_ANON;
		return 0;
	}
	/* shared: one object, perhaps mapped by several processes */
	if (stat_object(pid, v))
		return (*why = "cannot stat the shared hugetlb mapping"), 1;
	v->kind = VMA_SHMEM;
	free(v->path);
	v->path = NULL;
	return 0;
}
