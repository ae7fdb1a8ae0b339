// SPDX-License-Identifier: MIT
/*
 * Seccomp filters for the restorer.  Threads that shared the main
 * thread's filters at checkpoint share them again: the main thread
 * installs its chain filter by filter and creates each thread once it has
 * the filters that thread had in common with it, so clone hands them
 * over as one chain (the kernel keeps no other trace of sharing: filters
 * equal in content and flags at the same place count as shared).
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

/* How many of t's oldest filters it shares with the main thread */
static size_t shared_with_main(const struct proc_image *p,
			       const struct crfs_thread *t)
{
	const struct crfs_thread *m = &p->threads[0];
	size_t i;

	if (t == m)
		return 0;
	for (i = 0; i < t->nfilters && i < m->nfilters; i++)
		if (!same_filter(&t->filters[i], &m->filters[i]))
			break;
	return i;
}

static size_t own_size(const struct proc_image *p, const struct crfs_thread *t)
{
	size_t i, n = 0;

	for (i = shared_with_main(p, t); i < t->nfilters; i++)
		n += sizeof(struct rst_filter) +
		     ALIGN16(t->filters[i].len * sizeof(struct crfs_bpf_insn));
	return n;
}

size_t seccomp_area_size(const struct proc_image *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nthreads; i++)
		n += own_size(p, &p->threads[i]);
	return n;
}

/* Room for t's own filters comes from *room (seccomp_area_size in all) */
void seccomp_fill(struct rst_thread *d, const struct proc_image *p,
		  const struct crfs_thread *t, char **room)
{
	size_t i, k, from = shared_with_main(p, t);
	size_t len;

	d->seccomp_strict = t->seccomp_mode == 1;	/* SECCOMP_MODE_STRICT */
	d->seccomp_inherit = from;
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
