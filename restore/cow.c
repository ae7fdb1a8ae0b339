// SPDX-License-Identifier: MIT
/*
 * Copy-on-write sharing between a parent and its children, made again.
 * A child's pages that were still shared with its parent at checkpoint
 * (pages.idx: the run points at the same stored copy as the parent's
 * page) should be one page frame again after restore, or a prefork server
 * with N workers comes back using N times the memory.
 *
 * So, before a process forks its children, it maps each of its private
 * anonymous mappings that a child maps with the same bounds and shares
 * pages of at its saved address, and fills it with its own contents: the
 * children inherit those very pages.  A child keeps such a mapping when it
 * has one with the same bounds, rewrites only the pages it does not share
 * with its parent and drops those it does not have (they read as zero);
 * it does that before it forks its own children, so sharing goes down
 * any number of generations.  The restorer leaves these mappings where
 * they are and only sets their protection and flags.
 *
 * The ranges a process holds so are a global: its children inherit them
 * with the fork (as share_fs.c hands down its counter).  So do helpers
 * forked on the way (session and group leaders), whose members are the
 * process's children in the image.
 *
 * Pages the children share only among themselves (the parent rewrote its
 * own after forking them: a child's run points at a sibling's copy) are
 * shared again the same way: the parent holds the siblings' copy there
 * while it forks (the overrides, a global the children inherit too, so
 * they know what they got) and puts its own back once every child is
 * forked (cow_after_forks).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "page_src.h"
#include "restore.h"
#include "restorer.h"

#define PAGE 4096UL

struct cow_list {
	struct rst_range *r;
	size_t n;
};

static struct cow_list ours;	/* what our children inherit */

/* a page we hold as a sibling's copy (src's pages at off) while forking */
struct cow_page {
	uint64_t addr;
	int32_t src;
	uint64_t off;
};

struct cow_pages {
	struct cow_page *p;
	size_t n;
};

static struct cow_pages over;	/* sorted by address; inherited */

_Static_assert(offsetof(struct crfs_vma, start) == 0 &&
	       offsetof(struct rst_range, start) == 0 &&
	       offsetof(struct cow_page, addr) == 0,
	       "lower_bound() keys on the first field");

/* while one process prepares: its children, the pages files it reads */
struct cow_ctx {
	struct image *img;
	int err_fd;
	size_t *kids;
	size_t nkids;
	pid_t *src;
	int *fd;
	size_t nsrc;
};

/*
 * Private memory a fork hands down as it is: anonymous, or a private
 * mapping of a file, whose written pages are anonymous copies (the data
 * of every library).
 */
static bool cow_kind(const struct crfs_vma *v)
{
	return (v->kind == VMA_ANON || v->kind == VMA_HEAP ||
		v->kind == VMA_FILE) &&
	       !(v->flags & (VMA_F_SHARED | VMA_F_GROWSDOWN | VMA_F_HUGETLB |
			     VMA_F_PAGES_ELSEWHERE));
}

/* would a fork of a's process have b, as it is? */
static bool same_mapping(const struct crfs_vma *a, const struct crfs_vma *b)
{
	if (!cow_kind(a) || !cow_kind(b) || a->kind != b->kind ||
	    (a->flags & VMA_F_NORESERVE) != (b->flags & VMA_F_NORESERVE))
		return false;
	return a->kind != VMA_FILE ||
	       (a->pgoff == b->pgoff && !strcmp(a->path, b->path));
}

/*
 * The first of n sorted elements of size bytes whose key is not below
 * key; each begins with its uint64_t key (a mapping's or range's start, a
 * page's address).
 */
static size_t lower_bound(const void *base, size_t n, size_t size,
			  uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (*(const uint64_t *)((const char *)base + mid * size) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct crfs_vma *vma_exact(const struct proc_image *p,
					uint64_t start, uint64_t end)
{
	size_t lo = lower_bound(p->vmas, p->nvmas, sizeof(*p->vmas), start);

	if (lo < p->nvmas && p->vmas[lo].start == start &&
	    p->vmas[lo].end == end)
		return &p->vmas[lo];
	return NULL;
}

/* index of the first run that ends above addr */
static size_t first_run(const struct proc_image *p, uint64_t addr)
{
	return crfs_runs_first_above(p->runs, p->nruns, addr);
}

static const struct crfs_page_run *run_at(const struct proc_image *p,
					  uint64_t addr)
{
	size_t i = first_run(p, addr);

	if (i < p->nruns && p->runs[i].addr <= addr)
		return &p->runs[i];
	return NULL;
}

/* do the pages at addr of runs a and b come from one stored copy? */
static bool same_copy(const struct crfs_page_run *a,
		      const struct crfs_page_run *b, uint64_t addr)
{
	return a && b && a->src == b->src &&
	       a->offset + (addr - a->addr) == b->offset + (addr - b->addr);
}

static const struct cow_page *over_at(const struct cow_pages *ov,
				      uint64_t addr)
{
	size_t lo = lower_bound(ov->p, ov->n, sizeof(*ov->p), addr);

	return lo < ov->n && ov->p[lo].addr == addr ? &ov->p[lo] : NULL;
}

/*
 * Does run a hold, at addr, the copy our parent q held there when it
 * forked us (a sibling's copy where it had one, else its own)?
 */
static bool as_forked(const struct crfs_page_run *a, const struct proc_image *q,
		      const struct cow_pages *ov, uint64_t addr)
{
	const struct cow_page *o = ov ? over_at(ov, addr) : NULL;

	if (o)
		return a->src == o->src &&
		       a->offset + (addr - a->addr) == o->off;
	return same_copy(a, run_at(q, addr), addr);
}

/* would child c keep v's range, as p forks it? */
static bool keeps_range(const struct proc_image *c, const struct crfs_vma *v)
{
	const struct crfs_vma *cv = vma_exact(c, v->start, v->end);

	return !c->attr.zombie && cv && same_mapping(v, cv);
}

/*
 * Does child c map v's range too, with a page it shares with p or with a
 * sibling?  A page stored elsewhere (its run's source is not c) is p's
 * copy or, if not, a sibling's: the checkpoint looks no further.
 */
static bool shares_range(const struct proc_image *c, const struct crfs_vma *v)
{
	size_t i;

	if (!keeps_range(c, v))
		return false;
	for (i = first_run(c, v->start);
	     i < c->nruns && c->runs[i].addr < v->end; i++)
		if (CRFS_SRC_OWNER(c->runs[i].src) != c->pid)
			return true;
	return false;
}

static bool child_shares(const struct cow_ctx *c, const struct crfs_vma *v)
{
	size_t i;

	for (i = 0; i < c->nkids; i++)
		if (shares_range(&c->img->procs[c->kids[i]], v))
			return true;
	return false;
}

static void close_ctx(struct cow_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nsrc; i++)
		close(c->fd[i]);
	free(c->kids);
	free(c->src);
	free(c->fd);
}

static void list_kids(struct cow_ctx *c, int idx)
{
	size_t i;

	c->kids = calloc(c->img->nprocs, sizeof(*c->kids));
	if (!c->kids)
		child_fail(c->err_fd, "copy-on-write memory: out of memory");
	for (i = 0; i < c->img->nprocs; i++)
		if (c->img->procs[i].parent == idx &&
		    !is_vm_kid(c->img, i))	/* in our mm */
			c->kids[c->nkids++] = i;
}

static int src_fd(struct cow_ctx *c, pid_t src)
{
	size_t i;
	int fd;

	for (i = 0; i < c->nsrc; i++)
		if (c->src[i] == src)
			return c->fd[i];
	fd = image_open_src(c->img, src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		child_fail(c->err_fd, "copy-on-write memory: pages of process %d: %m",
			   src);
	c->src = realloc(c->src, (c->nsrc + 1) * sizeof(*c->src));
	c->fd = realloc(c->fd, (c->nsrc + 1) * sizeof(*c->fd));
	if (!c->src || !c->fd)
		child_fail(c->err_fd, "copy-on-write memory: out of memory");
	c->src[c->nsrc] = src;
	c->fd[c->nsrc++] = fd;
	return fd;
}

/* len bytes at addr from the pages of run r */
static void read_run(struct cow_ctx *c, const struct crfs_page_run *r,
		     uint64_t addr, uint64_t len)
{
	uint64_t off = r->offset + (addr - r->addr), done = 0;
	int fd = src_fd(c, r->src);
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)addr + done, len - done, off + done);
		if (n <= 0)
			child_fail(c->err_fd, "copy-on-write memory: reading the pages of 0x%lx from process %d: %s",
				   addr, r->src, n ? strerror(errno) :
				   "short file");
		done += n;
	}
}

/* our runs in v, each page that q (if any) did not fork us with */
static void write_own(struct cow_ctx *c, const struct proc_image *p,
		      const struct proc_image *q, const struct cow_pages *ov,
		      const struct crfs_vma *v)
{
	uint64_t a, from, end;
	size_t i;

	for (i = first_run(p, v->start);
	     i < p->nruns && p->runs[i].addr < v->end; i++) {
		const struct crfs_page_run *r = &p->runs[i];

		end = r->addr + r->npages * PAGE;
		for (a = r->addr; a < end;) {
			if (q && as_forked(r, q, ov, a)) {
				a += PAGE;
				continue;
			}
			from = a;
			while (a < end && !(q && as_forked(r, q, ov, a)))
				a += PAGE;
			read_run(c, r, from, a - from);
		}
	}
}

static void drop(struct cow_ctx *c, uint64_t from, uint64_t to)
{
	if (madvise((void *)from, to - from, MADV_DONTNEED))
		child_fail(c->err_fd, "copy-on-write memory: madvise(MADV_DONTNEED) at 0x%lx: %m",
			   from);
}

/*
 * The parent's pages in v that we do not have must read as zero, or in a
 * file mapping as the file: dropping our copy does both.  So do the
 * siblings' copies it held there.
 */
static void drop_absent(struct cow_ctx *c, const struct proc_image *p,
			const struct proc_image *q, const struct cow_pages *ov,
			const struct crfs_vma *v)
{
	uint64_t a, from, end;
	size_t i;

	for (i = 0; i < ov->n; i++)
		if (ov->p[i].addr >= v->start && ov->p[i].addr < v->end &&
		    !run_at(p, ov->p[i].addr))
			drop(c, ov->p[i].addr, ov->p[i].addr + PAGE);

	for (i = first_run(q, v->start);
	     i < q->nruns && q->runs[i].addr < v->end; i++) {
		end = q->runs[i].addr + q->runs[i].npages * PAGE;
		for (a = q->runs[i].addr; a < end;) {
			if (run_at(p, a)) {
				a += PAGE;
				continue;
			}
			from = a;
			while (a < end && !run_at(p, a))
				a += PAGE;
			drop(c, from, a);
		}
	}
}

static void add_range(struct cow_ctx *c, struct cow_list *l,
		      const struct crfs_vma *v)
{
	l->r = realloc(l->r, (l->n + 1) * sizeof(*l->r));
	if (!l->r)
		child_fail(c->err_fd, "copy-on-write memory: out of memory");
	l->r[l->n++] = (struct rst_range){ v->start, v->end };
}

/*
 * An inherited range is ours to keep if we map exactly it, as the parent
 * did (the same file and offset; MAP_NORESERVE is the mmap's); otherwise
 * it goes now, before it is in the way of ours.
 */
static void take_inherited(struct cow_ctx *c, int idx,
			   const struct rst_range *r, const struct cow_pages *ov)
{
	const struct proc_image *p = &c->img->procs[idx];
	const struct proc_image *q = p->parent < 0 ? NULL :
				     &c->img->procs[p->parent];
	const struct crfs_vma *v = vma_exact(p, r->start, r->end);
	const struct crfs_vma *qv = q ? vma_exact(q, r->start, r->end) : NULL;

	if (!v || !qv || !same_mapping(qv, v)) {
		if (munmap((void *)r->start, r->end - r->start))
			child_fail(c->err_fd, "copy-on-write memory: munmap 0x%lx: %m",
				   r->start);
		return;
	}
	write_own(c, p, q, ov, v);
	drop_absent(c, p, q, ov, v);
	add_range(c, &ours, v);
}

/*
 * A range a child shares with us, mapped and filled now.  One that
 * collides with crfs-restore's own mappings is left to the restorer, as
 * are those fork does not hand down as they are.
 */
static void map_shared(struct cow_ctx *c, int idx, const struct crfs_vma *v)
{
	const struct proc_image *p = &c->img->procs[idx];
	int flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd = -1;
	void *m;

	if (!cow_kind(v) || (v->flags & (VMA_F_DONTFORK | VMA_F_WIPEONFORK)) ||
	    !child_shares(c, v))
		return;
	if (v->flags & VMA_F_NORESERVE)
		flags |= MAP_NORESERVE;
	if (v->kind != VMA_FILE)
		flags |= MAP_ANONYMOUS;
	else if ((fd = open(v->path, O_RDONLY | O_CLOEXEC)) < 0)
		child_fail(c->err_fd, "copy-on-write memory: %s: %m", v->path);
	m = mmap((void *)v->start, v->end - v->start, PROT_READ | PROT_WRITE,
		 flags, fd, fd < 0 ? 0 : v->pgoff);
	if (fd >= 0)
		close(fd);
	if (m == MAP_FAILED && errno == EEXIST)
		return;
	if (m == MAP_FAILED)
		child_fail(c->err_fd, "copy-on-write memory: mmap 0x%lx-0x%lx: %m",
			   v->start, v->end);
	if ((uint64_t)m != v->start) {	/* a kernel without NOREPLACE */
		munmap(m, v->end - v->start);
		return;
	}
	write_own(c, p, NULL, NULL, v);
	add_range(c, &ours, v);
}

static bool holds(const struct cow_list *l, uint64_t start, uint64_t end)
{
	size_t lo = lower_bound(l->r, l->n, sizeof(*l->r), start);

	return lo < l->n && l->r[lo].start == start && l->r[lo].end == end;
}

static int cmp_range(const void *x, const void *y)
{
	const struct rst_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

static void add_over(struct cow_ctx *c, const struct crfs_page_run *r,
		     uint64_t a)
{
	struct cow_page *n = realloc(over.p, (over.n + 1) * sizeof(*n));

	if (!n)
		child_fail(c->err_fd, "copy-on-write memory: out of memory");
	over.p = n;
	over.p[over.n++] = (struct cow_page){ a, r->src,
					      r->offset + (a - r->addr) };
}

/* the pages of v that kid holds as a sibling's copy, not as ours */
static void kid_overrides(struct cow_ctx *c, const struct proc_image *p,
			  const struct proc_image *kid, const struct crfs_vma *v)
{
	size_t i;
	uint64_t a;

	if (!keeps_range(kid, v))
		return;
	for (i = first_run(kid, v->start);
	     i < kid->nruns && kid->runs[i].addr < v->end; i++) {
		const struct crfs_page_run *r = &kid->runs[i];

		/* its own copy, in this image or a parent (incremental) */
		if (CRFS_SRC_OWNER(r->src) == kid->pid)
			continue;
		for (a = r->addr; a < r->addr + r->npages * PAGE; a += PAGE)
			if (!same_copy(r, run_at(p, a), a))
				add_over(c, r, a);
	}
}

static int cmp_page(const void *x, const void *y)
{
	const struct cow_page *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static void collect_overrides(struct cow_ctx *c, int idx)
{
	const struct proc_image *p = &c->img->procs[idx];
	size_t i, k, n;

	for (i = 0; i < ours.n; i++) {
		const struct crfs_vma *v = vma_exact(p, ours.r[i].start,
						     ours.r[i].end);

		for (k = 0; v && k < c->nkids; k++)
			kid_overrides(c, p, &c->img->procs[c->kids[k]], v);
	}
	if (!over.n)
		return;
	qsort(over.p, over.n, sizeof(*over.p), cmp_page);
	for (i = 1, n = 1; i < over.n; i++)	/* one copy per page */
		if (over.p[i].addr != over.p[n - 1].addr)
			over.p[n++] = over.p[i];
	over.n = n;
}

/* len bytes at addr from src's pages at off */
static void read_copy(struct cow_ctx *c, pid_t src, uint64_t off,
		      uint64_t addr, uint64_t len)
{
	struct crfs_page_run r = { .addr = addr, .npages = len / PAGE,
				   .src = src, .offset = off };

	read_run(c, &r, addr, len);
}

void cow_prepare(struct image *img, int idx, int err_fd)
{
	struct proc_image *p = &img->procs[idx];
	struct cow_list inh = ours;
	struct cow_pages inh_over = over;
	struct cow_ctx c = { .img = img, .err_fd = err_fd };
	size_t i, nkept;

	ours = (struct cow_list){ NULL, 0 };
	over = (struct cow_pages){ NULL, 0 };
	for (i = 0; i < inh.n; i++)
		take_inherited(&c, idx, &inh.r[i], &inh_over);
	free(inh.r);
	free(inh_over.p);
	nkept = ours.n;
	list_kids(&c, idx);
	for (i = 0; c.nkids && !p->attr.zombie && i < p->nvmas; i++) {
		struct cow_list kept = { ours.r, nkept };

		if (!holds(&kept, p->vmas[i].start, p->vmas[i].end))
			map_shared(&c, idx, &p->vmas[i]);
	}
	if (ours.n)
		qsort(ours.r, ours.n, sizeof(*ours.r), cmp_range);
	collect_overrides(&c, idx);
	for (i = 0; i < over.n; i++)
		read_copy(&c, over.p[i].src, over.p[i].off, over.p[i].addr,
			  PAGE);
	close_ctx(&c);
}

/*
 * Every child has its copy of the siblings' pages we held: ours back (or
 * none: zero, or the file's).
 */
void cow_after_forks(struct image *img, int idx, int err_fd)
{
	const struct proc_image *p = &img->procs[idx];
	struct cow_ctx c = { .img = img, .err_fd = err_fd };
	const struct crfs_page_run *r;
	size_t i;

	for (i = 0; i < over.n; i++) {
		r = run_at(p, over.p[i].addr);
		if (r)
			read_run(&c, r, over.p[i].addr, PAGE);
		else
			drop(&c, over.p[i].addr, over.p[i].addr + PAGE);
	}
	free(over.p);
	over = (struct cow_pages){ NULL, 0 };
	close_ctx(&c);
}

size_t cow_count(void)
{
	return ours.n;
}

const struct rst_range *cow_ranges(void)
{
	return ours.r;
}

bool cow_holds(uint64_t start, uint64_t end)
{
	return holds(&ours, start, end);
}
