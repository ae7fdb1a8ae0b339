// SPDX-License-Identifier: MIT
/*
 * One descriptor per mapped object, shared by all of its mappings: a
 * process with tens of thousands of mappings of a few files needs a few
 * descriptors, not one per mapping, to stay below RLIMIT_NOFILE.  A file
 * is one object per access mode (a writable shared mapping needs O_RDWR),
 * a shared memory object, memfd or deleted file one per inode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "restore.h"

static bool has_object(const struct crfs_vma *v)
{
	return v->kind == VMA_FILE || v->kind == VMA_SHMEM ||
	       v->kind == VMA_DELETED;
}

/* writable now, or may be made so by mprotect (the file was opened
 * O_RDWR): zdtm maps_file_prot */
bool vma_needs_rw(const struct crfs_vma *v)
{
	return (v->flags & VMA_F_SHARED) &&
	       ((v->prot & PROT_WRITE) || (v->flags & VMA_F_MAYWRITE));
}

static uint64_t key_hash(const struct crfs_vma *v)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *s;

	if (v->kind != VMA_FILE)
		return v->shm_ino * 0x9e3779b97f4a7c15ull;
	for (s = v->path; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ^ vma_needs_rw(v);
}

static bool same_object(const struct crfs_vma *a, const struct crfs_vma *b)
{
	/* shared or private, an object is reached through crfs-restore's */
	if (a->kind != VMA_FILE || b->kind != VMA_FILE)
		return a->kind != VMA_FILE && b->kind != VMA_FILE &&
		       a->shm_ino == b->shm_ino;
	return vma_needs_rw(a) == vma_needs_rw(b) && !strcmp(a->path, b->path);
}

/*
 * owner[i]: the first mapping of the object mapping i maps (i itself for
 * that one), -1 for mappings of no object.  Open addressing over twice as
 * many slots as mappings.  Returns the number of objects, or -ENOMEM.
 */
ssize_t vma_owners(const struct proc_image *p, ssize_t *owner)
{
	size_t size = 16, i, at;
	ssize_t *slot, n = 0;

	while (size < 2 * p->nvmas)
		size *= 2;
	slot = malloc(size * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	memset(slot, 0xff, size * sizeof(*slot));
	for (i = 0; i < p->nvmas; i++) {
		owner[i] = -1;
		if (!has_object(&p->vmas[i]))
			continue;
		at = key_hash(&p->vmas[i]) & (size - 1);
		while (slot[at] >= 0 && !same_object(&p->vmas[slot[at]],
						     &p->vmas[i]))
			at = (at + 1) & (size - 1);
		if (slot[at] < 0) {
			slot[at] = i;
			n++;
		}
		owner[i] = slot[at];
	}
	free(slot);
	return n;
}

ssize_t vma_objects(const struct proc_image *p)
{
	ssize_t *owner = malloc((p->nvmas ?: 1) * sizeof(*owner)), n;

	if (!owner)
		return -ENOMEM;
	n = vma_owners(p, owner);
	free(owner);
	return n;
}
