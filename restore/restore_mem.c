// SPDX-License-Identifier: MIT
/*
 * The restorer's area: one mapping in a gap of the saved layout that is
 * also free now, holding the restorer's code, its arguments, a stack and
 * room for moving the vDSO.  Then the jump.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include "kh.h"
#include "restore.h"
#include "restorer.h"
#include "ghost.h"
#include "ns.h"
#include "lazy.h"

#define PAGE 4096UL
#define TASK_END 0x7ffffffff000UL
#define LOW_END 0x10000UL	/* mmap_min_addr */
#define ALIGN(x, a) (((x) + (a) - 1) & ~((a) - 1))

extern const char restorer_blob[], restorer_blob_end[];

struct area {
	char *base;
	size_t size, used;
};

static void *take(struct area *a, size_t len)
{
	void *p = a->base + a->used;

	a->used = ALIGN(a->used + len, 16);
	return p;
}

static bool is_special(enum crfs_vma_kind k)
{
	return k == VMA_VDSO || k == VMA_VVAR || k == VMA_VVAR_VCLOCK;
}

static void *try_map(uint64_t addr, size_t size)
{
	void *p = mmap((void *)addr, size, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if ((uint64_t)p != addr) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

/* Highest-first over the saved layout's gaps; mmap tells what is free now */
static void *find_gap(struct proc_image *p, size_t size)
{
	ssize_t i;
	uint64_t lo, hi, at;
	void *m;

	for (i = p->nvmas; i >= 0; i--) {
		hi = i == (ssize_t)p->nvmas || p->vmas[i].start > TASK_END ?
		     TASK_END : p->vmas[i].start;
		lo = i ? p->vmas[i - 1].end : LOW_END;
		if (lo >= TASK_END || hi <= lo || hi - lo < size)
			continue;
		for (at = hi - size; at >= lo; at -= 1UL << 28) {
			m = try_map(at & ~(PAGE - 1), size);
			if (m)
				return m;
			if (at - lo < (1UL << 28))
				break;
		}
		if ((m = try_map(lo, size)))
			return m;
	}
	return NULL;
}

static size_t count_signals(const struct proc_image *p)
{
	size_t i, n = p->nshared_sigs;

	for (i = 0; i < p->nthreads; i++)
		n += p->threads[i].npending;
	return n;
}

/* threads with credentials of their own: the creds and their groups */
static size_t thread_creds_size(const struct proc_image *p)
{
	size_t i, n = 0;

	for (i = 1; i < p->nthreads; i++)
		if (p->threads[i].creds)
			n += ALIGN(sizeof(struct rst_creds), 16) +
			     ALIGN(p->threads[i].creds->ngroups *
				   sizeof(uint32_t), 16);
	return n;
}

/* a child sharing our memory: its args, threads, stacks (fill_kid) */
static size_t kid_size(const struct proc_image *c, int nclose)
{
	size_t n = ALIGN(sizeof(struct restore_args), 16);

	n += thread_creds_size(c);
	n += ALIGN(c->creds.ngroups * sizeof(uint32_t), 16);
	n += ALIGN(nclose * sizeof(int32_t), 16);
	n += ALIGN(count_signals(c) * sizeof(struct rst_sig), 16);
	n += ALIGN(c->nthreads * sizeof(struct rst_thread), 16);
	n += ALIGN(seccomp_area_size(c), 16);
	n = ALIGN(n, 64) + (c->nthreads - 1) * RST_THREAD_STACK;
	return ALIGN(n, 64) + 64 + RST_KID_STACK + 64;
}

static size_t kids_size(const struct helper_fds *h)
{
	struct proc_image **kids;
	size_t i, n, sz = 0;

	n = vm_kids(&kids);
	for (i = 0; i < n; i++)
		sz += kid_size(kids[i], h->nall);
	return sz;
}

static size_t area_size(struct proc_image *p, size_t vdso_len,
			const struct helper_fds *h)
{
	size_t n = ALIGN(restorer_blob_end - restorer_blob, 16);
	int nlocks = h->nlocks;

	n += ALIGN(vm_kids(NULL) * sizeof(struct restore_args), 16);
	n += kids_size(h);

	n += thread_creds_size(p);

	n += ALIGN(sizeof(struct restore_args), 16);
	n += ALIGN((RST_MAX_KEEP + cow_count()) * sizeof(struct rst_range), 16);
	n += ALIGN(p->nvmas * sizeof(struct rst_vma), 16);
	n += ALIGN(p->nruns * sizeof(struct rst_run), 16);
	n += ALIGN(p->nguards * sizeof(struct rst_range), 16);
	n += ALIGN(strlen(p->pages_path) + 1, 16);
	n += ALIGN(p->creds.ngroups * sizeof(uint32_t), 16);
	n += ALIGN(p->mm.auxv_len * sizeof(uint64_t), 16);
	n += ALIGN((p->nvmas + 8) * sizeof(int32_t), 16);
	n += ALIGN(count_signals(p) * sizeof(struct rst_sig), 16);
	n += ALIGN(p->nthreads * sizeof(struct rst_thread), 16);
	n += ALIGN(nlocks * sizeof(struct rst_lock), 16);
	n += ALIGN(p->ntimers * sizeof(struct rst_timer), 16);
	n += ALIGN(seccomp_area_size(p), 16);
	n = ALIGN(n, 64) + (p->nthreads - 1) * RST_THREAD_STACK;
	n = ALIGN(n, PAGE) + RST_STACK_SIZE;
	return n + ALIGN(vdso_len, PAGE);
}

static int pages_fd_of(const struct helper_fds *h, pid_t src)
{
	int i;

	for (i = 0; i < h->nsrc; i++)
		if (h->src_pid[i] == src)
			return h->src_fd[i];
	return h->pages_fd;
}

/*
 * What io_setup needs to make a ring of this mapping's size: the kernel
 * doubles the request (at least 4 per possible CPU), adds 2, and rounds
 * the ring of 32-byte events after a 32-byte header up to whole pages.
 * The restorer checks it got the size: with many CPUs a small ring cannot
 * be made again.
 */
static uint32_t aio_nr_events(const struct crfs_vma *v)
{
	return (v->end - v->start) / PAGE * 64 - 2;
}

static void fill_mem(struct restore_args *a, struct area *ar,
		     struct proc_image *p, struct helper_fds *h)
{
	size_t i, r = 0;
	int nlazy = 0;

	a->vmas = take(ar, p->nvmas * sizeof(*a->vmas));
	a->runs = take(ar, p->nruns * sizeof(*a->runs));
	for (i = 0; i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];
		struct rst_vma *d;

		if (is_special(v->kind) || v->kind == VMA_VSYSCALL)
			continue;
		d = &a->vmas[a->nvmas++];
		d->start = v->start;
		d->end = v->end;
		d->pgoff = v->pgoff;
		d->prot = v->prot;
		d->flags = v->flags;
		d->fd = h->vma_fd[i];
		d->kept = cow_holds(v->start, v->end);
		d->has_pages = d->kept;	/* mapped writable: mprotect it */
		d->shmid = v->kind == VMA_SYSV ? (int32_t)v->shm_ino : -1;
		d->aio_nr = v->kind == VMA_AIO ? aio_nr_events(v) : 0;
		d->huge_shift = v->huge_kb ? __builtin_ctz(v->huge_kb) + 10 : 0;
		d->mpol_mode = v->mpol_mode;
		d->mpol_flags = v->mpol_flags;
		d->mpol_nodes = v->mpol_nodes;
		/* image_load checked these: sums_later is never set with a
		 * copy-on-write page in the image */
		if (d->kept && p->sums_later)
			child_fail(h->err_fd, "%s: copy-on-write pages of 0x%lx not checked",
				   p->pages_path, v->start);
		if (v->kind == VMA_SHMEM || d->kept ||
		    lazy_vma(p, v, d->kept, r, &nlazy)) {
			/* lazy: registered and filled by the handler */
			d->lazy = v->kind != VMA_SHMEM && !d->kept;
			d->has_pages |= d->lazy;
			/* its object was filled before the tree was forked;
			 * a kept range before our children were */
			while (r < p->nruns && p->runs[r].addr < v->end)
				r++;
			continue;
		}
		while (r < p->nruns && p->runs[r].addr < v->end) {
			/* lazy_plan chose as lazy_vma does: never */
			if (p->lazy_runs && p->lazy_runs[r])
				child_fail(h->err_fd, "lazy: the pages of 0x%lx of process %d were left to the handler's checks, but are filled here (not checked)",
					   p->runs[r].addr, p->pid);
			a->runs[a->nruns].addr = p->runs[r].addr;
			a->runs[a->nruns].len = p->runs[r].npages * PAGE;
			a->runs[a->nruns].off = p->runs[r].offset;
			a->runs[a->nruns].fd = pages_fd_of(h, p->runs[r].src);
			a->runs[a->nruns].hash = p->runs[r].hash;
			a->runs[a->nruns].check = p->sums_later &&
						  !p->runs[r].unhashed;
			a->nruns++;
			d->has_pages = 1;
			r++;
		}
	}
	a->guards = take(ar, p->nguards * sizeof(*a->guards));
	for (i = 0; i < p->nguards; i++)
		a->guards[i] = (struct rst_range){ p->guards[i].start,
						   p->guards[i].end };
	a->nguards = p->nguards;
	a->pages_fd = h->pages_fd;
	a->pages_path = take(ar, strlen(p->pages_path) + 1);
	strcpy((char *)a->pages_path, p->pages_path);
}

static void fill_mm(struct restore_args *a, struct area *ar,
		    struct proc_image *p, struct helper_fds *h)
{
	uint64_t *auxv = take(ar, p->mm.auxv_len * sizeof(uint64_t));

	memcpy(auxv, p->mm.auxv, p->mm.auxv_len * sizeof(uint64_t));
	a->mm.start_code = p->mm.start_code;
	a->mm.end_code = p->mm.end_code;
	a->mm.start_data = p->mm.start_data;
	a->mm.end_data = p->mm.end_data;
	a->mm.start_brk = p->mm.start_brk;
	a->mm.brk = p->mm.brk;
	a->mm.start_stack = p->mm.start_stack;
	a->mm.arg_start = p->mm.arg_start;
	a->mm.arg_end = p->mm.arg_end;
	a->mm.env_start = p->mm.env_start;
	a->mm.env_end = p->mm.env_end;
	a->mm.auxv = (__u64 *)auxv;
	a->mm.auxv_size = p->mm.auxv_len * sizeof(uint64_t);
	a->mm.exe_fd = h->exe_fd;
	a->mlockall = p->mm.mlockall;
	a->leader_exited = p->attr.leader_exited;
	a->mdwe = p->mm.mdwe;
	a->memory_merge = p->mm.memory_merge;
}

/*
 * Whether thread k queues its own queue itself, at its trap (finish.c,
 * requeue_own), not the restorer's main thread before it: a SIGTRAP there
 * would merge with the SIGTRAP of the trap and be taken by crfs-restore,
 * and a signal sent by the kernel or tgkill (si_code >= 0, SI_TKILL) only
 * the thread itself may queue to another thread than the main one
 * (rt_tgsigqueueinfo: EPERM).  All of that queue, so its order holds.
 */
bool thread_queues_own(const struct proc_image *p, size_t k)
{
	const struct crfs_thread *th = &p->threads[k];
	int32_t code;
	size_t i;

	for (i = 0; i < th->npending; i++) {
		memcpy(&code, th->pending[i].info + 8, sizeof(code)); /* si_code */
		if (th->pending[i].signo == SIGTRAP ||
		    (k && (code >= 0 || code == SI_TKILL)))
			return true;
	}
	return false;
}

static void add_signals(struct restore_args *a, const struct proc_image *p,
			const struct crfs_pending *s, size_t n, pid_t tid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* the timer queues it itself (fire_timers) */
		if (timer_fires_for(p, &s[i]))
			continue;
		a->sigs[a->nsigs].signo = s[i].signo;
		a->sigs[a->nsigs].tid = tid;
		memcpy(a->sigs[a->nsigs].info, s[i].info, 128);
		a->nsigs++;
	}
}

/* shared queue first: the order within each queue is what matters */
static void fill_signals(struct restore_args *a, struct area *ar,
			 struct proc_image *p)
{
	size_t i;

	a->pid = p->attr.vpid;
	a->sigs = take(ar, count_signals(p) * sizeof(*a->sigs));
	add_signals(a, p, p->shared_sigs, p->nshared_sigs, 0);
	for (i = 0; i < p->nthreads; i++)
		if (!thread_queues_own(p, i))
			add_signals(a, p, p->threads[i].pending,
				    p->threads[i].npending, p->threads[i].vtid);
}

static void fill_creds(struct rst_creds *d, struct area *ar,
		       const struct crfs_creds *c, int dumpable)
{
	memcpy(d->uid, c->uid, sizeof(d->uid));
	memcpy(d->gid, c->gid, sizeof(d->gid));
	d->ngroups = c->ngroups;
	d->groups = take(ar, c->ngroups * sizeof(uint32_t));
	if (c->ngroups)	/* groups is NULL when there are none */
		memcpy(d->groups, c->groups, c->ngroups * sizeof(uint32_t));
	d->cap_inh = c->cap_inh;
	d->cap_prm = c->cap_prm;
	d->cap_eff = c->cap_eff;
	d->cap_bnd = c->cap_bnd;
	d->cap_amb = c->cap_amb;
	d->securebits = c->securebits;
	d->dumpable = dumpable;	/* of the mm: the process's */
	userns_fill_creds(d, c);
}

static void fill_thread(struct rst_thread *d, const struct proc_image *p,
			const struct crfs_thread *t)
{
	pid_t set_tid[CRFS_NSPID_MAX];
	int k;

	d->tid = t->vtid;
	d->set_tid_size = (uint32_t)pidns_set_tid(p, t->nstid, t->nstid_n,
						  set_tid);
	for (k = 0; k < (int)d->set_tid_size; k++)
		d->set_tid[k] = set_tid[k];
	d->clear_child_tid = t->clear_child_tid;
	d->robust_list = t->robust_list;
	d->robust_list_len = t->robust_list_len;
	d->rseq_ptr = t->rseq_ptr;
	d->rseq_size = t->rseq_size;
	d->rseq_sig = t->rseq_sig;
	d->ss_sp = t->ss_sp;
	d->ss_size = t->ss_size;
	d->ss_flags = t->ss_flags;
	memcpy(d->comm, t->comm, sizeof(d->comm) - 1);
	d->comm[sizeof(d->comm) - 1] = '\0';
	d->tsc_mode = t->tsc_mode;
	d->pdeathsig = t->pdeathsig;
	d->no_new_privs = t->no_new_privs;
	d->mempolicy = t->mempolicy;
	d->mempolicy_flags = t->mempolicy_flags;
	d->mempolicy_nodes = t->mempolicy_nodes;
}

/* thread stacks sit at the top of the code and data, below the main stack */
static void fill_threads(struct restore_args *a, struct area *ar,
			 struct proc_image *p)
{
	size_t i;
	uint64_t top;
	char *room = take(ar, seccomp_area_size(p));

	fill_thread(&a->main, p, &p->threads[0]);
	seccomp_fill(&a->main, p, &p->threads[0], &room);
	a->nthreads = p->nthreads - 1;
	a->threads = take(ar, a->nthreads * sizeof(*a->threads));
	for (i = 0; i < a->nthreads; i++) {
		const struct crfs_creds *c = p->threads[i + 1].creds;

		a->threads[i].creds = NULL;
		if (!c)
			continue;
		a->threads[i].creds = take(ar, sizeof(struct rst_creds));
		fill_creds(a->threads[i].creds, ar, c, p->attr.dumpable);
	}
	top = ALIGN((uint64_t)ar->base + ar->used, 64);
	for (i = 0; i < a->nthreads; i++) {
		struct rst_creds *own = a->threads[i].creds;

		fill_thread(&a->threads[i], p, &p->threads[i + 1]);
		a->threads[i].creds = own;
		seccomp_fill(&a->threads[i], p, &p->threads[i + 1], &room);
		top += RST_THREAD_STACK;
		a->threads[i].stack_top = top;
	}
	ar->used = top - (uint64_t)ar->base;
}

static void fill_task(struct restore_args *a, struct area *ar,
		      struct proc_image *p, struct helper_fds *h)
{
	int i;

	fill_creds(&a->creds, ar, &p->creds, p->attr.dumpable);
	a->pdeathsig = p->attr.pdeathsig;
	a->err_fd = h->err_fd;
	a->hash_avx2 = crfs_hash_avx2();
	a->pidns_fd = h->pidns_fd;
	a->fill_sk = h->fill_sk;
	a->fill_first = h->fill_first;
	a->close_fds = take(ar, h->nall * sizeof(int32_t));
	for (i = 0; i < h->nall; i++)
		a->close_fds[i] = h->all[i];
	a->nclose = h->nall;
	a->locks = take(ar, h->nlocks * sizeof(*a->locks));
	for (i = 0; i < h->nlocks; i++)
		a->locks[i] = (struct rst_lock){
			.type = h->locks[i]->write ? F_WRLCK : F_RDLCK,
			.whence = SEEK_SET, .start = h->locks[i]->start,
			.len = h->locks[i]->len, .fd = h->lock_fds[i] };
	a->nlocks = h->nlocks;
	a->timers = take(ar, h->ntimers * sizeof(*a->timers));
	for (i = 0; i < h->ntimers; i++) {
		const struct crfs_timer *t = h->timers[i];

		a->timers[i] = (struct rst_timer){
			.id = t->id, .clock = timer_clock(p, t), .signo = t->signo,
			.tid = h->timer_tids[i], .sigval = t->sigval,
			.notify = t->tid ? 4 /* SIGEV_THREAD_ID */ : t->notify,
			.fire = timer_signal_pending(p, t),
			.kind = timer_kind(p, t),
			.interval = { t->interval_ns / 1000000000,
				      t->interval_ns % 1000000000 },
			.value = { t->value_ns / 1000000000,
				   t->value_ns % 1000000000 } };
	}
	a->ntimers = h->ntimers;
	fill_signals(a, ar, p);
	fill_threads(a, ar, p);
}

/*
 * A child sharing our memory is cloned by our restorer (CLONE_VM and what
 * else it shares) and sets the rest of itself there: threads, signals,
 * credentials, handlers of its own, limits.  It inherits our descriptors
 * (a copy, or our table) with our helpers in them: a copy closes them.
 */
static void fill_kid(struct restore_args *k, struct area *ar,
		     struct proc_image *c, const struct helper_fds *h)
{
	/* a kid enters no pid namespace for its children: it has none */
	struct helper_fds hk = { .err_fd = h->err_fd, .pidns_fd = -1 };
	char *stack;
	int i;

	memset(k, 0, sizeof(*k));
	if (!c->attr.shares_files) {
		hk.all = h->all;
		hk.nall = h->nall;
	}
	fill_task(k, ar, c, &hk);
	stack = take(ar, 64 + RST_KID_STACK);
	k->kid_stack = ALIGN((uint64_t)stack, 64) + RST_KID_STACK;
	k->clone_flags = CLONE_VM |
			 (c->attr.shares_sighand ? CLONE_SIGHAND : 0) |
			 (c->attr.shares_files ? CLONE_FILES : 0) |
			 (c->attr.shares_fs ? CLONE_FS : 0);
	k->own_sigactions = !c->attr.shares_sighand;
	memcpy(k->sa, c->sa, sizeof(k->sa));
	for (i = 0; i < RST_NLIMITS; i++) {
		k->rl[i][0] = c->rl[i].cur;
		k->rl[i][1] = c->rl[i].max;
	}
	k->pdeathsig = c->attr.pdeathsig;
	k->child_subreaper = c->attr.child_subreaper;
	k->no_new_privs = c->attr.no_new_privs;
}

static void fill_kids(struct restore_args *a, struct area *ar,
		      const struct helper_fds *h)
{
	struct proc_image **kids;
	size_t i;

	a->nkids = vm_kids(&kids);
	a->kids = take(ar, a->nkids * sizeof(*a->kids));
	for (i = 0; i < a->nkids; i++) {
		fill_kid(&a->kids[i], ar, kids[i], h);
		a->kids[i].blob_start = (uint64_t)ar->base;
		a->kids[i].blob_len = ar->size;
	}
}

_Static_assert(RST_NSIG == CRFS_NSIG && RST_NLIMITS == CRFS_NLIMITS &&
	       sizeof(struct crfs_sigaction) == 4 * sizeof(uint64_t),
	       "the restorer's handler and limit tables match the image's");

static int cmp_range(const void *x, const void *y)
{
	const struct rst_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* the chroot, last: our paths (/proc) are not there inside */
static void enter_root(struct proc_image *p, struct helper_fds *h)
{
	int ret = ghost_chroot(h->root_fd);

	if (ret)
		child_fail(h->err_fd, "root directory %s: %s", p->attr.root,
			   strerror(-ret));
}

/* the image's vDSO, vvar and vvar_vclock mappings */
static int specials(const struct proc_image *p)
{
	size_t i;
	int n = 0;

	for (i = 0; i < p->nvmas; i++)
		n += is_special(p->vmas[i].kind);
	return n;
}

void enter_restorer(struct proc_image *p, struct helper_fds *h)
{
	const struct crfs_vma *cur = h->vdso;
	/* a process that unmapped them (zdtm vdso02): none kept, none moved */
	int n = specials(p) ? h->nvdso : 0;
	struct restore_args *a;
	struct area ar = { 0 };
	size_t vdso_len = 0, blob = restorer_blob_end - restorer_blob, i, k = 0;
	char *stack_top;

	for (i = 0; i < (size_t)n; i++)
		vdso_len += cur[i].end - cur[i].start;
	ar.size = area_size(p, vdso_len, h);
	ar.base = find_gap(p, ar.size);
	if (!ar.base)
		child_fail(h->err_fd, "no room for the restorer in the saved address layout");
	memcpy(take(&ar, blob), restorer_blob, blob);
	a = take(&ar, sizeof(*a));
	a->keep = take(&ar, (RST_MAX_KEEP + cow_count()) * sizeof(*a->keep));
	if (cow_count())	/* no ranges: no array */
		memcpy(a->keep, cow_ranges(), cow_count() * sizeof(*a->keep));
	a->nkeep = cow_count();
	fill_mem(a, &ar, p, h);
	lazy_child_args(a, p, h->err_fd);
	fill_mm(a, &ar, p, h);
	fill_task(a, &ar, p, h);
	fill_kids(a, &ar, h);
	a->blob_start = (uint64_t)ar.base;
	a->blob_len = ar.size;
	a->keep[a->nkeep++] = (struct rst_range){ a->blob_start,
						  a->blob_start + ar.size };
	for (i = 0; i < (size_t)n; i++) {
		a->keep[a->nkeep++] = (struct rst_range){ cur[i].start, cur[i].end };
		a->move_from[i] = a->keep[a->nkeep - 1];
		while (k < p->nvmas && !is_special(p->vmas[k].kind))
			k++;
		a->move_to[i] = (struct rst_range){ p->vmas[k].start,
						    p->vmas[k].end };
		k++;
	}
	a->nmoves = n;
	qsort(a->keep, a->nkeep, sizeof(a->keep[0]), cmp_range);
	a->scratch = a->blob_start + ar.size - ALIGN(vdso_len, PAGE);
	stack_top = (char *)a->scratch - 64;
	if (h->root_fd >= 0)
		enter_root(p, h);
	asm volatile("mov %0, %%rsp\n\t"
		     "jmp *%1"
		     :
		     : "r"(stack_top), "r"(ar.base), "D"(a)
		     : "memory");
	__builtin_unreachable();
}
