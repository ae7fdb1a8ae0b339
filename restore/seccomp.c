// SPDX-License-Identifier: MIT
/*
 * Seccomp filters for the restorer.  Threads that shared filters at
 * checkpoint share them again: each thread installs its chain filter by
 * filter and creates the threads that had the filters so far in common
 * with it, so clone hands them over as one chain.  The kernel keeps no
 * other trace of sharing: filters equal in flags and instructions at the
 * same place of two chains count as shared.
 */
#include <string.h>

#include "restore.h"
#include "restorer.h"

#define ALIGN16(x) (((x) + 15) & ~(size_t)15)

static bool same_filter(const struct crfs_seccomp_filter *a,
			const struct crfs_seccomp_filter *b)
{
	return a->flags == b->flags && a->len == b->len &&
	       !memcmp(a->insns, b->insns, a->len * sizeof(*a->insns));
}

static size_t common(const struct crfs_thread *t, const struct crfs_thread *u)
{
	size_t i;

	for (i = 0; i < t->nfilters && i < u->nfilters; i++)
		if (!same_filter(&t->filters[i], &u->filters[i]))
			break;
	return i;
}

/*
 * Which earlier thread (0: main) creates thread i, and how many of its
 * oldest filters i gets that way: the longest common chain, the first
 * such thread on a tie.  Threads that share filters thus share them with
 * their creator, which holds them when it clones.  Returns the count.
 */
static size_t creator_of(const struct proc_image *p, size_t i, size_t *by)
{
	size_t u, n, best = 0;

	*by = 0;
	for (u = 0; i && u < i; u++) {
		n = common(&p->threads[i], &p->threads[u]);
		if (n > best) {
			best = n;
			*by = u;
		}
	}
	return best;
}

static size_t own_size(const struct proc_image *p, size_t k)
{
	const struct crfs_thread *t = &p->threads[k];
	size_t i, n = 0, by;

	for (i = creator_of(p, k, &by); i < t->nfilters; i++)
		n += sizeof(struct rst_filter) +
		     ALIGN16(t->filters[i].len * sizeof(struct crfs_bpf_insn));
	return n;
}

size_t seccomp_area_size(const struct proc_image *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nthreads; i++)
		n += own_size(p, i);
	return n;
}

/* Room for t's own filters comes from *room (seccomp_area_size in all) */
void seccomp_fill(struct rst_thread *d, const struct proc_image *p,
		  const struct crfs_thread *t, char **room)
{
	size_t i, k, by, from = creator_of(p, t - p->threads, &by);
	size_t len;

	d->seccomp_strict = t->seccomp_mode == 1;	/* SECCOMP_MODE_STRICT */
	d->seccomp_inherit = from;
	d->seccomp_creator = (int32_t)by - 1;	/* index in rst threads */
	d->nfilters = t->nfilters - from;
	d->filters = (struct rst_filter *)*room;
	*room += d->nfilters * sizeof(struct rst_filter);
	for (i = from, k = 0; i < t->nfilters; i++, k++) {
		len = t->filters[i].len * sizeof(struct crfs_bpf_insn);
		d->filters[k].flags = t->filters[i].flags;
		d->filters[k].prog.len = t->filters[i].len;
		d->filters[k].prog.insns = (uint64_t)(uintptr_t)*room;
		memcpy(*room, t->filters[i].insns, len);
		*room += ALIGN16(len);
	}
}

bool image_has_seccomp(const struct image *img)
{
	size_t i, k;

	for (i = 0; i < img->nprocs; i++)
		for (k = 0; k < img->procs[i].nthreads; k++)
			if (img->procs[i].threads[k].seccomp_mode)
				return true;
	return false;
}
