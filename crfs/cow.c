// SPDX-License-Identifier: MIT
/*
 * Private memory inherited through fork stays one physical page in parent
 * and child until either writes it.  Such a page is stored once: the
 * child's index points at the parent's copy (or wherever the parent's
 * index points), found by comparing page frames in pagemap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kh.h"
#include "snapshot.h"

#define PAGE 4096ULL

struct builder {
	struct crfs_page_run *runs;
	size_t n, cap;
	uint64_t own_off;
};

static const struct crfs_page_run *run_at(const struct proc_snap *q,
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

/* Appends one page; "fresh" starts a new run (a new VMA or source run). */
static int add(struct builder *b, uint64_t addr, int32_t src, uint64_t off,
	       pid_t own, bool fresh)
{
	struct crfs_page_run *r = b->n ? &b->runs[b->n - 1] : NULL;

	if (src == own)
		off = b->own_off;
	if (!fresh && r && r->src == src &&
	    r->addr + r->npages * PAGE == addr &&
	    r->offset + r->npages * PAGE == off) {
		r->npages++;
	} else {
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 64;
			struct crfs_page_run *nr = realloc(b->runs,
							   cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			b->runs = nr;
			b->cap = cap;
		}
		r = &b->runs[b->n++];
		memset(r, 0, sizeof(*r));
		r->addr = addr;
		r->npages = 1;
		r->src = src;
		r->offset = off;
	}
	if (src == own)
		b->own_off += PAGE;
	return 0;
}

static bool shared_object(const struct proc_snap *p, uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->nvmas; i++)
		if (addr >= p->vmas[i].start && addr < p->vmas[i].end)
			return p->vmas[i].kind == VMA_SHMEM;
	return false;
}

static int split_run(struct builder *b, const struct proc_snap *p,
		     const struct proc_snap *q, const struct crfs_page_run *r)
{
	uint64_t *mine, *theirs, k;
	int ret = -ENOMEM;

	mine = malloc(r->npages * 8);
	theirs = malloc(r->npages * 8);
	if (!mine || !theirs)
		goto out;
	ret = kh_page_frames(p->pid, r->addr, r->npages, mine);
	if (ret)
		goto out;
	if (shared_object(p, r->addr) ||
	    kh_page_frames(q->pid, r->addr, r->npages, theirs))
		memset(theirs, 0, r->npages * 8);
	for (k = 0; !ret && k < r->npages; k++) {
		uint64_t addr = r->addr + k * PAGE;
		const struct crfs_page_run *qr = NULL;

		if (mine[k] && mine[k] == theirs[k])
			qr = run_at(q, addr);
		if (qr)
			ret = add(b, addr, qr->src,
				  qr->offset + (addr - qr->addr), p->pid,
				  k == 0);
		else
			ret = add(b, addr, p->pid, 0, p->pid, k == 0);
	}
out:
	free(mine);
	free(theirs);
	return ret;
}

int share_with_parent(struct snapshot *s, int idx, pid_t ppid)
{
	struct proc_snap *p = &s->procs[idx], *q = NULL;
	struct builder b = { 0 };
	size_t i;
	int k, ret = 0;

	for (k = 0; k < idx; k++)
		if (s->procs[k].pid == ppid && s->procs[k].nruns)
			q = &s->procs[k];
	if (!q || !p->nruns)
		return 0;
	for (i = 0; !ret && i < p->nruns; i++)
		ret = split_run(&b, p, q, &p->runs[i]);
	if (ret) {
		free(b.runs);
		return ret;
	}
	free(p->runs);
	p->runs = b.runs;
	p->nruns = b.n;
	return 0;
}
