// SPDX-License-Identifier: MIT
/*
 * Post-dump: a snapshot that outlives its freeze.  While the tree is
 * stopped, every process forks a twin that never runs (kh_snap_fork): the
 * twin's memory is the process's at the freeze, copy-on-write, so the
 * freeze costs page tables, not a copy of memory, and only the pages the
 * tree writes during the copy cost memory.  A fork does not keep shared
 * memory (the tree writes through it), MADV_DONTFORK (absent in the child)
 * or MADV_WIPEONFORK (zero in it): those pages are copied out while
 * frozen.  Everything else a snapshot holds is rendered at freeze time
 * already, so files, sockets, pipes and IPC describe the same instant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "kh.h"

static const struct crfs_vma *vma_of(const struct proc_snap *p,
				     uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->nvmas; i++)
		if (addr >= p->vmas[i].start && addr < p->vmas[i].end)
			return &p->vmas[i];
	return NULL;
}

/* pages a fork does not give the twin as they are now */
static bool fork_loses(const struct crfs_vma *v)
{
	/* a packet ring's pages: the kernel writes them as packets come;
	 * hugetlb: a write by the tree when the pool has no page for its
	 * copy takes the page away from the twin (unmap_ref_private) */
	return v->kind == VMA_SHMEM || v->kind == VMA_PACKET ||
	       (v->flags & (VMA_F_DONTFORK | VMA_F_WIPEONFORK |
			    VMA_F_HUGETLB));
}

static int copy_lost(struct snapshot *s, struct proc_snap *p)
{
	const struct crfs_vma *v;
	size_t i, len;

	p->copies = calloc(p->nruns ?: 1, sizeof(*p->copies));
	if (!p->copies)
		return -ENOMEM;
	for (i = 0; i < p->nruns; i++) {
		v = vma_of(p, p->runs[i].addr);
		if (!v || !fork_loses(v))
			continue;
		len = p->runs[i].npages * 4096;
		p->copies[i] = malloc(len);
		if (!p->copies[i])
			return -ENOMEM;
		if (kh_mem_read(p->pid, p->memfd, p->runs[i].addr,
				p->copies[i], len) != (ssize_t)len)
			return -EIO;
		s->copied += len;
	}
	return 0;
}

static int make_twin(struct snapshot *s, struct proc_snap *p)
{
	int ret, fd;

	ret = copy_lost(s, p);
	ret = ret ?: kh_snap_fork(p->pid, &p->twin, &p->vtwin);
	if (ret)
		return ret;
	fd = kh_mem_open(p->twin, O_RDONLY);
	if (fd < 0)
		return fd;
	close(p->memfd);
	p->memfd = fd;
	return 0;
}

int postdump_take(struct container *c)
{
	struct snapshot *s = c->snap;
	size_t i;
	int ret;

	/* the connection goes on: its peer would be ahead of the image */
	if (s->ntcp) {
		snprintf(c->error, sizeof(c->error),
			 "snapshot: the tree holds %zu TCP connection(s), which go on while the copy is made: use freeze",
			 s->ntcp);
		return -EBUSY;
	}
	s->postdump = true;
	for (i = 0; i < s->nprocs; i++) {
		if (s->procs[i].memfd < 0)
			continue;	/* a zombie: no memory */
		ret = make_twin(s, &s->procs[i]);
		if (ret) {
			snprintf(c->error, sizeof(c->error),
				 "snapshot: process %d: cannot fork its copy-on-write twin: %s; the tree was left running",
				 s->procs[i].pid, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void postdump_drop(struct snapshot *s)
{
	struct proc_snap *p;
	size_t i, k;

	for (i = 0; i < s->nprocs; i++) {
		p = &s->procs[i];
		if (p->twin)
			kh_snap_drop(p->twin, p->pid, p->vtwin);
		p->twin = 0;
		for (k = 0; p->copies && k < p->nruns; k++)
			free(p->copies[k]);
		free(p->copies);
		p->copies = NULL;
	}
}

ssize_t snap_mem_read(struct proc_snap *p, size_t run, uint64_t addr,
		      void *buf, size_t n)
{
	if (p->copies && p->copies[run]) {
		memcpy(buf, p->copies[run] + (addr - p->runs[run].addr), n);
		return n;
	}
	if (p->live)
		return predump_mem_read(p, addr, buf, n);
	return kh_mem_read(p->twin ?: p->pid, p->memfd, addr, buf, n);
}

long postdump_cost_kb(struct snapshot *s)
{
	long kb = s->copied / 1024, n;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].twin &&
		    (n = kh_private_kb(s->procs[i].twin)) > 0)
			kb += n;
	return kb;
}
