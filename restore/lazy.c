// SPDX-License-Identifier: MIT
/*
 * crfs-restore --lazy: post-copy restore.  The private anonymous memory of
 * each process is not filled before the tree runs: its mappings are
 * registered on a userfaultfd (missing mode) made in the restore child
 * while it is still privileged, the restorer hands that uffd to the
 * handler below over a socket (SCM_RIGHTS) and closes it, and the handler
 * fills each page with UFFDIO_COPY from the pages file: at once for a page
 * the process touches, in the background for every other.  It follows
 * fork (a child's own uffd, its pages as the parent's were then), mremap,
 * madvise(DONTNEED) and munmap (a page zapped after the restore is
 * zero-filled, never the image's), and exits once every lazy page of every
 * process is in: closing the uffds drops the registrations.
 *
 * Checksums: the bytes a checksum covers (a unit: a run of the process's
 * own pages, or a run of a pre-copy parent's own index, which the load
 * only placed) are checked before the first page in them is served; a
 * unit that fits our buffer is read once, checked and served from there.
 * A run that does not match is never served: its pages are poisoned
 * (UFFDIO_POISON: SIGBUS on access), every process that handed us a uffd
 * is killed, and the handler names the file and exits non-zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "restore.h"
#include "restorer.h"
#include "lazy.h"
#include "page_src.h"
#include "crfs/format.h"

#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#define _UFFDIO_POISON 0x08
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

#define PG 4096UL
#define LAZY_MAX_RANGES 64	/* as restorer.c's lazy_hand_over */
#define CHUNK_PAGES 512		/* background UFFDIO_COPY: 2 MiB */
/* a unit up to this size is read once: checked, then served from the
 * buffer; a bigger one is read to be checked, and again to be served */
#define UNIT_BUF (8UL << 20)
#define FAULT_PAGES 16		/* around a faulting page */
#define LAZY_FEATURES (UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
		       UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP | \
		       UFFD_FEATURE_POISON)

bool lazy_on;
static struct image *lazy_img;
static int lazy_sk = -1;	/* our end, the restore children's */
/* /dev/userfaultfd, opened before any namespace: a restore child in a user
 * namespace may make a userfaultfd through it, not by the syscall */
static int lazy_dev = -1;
/* the handler's first parent: reaped before the tree is made (lazy_ready) */
static pid_t lazy_mid = -1;

/* PENDING is 0: a calloc'd state array has every page pending */
enum { PENDING, DONE };

/*
 * What one checksum covers: a run of the process's own pages file, or a
 * run of an ancestor image's pages file as that image's index has it
 * (shared by every run of ours pointing into it).  Each unit is read and
 * checked before the first page in it is served.
 */
enum { UNCHECKED, CHECKED, CORRUPT };

struct lz_unit {
	uint64_t off, len, hash;
	uint8_t state;
	/* a unit bigger than the buffer is checked a buffer at a time by
	 * the background fill (faults are served in between): how far */
	uint64_t done;
	struct crfs_hash h;
};

struct lz_run {
	uint64_t off, len, addr;
	int fd;
	size_t proc;
	struct lz_unit *u;	/* sorted by offset; NULL: checked at load */
	size_t nu;
	const char *path;	/* the pages file, for messages */
	bool bad;
};

/*
 * Contiguous addresses backed by the contiguous pages idx0.. of one run.
 * A process's lazy memory is a few of these (a run is at most 4 MiB of
 * address), not an entry per page: 262144 for 1 GiB, written while the
 * restoring process waited on its first fault for the hand-over.
 */
struct lz_seg {
	uint64_t addr, npages;
	size_t st;		/* its pages' states: lz_mm.state[st...] */
	uint32_t run, idx0;	/* page idx0 of runs[run] */
};

struct lz_mm {
	int uffd;
	/* by address, none empty, none overlapping: a page zapped is cut
	 * out (zeros from then on) */
	struct lz_seg *seg;
	size_t nseg;
	uint8_t *state;		/* a page's, by its lz_seg.st */
	size_t n, pending;	/* n: pages handed over (state's length) */
	uint64_t cursor;	/* the background fill's address */
};

static struct lz_run *runs;
static size_t nruns;
static struct lz_mm *mms;
static size_t nmms;
static int *pidfds;
static size_t npidfds;
static bool failed;
static char *buf;		/* UNIT_BUF bytes */
/* buf holds [cache_off, +cache_len) of cache_fd, checked */
static int cache_fd = -1;
static uint64_t cache_off, cache_len;
static uint64_t t_first_fault;	/* CLOCK_MONOTONIC ms */
static uint64_t checked_bytes;

/* ---- the restore side ---- */

/* a mapping whose pages the handler fills: private anonymous memory whose
 * every run is the process's own (not copy-on-write shared, not in a
 * parent image), not locked (mlock populates), not wiped on fork (the
 * child must read zeros, not the image) */
bool lazy_vma(const struct proc_image *p, const struct crfs_vma *v,
	      bool kept, size_t r, int *nlazy)
{
	bool any = false;

	if (!lazy_on || kept || *nlazy >= LAZY_MAX_RANGES || p->mm.mlockall)
		return false;
	if (v->kind != VMA_ANON && v->kind != VMA_HEAP && v->kind != VMA_STACK)
		return false;
	if (v->flags & (VMA_F_SHARED | VMA_F_LOCKED | VMA_F_WIPEONFORK |
			VMA_F_HUGETLB | VMA_F_DROPPABLE | VMA_F_PAGES_ELSEWHERE))
		return false;
	for (; r < p->nruns && p->runs[r].addr < v->end; r++) {
		/* another process's copy-on-write pages: eager (cow.c) */
		if (p->runs[r].src >= 0 && p->runs[r].src != p->pid)
			return false;
		any = true;
	}
	if (any)
		(*nlazy)++;
	return any;
}

/*
 * At load, before the chain's runs are checked: the runs fill_mem will
 * leave to the handler (lazy_vma's choice, made the same way), whose
 * parent-image bytes need no pass before the tree runs.  Not when the
 * image shares pages between processes: kept copy-on-write ranges are
 * known only in the restore children, so every run is checked at load.
 */
int lazy_plan(struct image *img, bool shared)
{
	size_t i, v, r;
	int nlazy;

	for (i = 0; lazy_on && !shared && i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		if (p->attr.zombie || !p->nruns)
			continue;
		p->lazy_runs = calloc(p->nruns, sizeof(*p->lazy_runs));
		if (!p->lazy_runs)
			return -ENOMEM;
		for (v = r = nlazy = 0; v < p->nvmas; v++) {
			bool lz = lazy_vma(p, &p->vmas[v], false, r, &nlazy);

			for (; r < p->nruns && p->runs[r].addr < p->vmas[v].end;
			     r++)
				p->lazy_runs[r] = lz;
		}
	}
	return 0;
}

static int new_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = LAZY_FEATURES };
	int fd;

	/* not UFFD_USER_MODE_ONLY: the process's own syscalls into lazy
	 * memory, and /proc/PID/mem, fault from the kernel */
	fd = lazy_dev >= 0 ?
	     ioctl(lazy_dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK) :
	     (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		/* UFFD_FEATURE_EVENT_FORK asks for the host's CAP_SYS_PTRACE */
		return errno == EPERM ? -EACCES : -errno;
	}
	return fd;
}

/* in the restore child, before the restorer: the uffd and our socket */
void lazy_child_args(struct restore_args *a, const struct proc_image *p,
		     int err_fd)
{
	uint32_t i;
	bool any = false;

	a->lazy_uffd = a->lazy_sk = -1;
	for (i = 0; i < a->nvmas; i++)
		any |= a->vmas[i].lazy;
	if (!any)
		return;
	a->lazy_uffd = new_uffd();
	if (a->lazy_uffd == -EACCES)
		child_fail(err_fd, "lazy: process %d: UFFDIO_API with UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE of the host (a tree in a user namespace of its own is not restored lazily; restore it without --lazy)",
			   p->pid);
	if (a->lazy_uffd < 0)
		child_fail(err_fd, "lazy: userfaultfd (/dev/userfaultfd, userfaultfd(2)) for process %d: %s",
			   p->pid, strerror(-a->lazy_uffd));
	a->lazy_sk = lazy_sk;
	a->lazy_tag = p - lazy_img->procs;
}

/* open_helpers: our socket and /dev/userfaultfd become helpers (moved by
 * HELPER, closed by the restorer); -1: HELPER failed */
int lazy_helpers(int (*helper)(void *h, int fd, int base), void *h, int base)
{
	if (lazy_sk >= 0 && (lazy_sk = helper(h, lazy_sk, base)) < 0)
		return -1;
	if (lazy_dev >= 0 && (lazy_dev = helper(h, lazy_dev, base)) < 0)
		return -1;
	return 0;
}

static int keep_one(int *fd, int top)
{
	int nfd;

	if (*fd < 0)
		return top;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, top + 1);
	close(*fd);
	*fd = nfd;
	return nfd > top ? nfd : top;
}

/* isolate_fds: our socket and device survive, above TOP; the new top */
int lazy_keep_fd(int top)
{
	return keep_one(&lazy_dev, keep_one(&lazy_sk, top));
}

/* ---- the handler ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static __attribute__((noreturn)) void oom(void)
{
	fprintf(stderr, "crfs-restore: lazy: out of memory\n");
	exit(1);
}

/* room for element n of an array filled one by one (n = 0, 1, 2...):
 * doubled, not one more each time (a chain has thousands of runs) */
static void *grow(void *p, size_t n, size_t size)
{
	if (n & (n - 1))
		return p;	/* room for 2^k elements is there */
	p = realloc(p, (n ? 2 * n : 1) * size);
	if (!p)
		oom();
	return p;
}

static uint64_t seg_end(const struct lz_seg *s)
{
	return s->addr + s->npages * PG;
}

/* the first segment of m ending after addr; m->nseg: none */
static size_t seg_after(const struct lz_mm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nseg;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (seg_end(&m->seg[mid]) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct lz_seg *find_seg(struct lz_mm *m, uint64_t addr)
{
	size_t i = seg_after(m, addr);

	return i < m->nseg && m->seg[i].addr <= addr ? &m->seg[i] : NULL;
}

static void add_seg(struct lz_mm *m, const struct lz_seg *s)
{
	m->seg = grow(m->seg, m->nseg, sizeof(*m->seg));
	m->seg[m->nseg++] = *s;
}

/* no segment of m across the page at addr: the one holding it, in two */
static void split_at(struct lz_mm *m, uint64_t addr)
{
	size_t i;
	struct lz_seg *s;
	uint64_t k;

	addr &= ~(PG - 1);
	i = seg_after(m, addr);
	if (i == m->nseg || m->seg[i].addr >= addr)
		return;
	k = (addr - m->seg[i].addr) / PG;
	m->seg = grow(m->seg, m->nseg, sizeof(*m->seg));
	s = &m->seg[i];
	memmove(s + 1, s, (m->nseg++ - i) * sizeof(*s));
	s[0].npages = k;
	s[1].addr = addr;
	s[1].npages -= k;
	s[1].st += k;
	s[1].idx0 += k;
}

static int cmp_seg(const void *x, const void *y)
{
	const struct lz_seg *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* a process's runs, and so its segments, are most often by address
 * already: a check of them then, not a sort */
static void sort_segs(struct lz_mm *m)
{
	size_t i;

	for (i = 1; i < m->nseg; i++)
		if (m->seg[i].addr < m->seg[i - 1].addr) {
			qsort(m->seg, m->nseg, sizeof(*m->seg), cmp_seg);
			return;
		}
}

static void kill_tree(void)
{
	size_t i;

	for (i = 0; i < npidfds; i++)
		syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL, NULL, 0);
}

struct lz_src {
	struct proc_image *p;
	pid_t src;
	int fd;
	struct lz_unit *u;	/* an ancestor's own runs, for unhashed runs */
	size_t nu;
	char path[PATH_MAX * 2 + 64];
};

/* an ancestor's index, as chain.c loaded it: its runs are our units */
static void src_units(struct lz_src *s)
{
	const struct crfs_page_run *own;
	const bool *checked;
	size_t k;

	if (s->src >= 0 || chain_own_runs(lazy_img, s->src, &own, &checked,
					  &s->nu, s->path, sizeof(s->path)))
		return;
	s->u = calloc(s->nu ?: 1, sizeof(*s->u));
	if (!s->u)
		oom();
	for (k = 0; k < s->nu; k++)
		s->u[k] = (struct lz_unit){
			.off = own[k].offset, .len = own[k].npages * PG,
			.hash = own[k].hash,
			.state = checked[k] ? CHECKED : UNCHECKED };
}

/* the pages file holding a run: ours, or an ancestor image's */
static struct lz_src *src_of(struct proc_image *p, pid_t src)
{
	static struct lz_src **srcs;
	static size_t n;
	struct lz_src *s;
	size_t i;

	for (i = 0; i < n; i++)
		if (srcs[i]->p == p && srcs[i]->src == src)
			return srcs[i];
	s = calloc(1, sizeof(*s));
	if (!s)
		oom();
	s->p = p;
	s->src = src;
	snprintf(s->path, sizeof(s->path), "%s", p->pages_path);
	s->fd = src == p->pid ? page_src_open(p, O_RDONLY | O_CLOEXEC) :
		image_open_src(lazy_img, src, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		fprintf(stderr, "crfs-restore: lazy: the pages of process %d (source %d, %s): %s\n",
			p->pid, src, p->pages_path, strerror(errno));
		failed = true;
	}
	src_units(s);
	srcs = grow(srcs, n, sizeof(*srcs));
	srcs[n++] = s;
	return s;
}

/* the units run pr of p is checked by: its own checksum, or those of the
 * ancestor's runs it touches; none when the load checked it */
static void run_units(struct lz_run *lr, const struct proc_image *p,
		      const struct crfs_page_run *pr, bool deferred,
		      struct lz_src *s)
{
	size_t lo = 0, hi = s->nu;

	lr->path = s->path;
	if (pr->src == p->pid ? !p->sums_later : !deferred)
		return;
	if (!pr->unhashed) {
		lr->u = calloc(1, sizeof(*lr->u));
		if (!lr->u)
			oom();
		*lr->u = (struct lz_unit){ .off = pr->offset, .len = lr->len,
					   .hash = pr->hash,
					   .state = UNCHECKED };
		lr->nu = 1;
		return;
	}
	while (lo < hi) {	/* the first unit ending after the run starts */
		size_t mid = (lo + hi) / 2;

		if (s->u[mid].off + s->u[mid].len <= pr->offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	lr->u = s->u ? &s->u[lo] : NULL;
	while (lr->u && lo + lr->nu < s->nu &&
	       s->u[lo + lr->nu].off < pr->offset + lr->len)
		lr->nu++;
	/* chain.c placed it inside the file, whose size its index gives:
	 * a run no unit covers cannot be checked, so it is never served */
	if (!lr->nu) {
		fprintf(stderr, "crfs-restore: lazy: %s: no checksum covers the pages of 0x%lx of process %d; the restored tree is killed\n",
			s->path, pr->addr, p->pid);
		lr->bad = failed = true;
	}
}

/* the runs of process TAG inside the ranges it registered */
static void add_mm(int uffd, uint64_t tag, const uint64_t (*rg)[2], uint32_t n)
{
	struct proc_image *p = &lazy_img->procs[tag];
	struct lz_mm *m;
	struct lz_src *src;
	size_t r;
	uint32_t i;
	int fd;

	mms = grow(mms, nmms, sizeof(*mms));
	m = &mms[nmms++];
	*m = (struct lz_mm){ .uffd = uffd };
	for (r = 0; r < p->nruns; r++) {
		const struct crfs_page_run *pr = &p->runs[r];

		for (i = 0; i < n && !(pr->addr >= rg[i][0] &&
				       pr->addr < rg[i][1]); i++)
			;
		if (i == n)
			continue;
		src = src_of(p, pr->src);
		fd = src->fd;
		runs = grow(runs, nruns, sizeof(*runs));
		runs[nruns] = (struct lz_run){
			.off = pr->offset, .len = pr->npages * PG,
			.addr = pr->addr, .fd = fd, .proc = tag,
		};
		run_units(&runs[nruns], p, pr,
			  p->lazy_runs && p->lazy_runs[r], src);
		if (pr->npages)
			add_seg(m, &(struct lz_seg){ .addr = pr->addr,
				.npages = pr->npages, .st = m->n,
				.run = nruns });
		m->n += pr->npages;
		/* never zeros for pages we cannot read: poisoned, killed */
		runs[nruns].bad |= fd < 0;
		nruns++;
	}
	m->pending = m->n;
	/* all PENDING, and untouched: the kernel's zero pages until a page
	 * is served (256 KiB for 1 GiB) */
	m->state = calloc(m->n ?: 1, 1);
	if (!m->state)
		oom();
	if (failed)
		kill_tree();
	sort_segs(m);
}


/* one process's uffd and ranges, with its pid (SCM_CREDENTIALS, ours) */
static bool take_msg(int sk)
{
	struct {
		uint64_t tag;
		uint32_t n, pad;
		uint64_t range[LAZY_MAX_RANGES][2];
	} m;
	union {
		char buf[CMSG_SPACE(sizeof(int)) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t got = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	int uffd = -1, pfd;

	if (got <= 0)
		return false;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_type == SCM_RIGHTS)
			memcpy(&uffd, CMSG_DATA(cm), sizeof(int));
		if (cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred u;

			memcpy(&u, CMSG_DATA(cm), sizeof(u));
			pfd = syscall(SYS_pidfd_open, u.pid, 0);
			if (pfd >= 0) {
				pidfds = grow(pidfds, npidfds, sizeof(int));
				pidfds[npidfds++] = pfd;
			}
		}
	}
	if (uffd < 0 || got < 16 || m.tag >= lazy_img->nprocs ||
	    m.n > LAZY_MAX_RANGES || (size_t)got != 16 + m.n * 16ULL) {
		fprintf(stderr, "crfs-restore: lazy: a malformed hand-over\n");
		failed = true;
		return true;
	}
	add_mm(uffd, m.tag, (const uint64_t (*)[2])m.range, m.n);
	return true;
}

/*
 * Read unit u of fd and check it: a unit that fits the buffer stays
 * there (cached) to be served from; a bigger one is read a buffer at a
 * time (all of it when ALL: a fault waits on it; else one step, so that
 * the background fill leaves faults elsewhere waiting for one step only)
 * and only its last chunk stays.
 */
static void check_unit(int fd, struct lz_unit *u, bool all)
{
	uint64_t at = 0;
	ssize_t got = 0;

	cache_fd = -1;
	if (!u->done)
		crfs_hash_init(&u->h);
	do {
		size_t n = u->len - u->done < UNIT_BUF ? u->len - u->done :
			   UNIT_BUF;

		for (at = 0; at < n; at += got) {
			got = pread(fd, buf + at, n - at, u->off + u->done + at);
			if (got <= 0)
				break;
		}
		if (at < n) {
			u->state = CORRUPT;	/* short: truncated */
			return;
		}
		crfs_hash_update(&u->h, buf, n);
		checked_bytes += n;
		cache_off = u->off + u->done;
		cache_len = n;
		u->done += n;
	} while (all && u->done < u->len);
	if (u->done < u->len)
		return;		/* not yet: cache_off's bytes are unchecked */
	u->state = crfs_hash_final(&u->h) == u->hash ? CHECKED : CORRUPT;
	if (u->state == CHECKED)
		cache_fd = fd;
}

/* every unit of r that [off, off + len) of its file touches is checked
 * and matches: 1; 0: r is bad, the tree killed; -1 (not ALL): a step of
 * a big unit's check done, not yet all */
static int units_ok(struct lz_run *r, uint64_t off, uint64_t len, bool all)
{
	size_t k;

	for (k = 0; k < r->nu && !r->bad; k++) {
		struct lz_unit *u = &r->u[k];

		if (u->off + u->len <= off || u->off >= off + len)
			continue;
		if (u->state == UNCHECKED)
			check_unit(r->fd, u, all);
		if (u->state == UNCHECKED)
			return -1;
		if (u->state != CORRUPT)
			continue;
		fprintf(stderr, "crfs-restore: lazy: %s: checksum mismatch in the pages of 0x%lx of process %d (corrupted); the restored tree is killed\n",
			r->path, r->addr + (u->off > r->off ? u->off - r->off : 0),
			lazy_img->procs[r->proc].pid);
		r->bad = failed = true;
		kill_tree();
	}
	return !r->bad;
}

/* n * PG bytes at off of r's file into buf (the cache when it has them) */
static const char *pages_at(struct lz_run *r, uint64_t off, size_t len)
{
	size_t at;
	ssize_t got;

	if (r->fd == cache_fd && off >= cache_off &&
	    off + len <= cache_off + cache_len)
		return buf + (off - cache_off);
	cache_fd = -1;
	for (at = 0; at < len; at += got) {
		got = pread(r->fd, buf + at, len - at, off + at);
		if (got <= 0)
			return NULL;
	}
	/* checked (units_ok), or needing no check: served again from here */
	cache_fd = r->fd;
	cache_off = off;
	cache_len = len;
	return buf;
}

/* n states from st on: the pages are in (or will never be) */
static void settle(struct lz_mm *m, uint8_t *st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (st[i] == PENDING) {
			st[i] = DONE;
			m->pending--;
		}
}

/* its uffd gone: no event, fault or fill looks at its states again */
static void drop_mm(struct lz_mm *m)
{
	m->pending = 0;
	if (m->uffd >= 0)
		close(m->uffd);
	m->uffd = -1;
}

/*
 * Up to max pending pages of segment s from its page k on into place
 * (one run's, at contiguous addresses): how far it got is in the states.
 * false: an event is pending (EAGAIN), read it.
 */
static bool serve(struct lz_mm *m, struct lz_seg *s, uint64_t k, size_t max)
{
	struct lz_run *r = &runs[s->run];
	uint8_t *st = &m->state[s->st + k];
	uint64_t addr = s->addr + k * PG, off = r->off + (s->idx0 + k) * PG;
	struct uffdio_copy cp = { 0 };
	size_t n = 1;
	const char *src;

	while (n < max && k + n < s->npages && st[n] == PENDING)
		n++;
	/* a fault (max FAULT_PAGES) waits for its unit's whole check */
	if (!r->bad && units_ok(r, off, n * PG, max <= FAULT_PAGES) < 0)
		return true;
	if (r->bad) {
		struct uffdio_poison po = { { addr, n * PG }, 0, 0 };

		if (ioctl(m->uffd, UFFDIO_POISON, &po) && errno == EAGAIN)
			return false;
		settle(m, st, n);	/* poisoned, or gone */
		return true;
	}
	src = pages_at(r, off, n * PG);
	if (!src) {
		fprintf(stderr, "crfs-restore: lazy: %s: short read at %lu (truncated?); the restored tree is killed\n",
			r->path, off);
		r->bad = failed = true;
		kill_tree();
		return true;
	}
	cp = (struct uffdio_copy){ addr, (uint64_t)src, n * PG, 0, 0 };
	if (!ioctl(m->uffd, UFFDIO_COPY, &cp)) {
		settle(m, st, n);
		return true;
	}
	if (cp.copy > 0) {
		settle(m, st, cp.copy / PG);
		return errno != EAGAIN;
	}
	if (errno == EAGAIN)
		return false;
	if (errno == EEXIST) {		/* already there */
		settle(m, st, 1);
		return true;
	}
	/* ESRCH: its memory is gone (exit, exec) */
	if (errno != ESRCH && errno != ENOENT) {
		fprintf(stderr, "crfs-restore: lazy: UFFDIO_COPY at 0x%lx: %s\n",
			addr, strerror(errno));
		failed = true;
	}
	drop_mm(m);
	return true;
}

static bool fault(struct lz_mm *m, uint64_t addr)
{
	uint64_t a = addr & ~(PG - 1);
	struct lz_seg *s = find_seg(m, a);
	struct uffdio_zeropage z = { { a, PG }, 0, 0 };
	struct uffdio_range w = { a, PG };

	if (!t_first_fault)
		t_first_fault = now_ms();
	if (s && m->state[s->st + (a - s->addr) / PG] == PENDING)
		return serve(m, s, (a - s->addr) / PG, FAULT_PAGES);
	/* a hole of the image, served, or zapped since: zeros */
	if (!ioctl(m->uffd, UFFDIO_ZEROPAGE, &z))
		return true;
	if (errno == EAGAIN)
		return false;
	if (errno == EEXIST)
		ioctl(m->uffd, UFFDIO_WAKE, &w);
	return true;
}

static uint64_t page_up(uint64_t a)
{
	return (a + PG - 1) & ~(PG - 1);
}

/*
 * Pages in [start, end) of m: zapped (DONTNEED, munmap): zero from now
 * on, so cut out of the segments.
 */
static void zap(struct lz_mm *m, uint64_t start, uint64_t end)
{
	size_t i, j, k;

	start = page_up(start);
	end = page_up(end);
	if (start >= end)
		return;
	split_at(m, start);
	split_at(m, end);
	i = seg_after(m, start);
	for (j = i; j < m->nseg && m->seg[j].addr < end; j++)
		for (k = 0; k < m->seg[j].npages; k++)
			m->pending -= m->state[m->seg[j].st + k] == PENDING;
	memmove(&m->seg[i], &m->seg[j], (m->nseg - j) * sizeof(*m->seg));
	m->nseg -= j - i;
}

static void remap(struct lz_mm *m, uint64_t from, uint64_t to, uint64_t len)
{
	size_t i;

	len = page_up(len);
	zap(m, to, to + len);	/* whatever was there is gone */
	split_at(m, from);
	split_at(m, from + len);
	for (i = seg_after(m, from); i < m->nseg && m->seg[i].addr < from + len;
	     i++)
		m->seg[i].addr += to - from;
	sort_segs(m);
}

/* a forked child: its own uffd, its pages as the parent's are now */
static void forked(size_t parent, int ufd)
{
	struct lz_mm *m;
	size_t i;

	mms = grow(mms, nmms, sizeof(*mms));
	m = &mms[nmms++];
	*m = (struct lz_mm){ .uffd = ufd, .n = mms[parent].n,
			     .pending = mms[parent].pending };
	for (i = 0; i < mms[parent].nseg; i++)
		add_seg(m, &mms[parent].seg[i]);
	m->state = malloc(m->n ?: 1);
	if (!m->state)
		oom();
	memcpy(m->state, mms[parent].state, m->n);
}

/* every event of m; false: its uffd is gone */
static void events(size_t k)
{
	struct uffd_msg msg;

	while (mms[k].uffd >= 0 &&
	       read(mms[k].uffd, &msg, sizeof(msg)) == sizeof(msg)) {
		struct lz_mm *m = &mms[k];

		switch (msg.event) {
		case UFFD_EVENT_PAGEFAULT:
			while (!fault(&mms[k], msg.arg.pagefault.address))
				events(k);	/* EAGAIN: an event first */
			break;
		case UFFD_EVENT_FORK:
			forked(k, msg.arg.fork.ufd);
			break;
		case UFFD_EVENT_REMAP:
			remap(m, msg.arg.remap.from, msg.arg.remap.to,
			      msg.arg.remap.len);
			break;
		case UFFD_EVENT_REMOVE:
		case UFFD_EVENT_UNMAP:
			zap(m, msg.arg.remove.start, msg.arg.remove.end);
			break;
		}
	}
}

/* m's first pending page from its cursor on (its segment, and the page
 * in it as *k), the cursor moved there; NULL: none */
static struct lz_seg *next_pending(struct lz_mm *m, uint64_t *k)
{
	size_t i;

	for (i = seg_after(m, m->cursor); i < m->nseg; i++) {
		struct lz_seg *s = &m->seg[i];
		uint64_t at = s->addr < m->cursor ? (m->cursor - s->addr) / PG : 0;
		const uint8_t *p = memchr(&m->state[s->st + at], PENDING,
					  s->npages - at);

		if (p) {
			*k = p - &m->state[s->st];
			m->cursor = s->addr + *k * PG;
			return s;
		}
	}
	return NULL;
}

static size_t pending(void)
{
	size_t k, n = 0;

	for (k = 0; k < nmms; k++)
		n += mms[k].uffd >= 0 ? mms[k].pending : 0;
	return n;
}

/* one chunk of background fill; false: nothing left */
static bool background(void)
{
	struct lz_seg *s;
	uint64_t i;
	size_t k;

	for (k = 0; k < nmms; k++) {
		struct lz_mm *m = &mms[k];

		if (m->uffd < 0 || !m->pending)
			continue;
		s = next_pending(m, &i);
		if (!s) {	/* remapped behind us */
			m->cursor = 0;
			continue;
		}
		if (!serve(m, s, i, CHUNK_PAGES))
			events(k);
		return true;
	}
	return pending() > 0;	/* cursors reset: from the start again */
}

/*
 * CRFS_LAZY_THROTTLE=MIB (tests): the background fill does at most MIB
 * MiB/s, so that a workload's checks run while it is still filling.
 */
static int bg_wait_ms(void)
{
	const char *t = getenv("CRFS_LAZY_THROTTLE");
	long mib = t ? strtol(t, NULL, 10) : 0;

	return mib > 0 ? (int)(CHUNK_PAGES * PG * 1000 / (mib << 20)) : 0;
}

static void handler_loop(int sk)
{
	struct pollfd *pf = NULL;
	size_t k, np;
	bool more = true;
	int wait = bg_wait_ms();

	while (sk >= 0 || pending()) {
		pf = realloc(pf, (nmms + 1) * sizeof(*pf));
		if (!pf)
			oom();
		np = 0;
		pf[np++] = (struct pollfd){ sk, POLLIN, 0 };
		for (k = 0; k < nmms; k++)
			pf[np++] = (struct pollfd){ mms[k].uffd, POLLIN, 0 };
		if (poll(pf, np, more ? wait : (sk >= 0 ? -1 : 100)) < 0 &&
		    errno != EINTR)
			break;
		if (sk >= 0 && (pf[0].revents & (POLLIN | POLLHUP)) &&
		    !take_msg(sk)) {
			close(sk);
			sk = -1;
		}
		for (k = 0; k + 1 < np; k++)
			if (pf[k + 1].revents & (POLLERR | POLLHUP))
				drop_mm(&mms[k]);
			else if (pf[k + 1].revents & POLLIN)
				events(k);
		/*
		 * No background fill while the tree is being made (the
		 * restore holds the socket until it runs): the tree is
		 * stopped and touches no lazy page, and on a busy machine
		 * our reading, checking and copying would only delay it (the
		 * downtime); faults are served as they come, whenever
		 */
		more = sk < 0 && background();
	}
	free(pf);
}

static __attribute__((noreturn)) void handler_main(int sk)
{
	uint64_t t0 = now_ms();
	size_t k, pages = 0;

	prctl(PR_SET_NAME, "crfs-lazy");
	buf = aligned_alloc(PG, UNIT_BUF);
	if (!buf)
		exit(1);
	handler_loop(sk);
	for (k = 0; k < nmms; k++) {
		pages += mms[k].n;
		if (mms[k].uffd >= 0)
			close(mms[k].uffd);
	}
	if (restore_profiling())
		fprintf(stderr, "crfs-restore: lazy: profile: first fault after %lu ms, %lu MiB checked\n",
			t_first_fault ? t_first_fault - t0 : 0,
			(unsigned long)(checked_bytes >> 20));
	fprintf(stderr, "crfs-restore: lazy: %s: %zu pages of %zu processes in after %lu ms\n",
		failed ? "failed" : "done", pages, nmms, now_ms() - t0);
	exit(failed ? 1 : 0);
}

/* detached: our messages to PIDFILE.lazy.log, or nowhere */
static void log_to(const char *pidfile)
{
	char path[4096];
	int fd;

	if (pidfile)
		snprintf(path, sizeof(path), "%s.lazy.log", pidfile);
	fd = open(pidfile ? path : "/dev/null",
		  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

/*
 * Before the tree: the handler, not our child (we wait for any child of
 * ours), its pid to PIDFILE.lazy when there is a pidfile.
 */
int lazy_start(struct image *img, const char *pidfile, bool detach,
	       char *err, size_t errlen)
{
	int sk[2], dn, one = 1;
	pid_t mid, h;

	lazy_img = img;
	if (!lazy_on)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk))
		return snprintf(err, errlen, "lazy: socketpair: %s",
				strerror(errno)), -1;
	/* each hand-over carries its sender's pid, in our namespace */
	setsockopt(sk[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	fflush(NULL);
	mid = fork();
	if (mid == 0) {
		h = fork();
		if (h == 0) {
			close(sk[1]);
			dn = open("/dev/null", O_RDWR);
			if (dn >= 0) {	/* not the caller's stdout: $(...) */
				dup2(dn, 0);
				dup2(dn, 1);
				close(dn);
			}
			if (detach)	/* nor its stderr (ssh waits for it) */
				log_to(pidfile);
			handler_main(sk[0]);
		}
		if (h > 0 && pidfile) {
			FILE *f;
			char path[4096];

			snprintf(path, sizeof(path), "%s.lazy", pidfile);
			f = fopen(path, "w");
			if (f) {
				fprintf(f, "%d\n", h);
				fclose(f);
			}
		}
		_exit(h < 0);
	}
	close(sk[0]);
	if (mid < 0) {
		close(sk[1]);
		return snprintf(err, errlen, "lazy: cannot start the handler: %s",
				strerror(errno)), -1;
	}
	/* not waited for here: its fork of the handler and the pid file
	 * go on beside the restore (a fork here takes milliseconds) */
	lazy_mid = mid;
	lazy_sk = sk[1];
	lazy_dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	return 0;
}

/*
 * The handler's first parent, gone: it made the handler (and wrote its
 * pid file).  Before the tree is made: the restore waits for any child
 * of its own then (finish.c, wait_all) and must not see this one.
 */
int lazy_ready(char *err, size_t errlen)
{
	pid_t mid = lazy_mid;
	int st;

	if (mid < 0)
		return 0;
	lazy_mid = -1;
	if (waitpid(mid, &st, 0) != mid || st)
		return snprintf(err, errlen, "lazy: cannot start the handler"), -1;
	return 0;
}

/* the tree has its uffds (or failed): the handler's socket is theirs */
void lazy_started(void)
{
	if (lazy_mid >= 0)	/* a restore that failed before lazy_ready */
		lazy_ready(NULL, 0);
	if (lazy_sk >= 0)
		close(lazy_sk);
	if (lazy_dev >= 0)
		close(lazy_dev);
	lazy_sk = lazy_dev = -1;
}
