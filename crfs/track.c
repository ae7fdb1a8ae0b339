// SPDX-License-Identifier: MIT
/*
 * Incremental checkpoints.  "track" on a frozen container makes, in every
 * process, an asynchronous write-protect userfaultfd over its private
 * writable anonymous memory (kh_dirty.h) and keeps the last snapshot's
 * runs as the base.  A later freeze asks which pages were written since:
 * a page that was not, in a mapping still registered, and stored in the
 * base, is presented as "in the base image, process Q, offset O" rather
 * than copied again.  Anything else counts as written: a process forked
 * or exec'd since, a mapping made, moved or replaced since (the kernel
 * drops the registration of those), memory of any other kind.
 *
 * A page taken for clean is neither read nor hashed: its run carries no
 * checksum of its own (FORMAT.md 4.7), so the written set must be exact
 * or larger, never smaller.  runs_minus walks it once, in address order,
 * which kh_dirty_take guarantees (kh_pagemap_scan).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "kh_dirty.h"
#include "track.h"
#include "crfs/array.h"

static void proc_drop(struct track_proc *tp)
{
	if (tp->uffd >= 0)
		close(tp->uffd);
	if (tp->pidfd >= 0)
		close(tp->pidfd);
	free(tp->base);
	free(tp->armed);
	free(tp->pending);
	memset(tp, 0, sizeof(*tp));
	tp->uffd = tp->pidfd = -1;
}

void track_end(struct container *c)
{
	struct track *t = c->track;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nprocs; i++)
		proc_drop(&t->procs[i]);
	free(t->procs);
	free(t->parent);
	free(t);
	c->track = NULL;
}

/* the process tracked under pid, if it is still that one */
static struct track_proc *find_proc(struct track *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->nprocs; i++) {
		struct track_proc *tp = &t->procs[i];

		if (tp->pid != pid)
			continue;
		if (kh_dirty_alive(tp->pidfd))
			return tp;
		proc_drop(tp);	/* its pid was reused: begins anew */
		tp->pid = pid;
		return tp;
	}
	return NULL;
}

static struct track_proc *add_proc(struct track *t, pid_t pid)
{
	struct track_proc *n = array_room(t->procs, t->nprocs, sizeof(*n));

	if (!n)
		return NULL;
	t->procs = n;
	n = &t->procs[t->nprocs++];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->uffd = n->pidfd = -1;
	return n;
}

static bool was_armed(const struct track_proc *tp, const struct crfs_vma *v)
{
	size_t i;

	for (i = 0; i < tp->narmed; i++)
		if (tp->armed[i].start == v->start && tp->armed[i].end == v->end)
			return true;
	return false;
}

/* the ranges of todo[] to protect later (pre-dump: after the thaw) */
static int defer_protect(struct track_proc *tp, const struct crfs_vma *todo,
			 size_t n)
{
	struct track_range *r;
	size_t i;

	for (i = 0; i < n; i++) {
		r = array_room(tp->pending, tp->npending, sizeof(*r));
		if (!r)
			return -ENOMEM;
		tp->pending = r;
		r[tp->npending++] = (struct track_range){ todo[i].start,
							  todo[i].end };
	}
	return 0;
}

/* the trackable mappings of p, registered now (those not yet, if new),
 * and protected now or (!protect) by track_protect */
static int arm_vmas(struct track_proc *tp, const struct proc_snap *p,
		    bool only_new, bool protect)
{
	struct crfs_vma *todo = calloc(p->nvmas ?: 1, sizeof(*todo));
	struct track_range *r = calloc(p->nvmas ?: 1, sizeof(*r));
	size_t i, n = 0, k = 0;
	int ret;

	if (!todo || !r) {
		free(todo);
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < p->nvmas; i++) {
		if (!kh_dirty_trackable(&p->vmas[i]))
			continue;
		r[k++] = (struct track_range){ p->vmas[i].start,
					       p->vmas[i].end };
		if (!only_new || !was_armed(tp, &p->vmas[i]))
			todo[n++] = p->vmas[i];
	}
	ret = kh_dirty_arm(tp->uffd, todo, n, protect);
	if (!ret && !protect)
		ret = defer_protect(tp, todo, n);
	free(todo);
	free(tp->armed);
	tp->armed = ret ? NULL : r;
	tp->narmed = ret ? 0 : k;
	if (ret)
		free(r);
	return ret;
}

/*
 * Tracking of a stopped process begins (again) now.  Already tracked,
 * the written pages were protected again by the scan (clean_pages): only
 * mappings made since need registering, not a walk over all memory.
 */
static int arm_proc(struct track_proc *tp, const struct proc_snap *p,
		    bool protect, const char **why)
{
	int ret;

	if (tp->uffd >= 0 && !arm_vmas(tp, p, true, protect))
		return 0;
	/* never armed, or its memory is another since (an exec) */
	if (tp->uffd >= 0)
		close(tp->uffd);
	tp->uffd = -1;
	tp->npending = 0;
	tp->take = false;	/* nothing since the base is known */
	if (tp->pidfd < 0) {
		tp->pidfd = kh_dirty_pidfd(p->pid);
		if (tp->pidfd < 0) {
			*why = "pidfd_open failed";
			return tp->pidfd;
		}
	}
	ret = kh_dirty_start(p->pid, p->vmas, 0, &tp->uffd, why);
	if (ret)
		return ret;
	ret = arm_vmas(tp, p, false, protect);
	if (ret)
		*why = "UFFDIO_REGISTER/UFFDIO_WRITEPROTECT failed";
	return ret;
}

/*
 * Only where tracking began this round (no take): there no page is
 * claimed clean, all is read after this.  Where a take ran, it protected
 * what it found written, mappings registered at the stop included (all
 * of theirs counts as written then); protecting a range again after it
 * would hide a write made between the take and here (t_precopy's churn:
 * a mapping split by one made beside it is registered again).
 */
void track_protect(struct container *c)
{
	struct track *t = c->track;
	size_t i, k;

	for (i = 0; t && i < t->nprocs; i++) {
		struct track_proc *tp = &t->procs[i];

		for (k = 0; !tp->take && tp->uffd >= 0 && k < tp->npending; k++)
			kh_dirty_protect(tp->uffd, tp->pending[k].start,
					 tp->pending[k].end);
		tp->npending = 0;
	}
}

static int copy_base(struct track_proc *tp, const struct proc_snap *p)
{
	struct crfs_page_run *b = NULL;

	if (p->nruns) {
		b = malloc(p->nruns * sizeof(*b));
		if (!b)
			return -ENOMEM;
		memcpy(b, p->runs, p->nruns * sizeof(*b));
	}
	free(tp->base);
	tp->base = b;
	tp->nbase = p->nruns;
	return 0;
}

int track_start(struct container *c)
{
	struct snapshot *s = c->snap;
	const char *why = "";
	size_t i;
	int ret = 0;

	c->track = calloc(1, sizeof(*c->track));
	if (!c->track)
		return -ENOMEM;
	memcpy(c->track->base_id, s->freeze_id, sizeof(s->freeze_id));
	for (i = 0; !ret && i < s->nprocs; i++) {
		struct proc_snap *p = &s->procs[i];
		struct track_proc *tp;

		if (!p->vmas)	/* a zombie: nothing to track */
			continue;
		tp = add_proc(c->track, p->pid);
		if (tp)	/* a pre-dump's runs are its base after the thaw */
			tp->seen = true;
		ret = tp ? arm_proc(tp, p, !s->predump, &why) : -ENOMEM;
		ret = ret ?: copy_base(tp, p);
		if (ret)
			snprintf(c->error, sizeof(c->error),
				 "track: process %d: %s: %s", p->pid,
				 why[0] ? why : "out of memory", strerror(-ret));
	}
	if (ret)
		track_end(c);
	return ret;
}

/* where the base's run lives, seen from the image after it */
static int32_t src_up(int32_t src)
{
	if (src >= 0)
		return CRFS_SRC_ANCESTOR(1, src);
	return CRFS_SRC_ANCESTOR(CRFS_SRC_LEVEL(src) + 1, CRFS_SRC_PID(src));
}

struct rewrite {
	struct crfs_page_run *out;
	size_t n;
	uint64_t own_off;	/* our pages file, as it grows */
	pid_t pid;
};

/* n pages from addr, from src at off; fresh: a new run of the capture */
static int put_pages(struct rewrite *w, uint64_t addr, uint64_t n,
		     int32_t src, uint64_t off, bool fresh)
{
	struct crfs_page_run *r = w->n ? &w->out[w->n - 1] : NULL;

	if (src == w->pid) {
		off = w->own_off;
		w->own_off += n * 4096;
	}
	if (r && !fresh && r->src == src &&
	    r->addr + r->npages * 4096 == addr &&
	    r->offset + r->npages * 4096 == off) {
		r->npages += n;
		return 0;
	}
	r = array_room(w->out, w->n, sizeof(*r));
	if (!r)
		return -ENOMEM;
	w->out = r;
	w->out[w->n++] = (struct crfs_page_run){ .addr = addr, .npages = n,
						 .src = src, .offset = off };
	return 0;
}

/* [s, e) appended to a sorted list of regions */
static int put_region(struct page_region **out, size_t *n, uint64_t s,
		      uint64_t e)
{
	struct page_region *r;

	if (s >= e)
		return 0;
	if (*n && (*out)[*n - 1].end == s) {
		(*out)[*n - 1].end = e;
		return 0;
	}
	r = array_room(*out, *n, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*out = r;
	r[(*n)++] = (struct page_region){ .start = s, .end = e };
	return 0;
}

/* the pages of p's runs inside [vs, ve) that are not in w[] (sorted) */
static int runs_minus(const struct proc_snap *p, uint64_t vs, uint64_t ve,
		      const struct page_region *w, size_t nw,
		      struct page_region **out, size_t *n)
{
	size_t i, wi = 0;
	int ret = 0;

	for (i = 0; !ret && i < p->nruns; i++) {
		uint64_t a = p->runs[i].addr, e = a + p->runs[i].npages * 4096;

		a = a < vs ? vs : a;
		e = e > ve ? ve : e;
		while (!ret && a < e) {
			while (wi < nw && w[wi].end <= a)
				wi++;
			if (wi < nw && w[wi].start <= a) {
				a = w[wi].end;
				continue;
			}
			uint64_t to = wi < nw && w[wi].start < e ?
				      w[wi].start : e;

			ret = put_region(out, n, a, to);
			a = to;
		}
	}
	return ret;
}

/*
 * The pages of p's trackable mappings not written since the base: its
 * runs (pages present, listed while it is stopped) less the written set,
 * which one walk per mapping takes and clears at once (kh_dirty_take).
 * A mapping not registered any more has no clean page.
 */
static int clean_pages(const struct proc_snap *p, struct page_region **out,
		       size_t *n)
{
	struct page_region *all = NULL, *w;
	unsigned long long t0, t1;
	size_t i, nw;
	int ret = 0;

	*n = 0;
	for (i = 0; !ret && i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];

		if (!kh_dirty_trackable(v))
			continue;
		t0 = track_now_ns();
		ret = kh_dirty_take(p->pid, v->start, v->end, &w, &nw);
		t1 = track_now_ns();
		if (ret == -EPERM) {
			ret = 0;
			continue;
		}
		ret = ret ?: runs_minus(p, v->start, v->end, w, nw, &all, n);
		free(w);
		fprof.take += t1 - t0;
		fprof.clean += track_now_ns() - t1;
	}
	if (ret) {
		free(all);
		*n = 0;
		all = NULL;
	}
	*out = all;
	return ret;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t run_end(const struct crfs_page_run *r)
{
	return r->addr + r->npages * 4096;
}

/*
 * Our own runs, piece by piece (a piece: pages alike in being clean and
 * in which base run they are): a page not written since the base and
 * stored there points into the base (or where the base points); the
 * rest stays ours, renumbered.  Runs stored by another process of this
 * image (copy-on-write, decided from that process's runs, rewritten
 * before ours) stay as they are.
 */
static int rewrite_runs(struct proc_snap *p, const struct track_proc *tp,
			const struct page_region *cl, size_t ncl)
{
	struct rewrite w = { .pid = p->pid };
	size_t i, ci = 0, bi = 0;
	int ret = 0;

	for (i = 0; !ret && i < p->nruns; i++) {
		const struct crfs_page_run *r = &p->runs[i];
		uint64_t a, next, end = run_end(r);

		if (r->src != p->pid) {
			struct crfs_page_run *n = array_room(w.out, w.n,
							     sizeof(*n));

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			w.out = n;
			w.out[w.n++] = *r;
			continue;
		}
		for (a = r->addr; !ret && a < end; a = next) {
			const struct crfs_page_run *b;
			bool clean;

			while (ci < ncl && cl[ci].end <= a)
				ci++;
			while (bi < tp->nbase && run_end(&tp->base[bi]) <= a)
				bi++;
			b = bi < tp->nbase && tp->base[bi].addr <= a ?
			    &tp->base[bi] : NULL;
			clean = ci < ncl && cl[ci].start <= a;
			next = end;
			if (ci < ncl)
				next = min_u64(next, clean ? cl[ci].end :
							     cl[ci].start);
			if (bi < tp->nbase)
				next = min_u64(next, b ? run_end(b) :
							 tp->base[bi].addr);
			if (b && clean)
				ret = put_pages(&w, a, (next - a) / 4096,
						src_up(b->src),
						b->offset + (a - b->addr),
						a == r->addr);
			else
				ret = put_pages(&w, a, (next - a) / 4096,
						p->pid, 0, a == r->addr);
		}
	}
	if (ret) {
		free(w.out);
		return ret;
	}
	free(p->runs);
	p->runs = w.out;
	p->nruns = w.n;
	return 0;
}

unsigned long long track_capture_ns;
struct freeze_prof fprof;

unsigned long long track_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static int track_capture_one(struct snapshot *s, int idx);
/* timed: the profile of a final freeze names this phase apart */
int track_capture(struct snapshot *s, int idx)
{
	unsigned long long t0 = track_now_ns();
	int ret = track_capture_one(s, idx);

	track_capture_ns += track_now_ns() - t0;
	return ret;
}

/* the process of procs[idx], seen by this freeze */
static struct track_proc *seen_proc(struct track *t, pid_t pid)
{
	struct track_proc *tp = find_proc(t, pid) ?: add_proc(t, pid);

	if (tp)
		tp->seen = true;
	return tp;
}

/* p's written set taken and cleared, its clean runs pointed at the base */
static int take_rewrite(struct snapshot *s, struct proc_snap *p,
			const struct track_proc *tp)
{
	struct page_region *cl = NULL;
	unsigned long long t0;
	size_t ncl = 0;
	int ret;

	ret = clean_pages(p, &cl, &ncl);
	t0 = track_now_ns();
	if (!ret && s->incremental)
		ret = rewrite_runs(p, tp, cl, ncl);
	fprof.rewrite += track_now_ns() - t0;
	free(cl);
	return ret;
}

/* not trackable now (it refused a userfaultfd): all of it counts as
 * written next time, which is never wrong */
static void arm_or_drop(struct track_proc *tp, const struct proc_snap *p,
			bool protect)
{
	unsigned long long t0 = track_now_ns();
	const char *why = "";

	if (arm_proc(tp, p, protect, &why) && tp->uffd >= 0) {
		close(tp->uffd);
		tp->uffd = -1;
	}
	fprof.arm += track_now_ns() - t0;
}

static int track_capture_one(struct snapshot *s, int idx)
{
	struct proc_snap *p = &s->procs[idx];
	struct track_proc *tp;
	int ret = 0;

	if (!s->track)
		return 0;
	tp = seen_proc(s->track, p->pid);
	if (!tp)
		return -ENOMEM;
	if (tp->uffd >= 0)
		ret = take_rewrite(s, p, tp);
	if (!ret)
		arm_or_drop(tp, p, true);
	return ret;
}

int track_arm(struct snapshot *s, int idx)
{
	struct proc_snap *p = &s->procs[idx];
	struct track_proc *tp;

	if (!s->track)
		return 0;
	tp = seen_proc(s->track, p->pid);
	if (!tp)
		return -ENOMEM;
	/* tracked since the base by this descriptor: arm_proc clears it
	 * when it begins anew (an exec) */
	tp->take = tp->uffd >= 0;
	arm_or_drop(tp, p, false);
	return 0;
}

int track_take(struct snapshot *s, int idx)
{
	struct proc_snap *p = &s->procs[idx];
	unsigned long long t0 = track_now_ns();
	/* one gone since the stop (its pid reused) has nothing to take */
	struct track_proc *tp = s->track ? find_proc(s->track, p->pid) : NULL;
	int ret = 0;

	if (tp && tp->take && tp->uffd >= 0)
		ret = take_rewrite(s, p, tp);
	/*
	 * As it runs, a process may have exited or exec'd since the stop:
	 * then none of its pages is clean here (its runs stay its own, read
	 * as zeros where gone), and nothing was cleared, so the next round
	 * still finds what it wrote.
	 */
	if (ret && ret != -ENOMEM)
		ret = 0;
	track_capture_ns += track_now_ns() - t0;
	return ret;
}

int track_rebase(struct container *c)
{
	struct track *t = c->track;
	struct snapshot *s = c->snap;
	size_t i, k;
	int ret = 0;

	if (!t)
		return 0;
	for (i = 0; i < t->nprocs; i++) {
		struct track_proc *tp = &t->procs[i];

		for (k = 0; k < s->nprocs && s->procs[k].pid != tp->pid; k++)
			;
		if (!tp->seen || k == s->nprocs) {
			proc_drop(tp);	/* gone: its pid is free */
			t->procs[i--] = t->procs[--t->nprocs];
			continue;
		}
		tp->seen = false;
		ret = ret ?: copy_base(tp, &s->procs[k]);
	}
	memcpy(t->base_id, s->freeze_id, sizeof(s->freeze_id));
	t->depth = s->incremental ? t->depth + 1 : 0;
	free(t->parent);
	t->parent = NULL;
	return ret;
}
