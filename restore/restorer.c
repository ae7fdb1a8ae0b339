// SPDX-License-Identifier: MIT
/*
 * The restorer: freestanding code that runs in a gap of the saved address
 * layout after crfs-restore jumped into it.  It drops every old mapping,
 * moves the vDSO to where it was, rebuilds and fills the saved mappings,
 * sets mm fields, thread attributes and credentials, then traps so the
 * waiting crfs-restore can unmap this code and load the saved registers.
 *
 * No libc, no stack protector, no relocations: raw syscalls only.
 */
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include <linux/securebits.h>

#include "crfs/image.h"
#include "restorer.h"

/* the image's checksum, for the runs we check as we copy them: hidden,
 * so the calls need no relocation */
#pragma GCC visibility push(hidden)
#define CRFS_HASH_NO_STATIC
#include "../lib/hash.c"
#pragma GCC visibility pop

#define TASK_END 0x7ffffffff000UL
#define MADV_RANDOM_ 1
#define MADV_SEQUENTIAL_ 2
#define MADV_DONTFORK_ 10
#define MADV_MERGEABLE_ 12
#define MADV_UNMERGEABLE_ 13
#define MADV_HUGEPAGE_ 14
#define MADV_NOHUGEPAGE_ 15
#define MADV_DONTDUMP_ 16
#define MADV_WIPEONFORK_ 18
#define MAP_DROPPABLE_ 0x08
#define MADV_POPULATE_WRITE_ 23
#define SS_DISABLE_ 2
#define MLOCK_ONFAULT_ 1
#define PR_SET_MEMORY_MERGE_ 67
/* mseal(2), Linux 6.10; older kernel headers lack the number */
#define NR_MSEAL_ 462

asm(".section .text.entry,\"ax\"\n"
    ".globl rst_entry\n"
    "rst_entry:\n"
    "	call restorer_main\n"
    "	ud2\n"
    ".org 16\n"		/* RST_GADGET_OFF */
    "rst_gadget:\n"
    "	syscall\n"
    "	int3\n"
    ".previous\n");

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 asm("r10") = d;
	register long r8 asm("r8") = e;
	register long r9 asm("r9") = f;
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
		       "r"(r9)
		     : "rcx", "r11", "memory");
	return ret;
}

#define sys(nr, a, b, c, d) sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* the compiler may emit calls to these for struct copies */
void *memset(void *d, int c, unsigned long n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static __attribute__((noreturn)) void fail(struct restore_args *a,
					   const char *what, long ret)
{
	char num[24], *p = num + sizeof(num);
	unsigned long v = ret < 0 ? -ret : ret;

	*--p = '\n';
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	sys(__NR_write, a->err_fd, "restorer: ", 10, 0);
	sys(__NR_write, a->err_fd, what, slen(what), 0);
	sys(__NR_write, a->err_fd, " failed, errno ", 15, 0);
	sys(__NR_write, a->err_fd, p, num + sizeof(num) - p, 0);
	sys(__NR_exit_group, 127, 0, 0, 0);
	__builtin_unreachable();
}

static void check(struct restore_args *a, const char *what, long ret)
{
	if (ret < 0 && ret > -4096)
		fail(a, what, ret);
}

static void unmap_old(struct restore_args *a)
{
	uint64_t at = 0;
	uint32_t i;

	for (i = 0; i <= a->nkeep; i++) {
		uint64_t end = i < a->nkeep ? a->keep[i].start : TASK_END;

		if (end > at)
			check(a, "munmap", sys(__NR_munmap, at, end - at, 0, 0));
		if (i < a->nkeep)
			at = a->keep[i].end;
	}
}

static long move(uint64_t from, uint64_t to, uint64_t len)
{
	if (from == to)
		return 0;
	return sys6(__NR_mremap, from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		    to, 0);
}

/* Via scratch, so no move lands on a mapping still waiting to move. */
static void move_vdso(struct restore_args *a)
{
	uint64_t at = a->scratch, len;
	uint32_t i;

	for (i = 0; i < a->nmoves; i++) {
		len = a->move_from[i].end - a->move_from[i].start;
		check(a, "mremap vdso", move(a->move_from[i].start, at, len));
		a->move_from[i].start = at;
		at += len;
	}
	for (i = 0; i < a->nmoves; i++) {
		len = a->move_to[i].end - a->move_to[i].start;
		check(a, "mremap vdso", move(a->move_from[i].start,
					     a->move_to[i].start, len));
	}
}

/* shmat(2) flags the freestanding blob has no header for */
#define SHM_RDONLY_	010000
#define SHM_REMAP_	040000
#define SHM_EXEC_	0100000

/* an attach is made by shmat alone: mmap of the segment is not one */
static void attach_sysv(struct restore_args *a, const struct rst_vma *v)
{
	int flags = SHM_REMAP_;

	if (!(v->prot & PROT_WRITE))
		flags |= SHM_RDONLY_;
	if (v->prot & PROT_EXEC)
		flags |= SHM_EXEC_;
	check(a, "shmat", sys(__NR_shmat, v->shmid, v->start, flags, 0));
	if (!(v->prot & PROT_READ))
		check(a, "mprotect shm", sys(__NR_mprotect, v->start,
					     v->end - v->start, v->prot, 0));
}

/* struct aio_ring's first fields, struct iocb and struct io_event */
struct aio_ring_ {
	uint32_t id, nr, head, tail;
};

struct iocb_ {
	uint64_t data;
	uint32_t key, rw_flags;
	uint16_t opcode;
	int16_t reqprio;
	uint32_t fildes;
	uint64_t buf, nbytes;
	int64_t offset;
	uint64_t reserved2;
	uint32_t flags, resfd;
};

struct io_event_ {
	uint64_t data, obj;
	int64_t res, res2;
};

/*
 * An AIO context again: io_setup makes a ring of the same size, which
 * moves to where the old one was (mremap tells the kernel: the address is
 * the context's id).  The ring's pages are filled like any memory, then
 * settle_aio sets the kernel's own copy of the tail.
 */
static void make_aio(struct restore_args *a, struct rst_vma *v)
{
	uint64_t ctx = 0, len = v->end - v->start;
	struct aio_ring_ *r;

	check(a, "io_setup", sys(__NR_io_setup, v->aio_nr, &ctx, 0, 0));
	r = (struct aio_ring_ *)ctx;
	if (r->nr != (len - 32) / 32)
		fail(a, "io_setup of a ring of the saved size", -22 /* EINVAL */);
	check(a, "mremap aio ring", move(ctx, v->start, len));
	v->aio_id = ((struct aio_ring_ *)v->start)->id;
}

static void map_vma(struct restore_args *a, struct rst_vma *v)
{
	int flags = MAP_FIXED, prot = v->prot;

	if (v->kept)
		return;
	if (v->shmid >= 0)
		return attach_sysv(a, v);
	if (v->aio_nr)
		return make_aio(a, v);

	/* droppable is a mapping type of its own, in place of private */
	flags |= v->flags & VMA_F_SHARED ? MAP_SHARED :
		 v->flags & VMA_F_DROPPABLE ? MAP_DROPPABLE_ : MAP_PRIVATE;
	if (v->fd < 0)
		flags |= MAP_ANONYMOUS;
	/* huge pages again, of the saved size (hugetlb.c checked the pool) */
	if (v->fd < 0 && (v->flags & VMA_F_HUGETLB))
		flags |= MAP_HUGETLB | v->huge_shift << MAP_HUGE_SHIFT;
	if (v->flags & VMA_F_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (v->flags & VMA_F_NORESERVE)
		flags |= MAP_NORESERVE;
	if (v->has_pages)
		prot = PROT_READ | PROT_WRITE;
	check(a, "mmap", sys6(__NR_mmap, v->start, v->end - v->start, prot,
			      flags, v->fd, v->pgoff));
}

/*
 * Pages go through a small buffer that is read into again and again,
 * checksummed there while it is in the cache, and then written into place
 * with process_vm_writev on ourselves: the kernel writes the new pages
 * through its own mapping, so each page is not faulted in one by one by
 * the copy (in a VM with shadow page tables that costs more than the copy:
 * 4x faster for 256 MiB here; reading straight into pages made first with
 * MADV_POPULATE_WRITE was 4x slower too, and checksumming them there 10x
 * slower than in the buffer).  Where that is refused, the pages are read
 * straight into place.
 */
#define FILL_BUF (512UL << 10)

struct iovec_ {
	uint64_t base, len;
};

/* the kernel's struct msghdr, for sendmsg with SCM_RIGHTS */
struct msghdr_ {
	uint64_t name;
	uint32_t namelen, pad;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad2;
};

static long read_pages(struct restore_args *a, const struct rst_run *r,
		       uint64_t to, uint64_t n, uint64_t done)
{
	long got = sys(__NR_pread64, r->fd, to, n, r->off + done);

	if (got == 0)
		fail(a, "read pages (short file)", 0);
	check(a, "read pages", got);
	return got;
}

/*
 * Some of the bytes of r from done into place, through buf if *buf: how
 * many.  Each is added to h where it is read.
 */
static long fill_chunk(struct restore_args *a, const struct rst_run *r,
		       uint64_t done, uint64_t *buf, long self,
		       struct crfs_hash *h)
{
	uint64_t n = r->len - done < FILL_BUF ? r->len - done : FILL_BUF;
	struct iovec_ local, remote;
	long got;

	if (*buf) {
		got = read_pages(a, r, *buf, n, done);
		local = (struct iovec_){ *buf, got };
		remote = (struct iovec_){ r->addr + done, got };
		if (sys6(__NR_process_vm_writev, self, (long)&local, 1,
			 (long)&remote, 1, 0) == got) {
			if (r->check)
				crfs_hash_update(h, (const void *)*buf, got);
			return got;
		}
		*buf = 0;	/* refused: straight into place from now on */
	}
	got = read_pages(a, r, r->addr + done, n, done);
	if (r->check)
		crfs_hash_update(h, (const void *)(r->addr + done), got);
	return got;
}

static void put_hex(char *p, uint64_t v, int *len)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	p[0] = '0';
	p[1] = 'x';
	for (*len = 2; n;)
		p[(*len)++] = tmp[--n];
}

/* as image_load words it: the file, the run, nothing of it is used */
static __attribute__((noreturn)) void fail_sum(struct restore_args *a,
					       uint64_t addr)
{
	static const char msg[] = ": checksum mismatch in the pages of ";
	static const char tail[] = " (corrupted)\n";
	char hex[20];
	int n;

	put_hex(hex, addr, &n);
	sys(__NR_write, a->err_fd, a->pages_path, slen(a->pages_path), 0);
	sys(__NR_write, a->err_fd, msg, sizeof(msg) - 1, 0);
	sys(__NR_write, a->err_fd, hex, n, 0);
	sys(__NR_write, a->err_fd, tail, sizeof(tail) - 1, 0);
	sys(__NR_exit_group, 127, 0, 0, 0);
	__builtin_unreachable();
}

static void fill(struct restore_args *a, const struct rst_run *r,
		 uint64_t buf, long self)
{
	struct crfs_hash h;
	uint64_t done = 0;

	crfs_hash_init_cpu(&h, a->hash_avx2);
	while (done < r->len)
		done += fill_chunk(a, r, done, &buf, self, &h);
	if (r->check && crfs_hash_final(&h) != r->hash)
		fail_sum(a, r->addr);
}

/*
 * Private anonymous memory is filled with UFFDIO_COPY instead: the range is
 * registered with a userfaultfd for missing pages, and each copy installs
 * new pages straight from the buffer, neither zeroed first nor faulted in
 * (1 GiB here: 0.22-0.36 s against 0.31-0.84 s by process_vm_writev).
 * Copying from a mapping of the pages file instead of our buffer (one copy
 * of each byte, not two) was 2-3x slower: 1 GiB from tmpfs in 1.2-2.2 s
 * against 0.53-0.67 s read through the buffer, with windows of 512 KiB to
 * 32 MiB mapped with MAP_POPULATE, MADV_POPULATE_READ or faulted (setting
 * up the file mapping's page tables costs more than the copy it saves).
 * UFFD_USER_MODE_ONLY needs no CAP_SYS_PTRACE, so it works in a user
 * namespace too.  Nothing touches a registered range while it is
 * registered (a fault there would wait for a handler that is not there:
 * user mode ONLY makes a kernel access fail instead), and all of it is
 * unregistered before finish_vma (mlock would fault).  Mappings kept from
 * the fork, SysV, AIO and shared ones, and MADV_HUGEPAGE ones (thp_early
 * gives them huge pages as they fault; UFFDIO_COPY makes small ones) keep
 * the path above; so do hugetlb ones (UFFDIO_COPY there takes only whole,
 * aligned huge pages per call, more than our buffer) and everything where
 * userfaultfd is refused.
 */
#define UFFD_USER_MODE_ONLY_ 1
#define MADV_GUARD_INSTALL_ 102
#define O_CLOEXEC_ 02000000
#define EAGAIN_ 11
#define EEXIST_ 17
#define EINTR_ 4
#define EPIPE_ 32
#define PAGE_ 4096UL

static int uffd_eligible(const struct rst_vma *v)
{
	return v->has_pages && !v->kept && !v->lazy && v->shmid < 0 &&
	       !v->aio_nr &&
	       v->fd < 0 &&
	       !(v->flags & (VMA_F_SHARED | VMA_F_HUGEPAGE | VMA_F_HUGETLB));
}

/* every range unregistered, before anything else touches them */
static void uffd_close(struct restore_args *a, long fd)
{
	struct uffdio_range r;
	uint32_t i;

	for (i = 0; i < a->nvmas; i++) {
		if (!a->vmas[i].uffd)
			continue;
		r = (struct uffdio_range){ a->vmas[i].start,
					   a->vmas[i].end - a->vmas[i].start };
		check(a, "UFFDIO_UNREGISTER",
		      sys(__NR_ioctl, fd, UFFDIO_UNREGISTER, &r, 0));
		a->vmas[i].uffd = 0;
	}
	sys(__NR_close, fd, 0, 0, 0);
}

/* a userfaultfd with every eligible mapping registered, or -1 */
static long uffd_open(struct restore_args *a)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	long fd;
	uint32_t i;

	for (i = 0; i < a->nvmas; i++)
		a->vmas[i].uffd = 0;
	fd = sys(__NR_userfaultfd, O_CLOEXEC_ | UFFD_USER_MODE_ONLY_, 0, 0, 0);
	if (fd < 0)
		return -1;
	if (sys(__NR_ioctl, fd, UFFDIO_API, &api, 0) < 0)
		goto refused;
	for (i = 0; i < a->nvmas; i++) {
		struct rst_vma *v = &a->vmas[i];

		if (!uffd_eligible(v))
			continue;
		reg = (struct uffdio_register){
			.range = { v->start, v->end - v->start },
			.mode = UFFDIO_REGISTER_MODE_MISSING };
		if (sys(__NR_ioctl, fd, UFFDIO_REGISTER, &reg, 0) < 0)
			goto refused;
		v->uffd = 1;
	}
	return fd;
refused:
	uffd_close(a, fd);
	return -1;
}

/*
 * n bytes from buf to dst, all new pages.  EAGAIN (the kernel gave up part
 * way) goes on from where it stopped; anything else, EEXIST included (a
 * run is filled by one worker alone), fails the restore.
 */
static void uffd_copy(struct restore_args *a, long fd, uint64_t dst,
		      uint64_t buf, uint64_t n)
{
	struct uffdio_copy c;
	long ret;

	while (n) {
		c = (struct uffdio_copy){ .dst = dst, .src = buf, .len = n };
		ret = sys(__NR_ioctl, fd, UFFDIO_COPY, &c, 0);
		if (c.copy > 0) {
			dst += c.copy;
			buf += c.copy;
			n -= c.copy;
		}
		if (ret < 0 && ret != -EAGAIN_)
			fail(a, "UFFDIO_COPY of the pages", ret);
	}
}

/*
 * The first page of a run at dst, from buf: 0, or -EEXIST when the fill
 * helper copied it first (shared: it was asked), and so has the run.
 */
static long uffd_claim(struct restore_args *a, long fd, uint64_t dst,
		       uint64_t buf, int shared)
{
	struct uffdio_copy c;
	long ret;

	do {
		c = (struct uffdio_copy){ .dst = dst, .src = buf, .len = PAGE_ };
		ret = sys(__NR_ioctl, fd, UFFDIO_COPY, &c, 0);
	} while (ret == -EAGAIN_ && c.copy <= 0);
	if (ret == -EEXIST_ && shared)
		return ret;
	check(a, "UFFDIO_COPY of the pages", ret);
	return 0;
}

/* run r: 1 once filled, 0 if the helper has it (shared: it was asked) */
static int fill_uffd(struct restore_args *a, const struct rst_run *r,
		     long fd, uint64_t buf, int shared)
{
	struct crfs_hash h;
	uint64_t done = 0, n;
	long got;

	crfs_hash_init_cpu(&h, a->hash_avx2);
	while (done < r->len) {
		n = r->len - done < FILL_BUF ? r->len - done : FILL_BUF;
		/* whole pages only: UFFDIO_COPY takes no part of one */
		for (got = 0; (uint64_t)got < n;)
			got += read_pages(a, r, buf + got, n - got, done + got);
		if (!done && uffd_claim(a, fd, r->addr, buf, shared))
			return 0;
		if (r->check)
			crfs_hash_update(&h, (const void *)buf, got);
		if (!done)
			uffd_copy(a, fd, r->addr + PAGE_, buf + PAGE_, got - PAGE_);
		else
			uffd_copy(a, fd, r->addr + done, buf, got);
		done += got;
	}
	if (r->check && crfs_hash_final(&h) != r->hash)
		fail_sum(a, r->addr);
	return 1;
}

/* the vma holding run r, searched from *at on (both are sorted) */
static const struct rst_vma *vma_of(struct restore_args *a,
				    const struct rst_run *r, uint32_t *at)
{
	if (*at >= a->nvmas || a->vmas[*at].start > r->addr)
		*at = 0;
	while (*at < a->nvmas && a->vmas[*at].end <= r->addr)
		(*at)++;
	if (*at < a->nvmas && a->vmas[*at].start <= r->addr)
		return &a->vmas[*at];
	return 0;
}

/* the runs either worker may fill, marked: how many, and their bytes */
static uint32_t mark_uffd_runs(struct restore_args *a, uint64_t *bytes)
{
	const struct rst_vma *v;
	uint32_t i, at = 0, n = 0;

	*bytes = 0;
	for (i = 0; i < a->nruns; i++) {
		v = vma_of(a, &a->runs[i], &at);
		a->runs[i].uffd = v && v->uffd;
		n += a->runs[i].uffd;
		*bytes += a->runs[i].uffd ? a->runs[i].len : 0;
	}
	return n;
}

static int fill_add_fd(struct rst_fill_req *q, int32_t fd)
{
	uint32_t i;

	for (i = 0; i < q->nfds; i++)
		if (q->fd[i] == fd)
			return 0;
	if (q->nfds == RST_FILL_FDS)
		return -1;
	q->fd[q->nfds++] = fd;
	return 0;
}

#define AF_UNIX_ 1
#define SOCK_SEQPACKET_ 5
#define MSG_NOSIGNAL_ 0x4000
#define FILL_NFDS (2 + RST_FILL_FDS)
#define FILL_CMSG (16 + 4 * FILL_NFDS)	/* CMSG_SPACE of them */

/*
 * The fill helper is asked to fill our runs from the back: the socket its
 * reply comes on, or -1 (nothing to share, no helper, or too many files:
 * we fill everything ourselves).
 */
static long fill_ask(struct restore_args *a, long ufd)
{
	struct rst_fill_req q = { .runs = (uint64_t)a->runs,
				  .nruns = a->nruns };
	union {
		char buf[FILL_CMSG];
		uint64_t align;
	} c = { 0 };
	struct iovec_ iov = { (uint64_t)&q, sizeof(q) };
	struct msghdr_ mh = { 0, 0, 0, (uint64_t)&iov, 1, (uint64_t)c.buf, 0, 0, 0 };
	int32_t sv[2], *fds = (int32_t *)(c.buf + 16);
	uint64_t bytes;
	uint32_t i;
	long ret;

	if (a->fill_sk < 0 || mark_uffd_runs(a, &bytes) < 2 ||
	    (!a->fill_first && bytes < RST_FILL_MIN))
		return -1;
	for (i = 0; i < a->nruns; i++)
		if (a->runs[i].uffd && fill_add_fd(&q, a->runs[i].fd))
			return -1;
	if (sys(__NR_socketpair, AF_UNIX_, SOCK_SEQPACKET_ | O_CLOEXEC_, 0,
		sv) < 0)
		return -1;
	fds[0] = sv[1];
	fds[1] = ufd;
	for (i = 0; i < q.nfds; i++)
		fds[2 + i] = q.fd[i];
	mh.controllen = 16 + ((4 * (2 + q.nfds) + 7) & ~7);
	*(uint64_t *)c.buf = 16 + 4 * (2 + q.nfds);	/* cmsg_len */
	*(int32_t *)(c.buf + 8) = 1;			/* SOL_SOCKET */
	*(int32_t *)(c.buf + 12) = 1;			/* SCM_RIGHTS */
	ret = sys(__NR_sendmsg, a->fill_sk, (long)&mh, MSG_NOSIGNAL_, 0);
	sys(__NR_close, sv[1], 0, 0, 0);
	if (ret < 0) {
		sys(__NR_close, sv[0], 0, 0, 0);
		return -1;
	}
	return sv[0];
}

/* until the helper is done with our memory: it may have found a bad run */
static void fill_wait(struct restore_args *a, long sk)
{
	struct rst_fill_reply m;
	long n;

	do
		n = sys(__NR_read, sk, &m, sizeof(m), 0);
	while (n == -EINTR_);
	sys(__NR_close, sk, 0, 0, 0);
	if (n != sizeof(m))
		fail(a, "fill helper: its reply", n < 0 ? n : -EPIPE_);
	m.step[sizeof(m.step) - 1] = 0;
	if (m.status == RST_FILL_BADSUM)
		fail_sum(a, m.addr);
	if (m.status != RST_FILL_DONE)
		fail(a, m.step, m.err);
}

static void fill_runs(struct restore_args *a)
{
	const struct rst_vma *v;
	long buf, self, ufd = -1, helper = -1;
	uint32_t i, at = 0;
	int met = 0, waited = 0;

	buf = sys6(__NR_mmap, 0, FILL_BUF, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf < 0 && buf > -4096)
		buf = 0;
	/*
	 * The buffer's pages in one call, not a fault each at the first
	 * read into it (a kernel before 5.14 says EINVAL: they are faulted
	 * in as before).  Its own pages only: the target's are not made
	 * this way (see FILL_BUF).
	 */
	if (buf)
		sys(__NR_madvise, buf, FILL_BUF, MADV_POPULATE_WRITE_, 0);
	self = sys(__NR_getpid, 0, 0, 0, 0);
	if (buf)
		ufd = uffd_open(a);
	if (ufd >= 0)
		helper = fill_ask(a, ufd);
	if (helper >= 0 && a->fill_first) {
		fill_wait(a, helper);
		waited = 1;
	}
	for (i = 0; i < a->nruns; i++) {
		v = vma_of(a, &a->runs[i], &at);
		/* past the first run the helper took, it has them all */
		if (ufd >= 0 && v && v->uffd)
			met = met || !fill_uffd(a, &a->runs[i], ufd, buf,
						helper >= 0);
		else
			fill(a, &a->runs[i], buf, self);
	}
	if (helper >= 0 && !waited)
		fill_wait(a, helper);
	if (ufd >= 0)
		uffd_close(a, ufd);
	if (buf)
		sys(__NR_munmap, buf, FILL_BUF, 0, 0);
}

/*
 * The saved ring is in place, its head and tail as they were; the kernel
 * still has tail 0.  From an empty ring, HEAD dummy requests completed and
 * reaped, then as many as were pending completed and left, bring the
 * kernel's tail and its count of free slots where they were (a 0-byte read
 * completes at once).  The events those wrote over are read again.
 */
static void settle_aio(struct restore_args *a, const struct rst_vma *v)
{
	volatile struct aio_ring_ *r = (void *)v->start;
	uint32_t head = r->head, tail = r->tail, nr = r->nr, i, pending;
	struct iocb_ cb = { 0 }, *cbp = &cb;
	struct io_event_ ev;
	const struct rst_run *first = 0;

	for (i = 0; i < a->nruns && !first; i++)
		if (a->runs[i].addr >= v->start && a->runs[i].addr < v->end)
			first = &a->runs[i];
	if (!first || head >= nr || tail >= nr)
		fail(a, "aio ring: its saved header", -22 /* EINVAL */);
	cb.fildes = first->fd;
	cb.buf = (uint64_t)&ev;
	r->id = v->aio_id;
	r->head = 0;
	r->tail = 0;
	pending = (tail + nr - head) % nr;
	for (i = 0; i < head; i++) {
		check(a, "io_submit", sys(__NR_io_submit, v->start, 1, &cbp, 0));
		check(a, "io_getevents", sys6(__NR_io_getevents, v->start, 1, 1,
					      (long)&ev, 0, 0));
	}
	for (i = 0; i < pending; i++)
		check(a, "io_submit", sys(__NR_io_submit, v->start, 1, &cbp, 0));
	for (i = 0; i < a->nruns; i++)
		if (a->runs[i].addr >= v->start && a->runs[i].addr < v->end)
			fill(a, &a->runs[i], 0, 0);
	r->id = v->aio_id;
}

static void finish_vma(struct restore_args *a, const struct rst_vma *v)
{
	static const struct {
		uint32_t flag;
		int advice;
	} adv[] = {
		{ VMA_F_DONTFORK, MADV_DONTFORK_ },
		{ VMA_F_WIPEONFORK, MADV_WIPEONFORK_ },
		{ VMA_F_DONTDUMP, MADV_DONTDUMP_ },
		{ VMA_F_HUGEPAGE, MADV_HUGEPAGE_ },
		{ VMA_F_NOHUGEPAGE, MADV_NOHUGEPAGE_ },
		{ VMA_F_SEQREAD, MADV_SEQUENTIAL_ },
		{ VMA_F_RANDREAD, MADV_RANDOM_ },
		{ VMA_F_MERGEABLE, MADV_MERGEABLE_ },
	};
	uint64_t len = v->end - v->start;
	unsigned int i;

	if (v->has_pages && v->prot != (PROT_READ | PROT_WRITE))
		check(a, "mprotect", sys(__NR_mprotect, v->start, len, v->prot,
					 0));
	for (i = 0; i < sizeof(adv) / sizeof(adv[0]); i++)
		if (v->flags & adv[i].flag)
			check(a, "madvise", sys(__NR_madvise, v->start, len,
						adv[i].advice, 0));
	/* PR_SET_MEMORY_MERGE made every mapping mergeable, not all were */
	if (a->memory_merge && !(v->flags & VMA_F_MERGEABLE))
		check(a, "madvise(MADV_UNMERGEABLE)",
		      sys(__NR_madvise, v->start, len, MADV_UNMERGEABLE_, 0));
	if (v->flags & VMA_F_LOCKED)
		check(a, "mlock2", sys(__NR_mlock2, v->start, len,
				       v->flags & VMA_F_LOCKONFAULT ?
				       MLOCK_ONFAULT_ : 0, 0));
	/* last: a sealed mapping takes no more changes */
	if (v->flags & VMA_F_SEALED)
		check(a, "mseal", sys(NR_MSEAL_, v->start, len, 0, 0));
}

/*
 * A mapping that had MADV_HUGEPAGE gets it before its pages are written,
 * not only after (finish_vma sets it again, harmlessly): the fill then
 * takes a huge page per 2 MiB instead of 512 faults and small pages, and
 * the program has them as huge pages as it had, not whenever khugepaged
 * gets round to it.  Mappings without it are left as they were saved.
 */
static void thp_early(struct restore_args *a, const struct rst_vma *v)
{
	if (v->has_pages && (v->flags & VMA_F_HUGEPAGE))
		check(a, "madvise(MADV_HUGEPAGE) before the pages",
		      sys(__NR_madvise, v->start, v->end - v->start,
			  MADV_HUGEPAGE_, 0));
}

/*
 * --lazy: the lazy mappings are registered on the userfaultfd made before
 * us (lazy.c), which goes to the handler with our index and the ranges;
 * it leaves our table before the process runs.  Their pages come from the
 * handler as they are touched or in the background.
 */
#define LAZY_MAX_RANGES 64
struct lazy_msg_ {
	uint64_t tag;
	uint32_t n, pad;
	uint64_t range[LAZY_MAX_RANGES][2];
};

static void lazy_hand_over(struct restore_args *a)
{
	struct {
		uint64_t start, len, mode, ioctls;
	} reg;
	struct lazy_msg_ m = { .tag = a->lazy_tag };
	union {
		char buf[24];	/* CMSG_SPACE(sizeof(int)) */
		uint64_t align;
	} c = { 0 };
	struct iovec_ iov = { (uint64_t)&m, 0 };
	struct msghdr_ mh = { 0, 0, 0, (uint64_t)&iov, 1, (uint64_t)c.buf, 24, 0, 0 };
	uint32_t i;

	if (a->lazy_uffd < 0)
		return;
	for (i = 0; i < a->nvmas; i++) {
		if (!a->vmas[i].lazy)
			continue;
		reg = (typeof(reg)){ a->vmas[i].start,
				     a->vmas[i].end - a->vmas[i].start,
				     1 /* UFFDIO_REGISTER_MODE_MISSING */, 0 };
		check(a, "lazy: UFFDIO_REGISTER",
		      sys(__NR_ioctl, a->lazy_uffd, 0xc020aa00, (long)&reg, 0));
		m.range[m.n][0] = a->vmas[i].start;
		m.range[m.n++][1] = a->vmas[i].end;
	}
	iov.len = 16 + m.n * 16;
	*(uint64_t *)c.buf = 20;			/* cmsg_len */
	*(int32_t *)(c.buf + 8) = 1;			/* SOL_SOCKET */
	*(int32_t *)(c.buf + 12) = 1;			/* SCM_RIGHTS */
	*(int32_t *)(c.buf + 16) = a->lazy_uffd;
	check(a, "lazy: hand the userfaultfd to the handler",
	      sys(__NR_sendmsg, a->lazy_sk, (long)&mh, 0, 0));
	sys(__NR_close, a->lazy_uffd, 0, 0, 0);
	a->lazy_uffd = -1;
}

static void restore_memory(struct restore_args *a)
{
	uint32_t i;

	unmap_old(a);
	move_vdso(a);
	if (a->memory_merge)
		check(a, "prctl(PR_SET_MEMORY_MERGE)",
		      sys(__NR_prctl, PR_SET_MEMORY_MERGE_, 1, 0, 0));
	for (i = 0; i < a->nvmas; i++)
		map_vma(a, &a->vmas[i]);
	for (i = 0; i < a->nvmas; i++)
		thp_early(a, &a->vmas[i]);
	lazy_hand_over(a);
	fill_runs(a);
	for (i = 0; i < a->nvmas; i++)
		if (a->vmas[i].aio_nr)
			settle_aio(a, &a->vmas[i]);
	/* once filled (the markers take the place of pages) and before
	 * mlock, which the kernel's guard install refuses */
	for (i = 0; i < a->nguards; i++)
		check(a, "madvise(MADV_GUARD_INSTALL)",
		      sys(__NR_madvise, a->guards[i].start,
			  a->guards[i].end - a->guards[i].start,
			  MADV_GUARD_INSTALL_, 0));
	for (i = 0; i < a->nvmas; i++)
		finish_vma(a, &a->vmas[i]);
	if (a->mlockall)
		check(a, "mlockall", sys(__NR_mlockall, a->mlockall, 0, 0, 0));
	check(a, "prctl(PR_SET_MM_MAP)",
	      sys6(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&a->mm,
		   sizeof(a->mm), 0, 0));
}

/*
 * A thread's TSC mode and NUMA policy, once its memory is filled (the
 * policy would place the restorer's own pages too).  maxnode counts one
 * more than the mask's bits, as set_mempolicy wants.
 */
static void restore_thread_prctl(struct restore_args *a,
				 const struct rst_thread *t)
{
	uint64_t nodes = t->mempolicy_nodes;

	if (t->tsc_mode == PR_TSC_SIGSEGV)
		check(a, "prctl(PR_SET_TSC)", sys(__NR_prctl, PR_SET_TSC,
						  PR_TSC_SIGSEGV, 0, 0));
	if (t->mempolicy)
		check(a, "set_mempolicy",
		      sys(__NR_set_mempolicy,
			  t->mempolicy | (long)t->mempolicy_flags,
			  nodes ? (long)&t->mempolicy_nodes : 0,
			  nodes ? 65 : 0, 0));
}

/*
 * Mappings' own NUMA policies, once they are filled: the pages restored
 * stay where they were placed (no MPOL_MF_MOVE), new ones follow it.
 */
static void restore_vma_policies(struct restore_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nvmas; i++) {
		struct rst_vma *v = &a->vmas[i];

		if (v->mpol_mode)
			check(a, "mbind",
			      sys6(__NR_mbind, v->start, v->end - v->start,
				   v->mpol_mode | (long)v->mpol_flags,
				   v->mpol_nodes ? (long)&v->mpol_nodes : 0,
				   v->mpol_nodes ? 65 : 0, 0));
	}
}

/* Last of all mappings' changes: no mapping may gain PROT_EXEC after */
static void restore_mdwe(struct restore_args *a)
{
	if (a->mdwe)
		check(a, "prctl(PR_SET_MDWE)", sys(__NR_prctl, 65 /* PR_SET_MDWE */,
						   (long)a->mdwe, 0, 0));
}

static void restore_thread(struct restore_args *a, const struct rst_thread *t)
{
	struct {
		uint64_t sp;
		int32_t flags, pad;
		uint64_t size;
	} ss = { t->ss_sp, t->ss_flags, 0, t->ss_size };

	sys(__NR_set_tid_address, t->clear_child_tid, 0, 0, 0);
	if (t->robust_list)
		check(a, "set_robust_list", sys(__NR_set_robust_list,
						t->robust_list,
						t->robust_list_len, 0, 0));
	if (t->rseq_ptr)
		check(a, "rseq", sys(__NR_rseq, t->rseq_ptr, t->rseq_size, 0,
				     t->rseq_sig));
	if (ss.flags & SS_DISABLE_) {
		ss.sp = 0;
		ss.size = 0;
		ss.flags = SS_DISABLE_;
	}
	/* SS_ONSTACK is a state, not a request: the kernel rejects it */
	ss.flags &= SS_DISABLE_ | (1U << 31);
	check(a, "sigaltstack", sys(__NR_sigaltstack, &ss, 0, 0, 0));
	restore_thread_prctl(a, t);
}

/*
 * Pending signals go back with their exact siginfo; every signal is still
 * blocked here, and queueing to ourselves is allowed for any si_code.
 */
static void restore_signals(struct restore_args *a)
{
	uint64_t all = ~0ULL;
	struct { long s, ns; } now = { 0, 0 };
	uint32_t i;

	/* drop what restoring raised (SIGCHLD of a zombie child, ...) */
	while (sys(__NR_rt_sigtimedwait, &all, 0, &now, 8) > 0)
		;
	for (i = 0; i < a->nsigs; i++) {
		struct rst_sig *s = &a->sigs[i];

		if (s->tid)
			check(a, "queue signal",
			      sys(__NR_rt_tgsigqueueinfo, a->pid, s->tid,
				  s->signo, s->info));
		else
			check(a, "queue signal",
			      sys(__NR_rt_sigqueueinfo, a->pid, s->signo,
				  s->info, 0));
	}
}

/* bits that would stop us raising the ambient caps: set after them */
#define SECBITS_AMBIENT_LAST (SECBIT_NO_CAP_AMBIENT_RAISE | \
			      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

/* capset(2) of the saved sets, with extra effective bits */
static void set_caps(struct restore_args *a, const struct rst_creds *c,
		     uint64_t eff)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)c->cap_prm;
	d[1].permitted = (uint32_t)(c->cap_prm >> 32);
	d[0].inheritable = (uint32_t)c->cap_inh;
	d[1].inheritable = (uint32_t)(c->cap_inh >> 32);
	check(a, "capset", sys(__NR_capset, &hdr, d, 0, 0));
}

/*
 * Credentials last: once they are dropped we may no longer be allowed to
 * do the rest.  KEEP_CAPS carries the permitted set across setresuid.
 * Raw syscalls change the calling thread only: each thread sets its own.
 * The ambient caps come after setresuid and capset (both clear them), and
 * SECBIT_NO_CAP_AMBIENT_RAISE after those, with CAP_SETPCAP kept
 * effective for it until then.
 */
static void restore_creds(struct restore_args *a, const struct rst_creds *c)
{
	uint32_t last = c->securebits & SECBITS_AMBIENT_LAST;
	uint64_t setpcap = 1ULL << CAP_SETPCAP;
	int cap;

	if (c->securebits & ~(uint32_t)(SECBIT_KEEP_CAPS | last))
		check(a, "set securebits", sys(__NR_prctl, PR_SET_SECUREBITS,
					       (c->securebits & ~last) |
					       SECBIT_KEEP_CAPS, 0, 0));
	else
		check(a, "set keepcaps", sys(__NR_prctl, PR_SET_KEEPCAPS, 1, 0, 0));
	for (cap = 0; cap < 64; cap++)
		if (!(c->cap_bnd & (1ULL << cap)) &&
		    sys(__NR_prctl, PR_CAPBSET_READ, cap, 0, 0) == 1)
			check(a, "drop bounding cap",
			      sys(__NR_prctl, PR_CAPBSET_DROP, cap, 0, 0));
	if (c->ngroups != RST_KEEP_GROUPS)
		check(a, "setgroups", sys(__NR_setgroups, c->ngroups, c->groups,
					  0, 0));
	check(a, "setresgid", sys(__NR_setresgid, c->gid[0], c->gid[1],
				  c->gid[2], 0));
	sys(__NR_setfsgid, c->gid[3], 0, 0, 0);
	check(a, "setresuid", sys(__NR_setresuid, c->uid[0], c->uid[1],
				  c->uid[2], 0));
	sys(__NR_setfsuid, c->uid[3], 0, 0, 0);
	set_caps(a, c, c->cap_eff | (last ? c->cap_prm & setpcap : 0));
	for (cap = 0; cap < 64; cap++)
		if (c->cap_amb & (1ULL << cap))
			check(a, "raise ambient cap",
			      sys6(__NR_prctl, PR_CAP_AMBIENT,
				   PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0));
	if (!(c->securebits & SECBIT_KEEP_CAPS))
		check(a, "clear keepcaps", sys(__NR_prctl, PR_SET_KEEPCAPS, 0,
					       0, 0));
	if (last) {
		check(a, "set securebits (NO_CAP_AMBIENT_RAISE: needs CAP_SETPCAP permitted)",
		      sys(__NR_prctl, PR_SET_SECUREBITS, c->securebits, 0, 0));
		if (!(c->cap_eff & setpcap))
			set_caps(a, c, c->cap_eff);
	}
	check(a, "set dumpable", sys(__NR_prctl, PR_SET_DUMPABLE, c->dumpable,
				     0, 0));
}

/*
 * Filters do not apply to us yet (crfs-restore traces us with
 * PTRACE_O_SUSPEND_SECCOMP) but need CAP_SYS_ADMIN or no_new_privs to be
 * installed: before the credentials drop.
 */
static void install_filters(struct restore_args *a, const struct rst_filter *f,
			    uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		check(a, "seccomp filter", sys(__NR_seccomp,
					       SECCOMP_SET_MODE_FILTER,
					       f[i].flags, &f[i].prog, 0));
}

/* Strict mode permits no more filters: the very last step */
static void enter_strict(struct restore_args *a, const struct rst_thread *t)
{
	if (t->seccomp_strict)
		check(a, "seccomp strict mode", sys(__NR_seccomp,
						    SECCOMP_SET_MODE_STRICT,
						    0, 0, 0));
}

static void build_chain(struct restore_args *a, int32_t self,
			const struct rst_thread *t);

#define FUTEX_WAIT_PRIVATE_ 128
#define FUTEX_WAKE_PRIVATE_ 129

/*
 * Until *w is no longer v, asleep: a wait spinning would burn the CPU
 * time the process's timers count.  At most 1 ms at a time, as a waker
 * that may not call futex (seccomp strict mode, a filter) is seen at the
 * next look.
 */
static void wait_word(volatile uint32_t *w, uint32_t v)
{
	struct { long s, ns; } ms = { 0, 1000000 };

	if (__atomic_load_n(w, __ATOMIC_ACQUIRE) == v)
		sys(__NR_futex, (long)w, FUTEX_WAIT_PRIVATE_, v, (long)&ms);
}

static void bump_word(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
	sys(__NR_futex, (long)w, FUTEX_WAKE_PRIVATE_, 0x7fffffff, 0);
}

/* A new thread sets what is its own, then waits for crfs-restore. */
static __attribute__((used, noreturn)) void thread_main(struct restore_args *a,
							struct rst_thread *t)
{
	restore_thread(a, t);
	sys(__NR_prctl, PR_SET_NAME, (long)t->comm, 0, 0);
	build_chain(a, t - a->threads, t);
	restore_creds(a, t->creds ? t->creds : &a->creds);
	/* after the credentials: a change of them clears it */
	if (t->pdeathsig)
		check(a, "thread PR_SET_PDEATHSIG",
		      sys(__NR_prctl, PR_SET_PDEATHSIG, t->pdeathsig, 0, 0));
	if (t->no_new_privs)
		check(a, "thread PR_SET_NO_NEW_PRIVS",
		      sys(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0));
	/* nothing more of the restore runs on the process's CPU clock */
	bump_word(&a->threads_done);
	enter_strict(a, t);
	asm volatile("int3" : : "a"(a->blob_start), "d"(a->blob_len));
	for (;;)
		sys(__NR_exit, 126, 0, 0, 0);
}

struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

#define CLONE_THREAD_FLAGS (0x00000100 | 0x00000200 | 0x00000400 | \
			    0x00000800 | 0x00010000 | 0x00040000)

/* the child returns from clone3 on its own stack and calls fn(a, t) */
static long clone_into(struct clone_args_ *ca, void *fn, struct restore_args *a,
		       struct rst_thread *t)
{
	register long r12 asm("r12") = (long)fn;
	register long r13 asm("r13") = (long)a;
	register long r14 asm("r14") = (long)t;
	long ret;

	/* the child returns from clone3 on its own stack, with our r12-r14 */
	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov %%r13, %%rdi\n\t"
		     "mov %%r14, %%rsi\n\t"
		     "call *%%r12\n\t"
		     "ud2\n"
		     "1:\n"
		     : "=a"(ret)
		     : "a"(__NR_clone3), "D"(ca), "S"(sizeof(*ca)), "r"(r12),
		       "r"(r13), "r"(r14)
		     : "rcx", "r11", "memory");
	return ret;
}

/* a task with its pid (or tid) at each of n levels, innermost first, on
 * size bytes of stack below top */
static long clone_task(uint64_t flags, int exit_signal, const int32_t *ids,
		       uint32_t n, uint64_t top, uint64_t size, void *fn,
		       struct restore_args *a, struct rst_thread *t)
{
	struct clone_args_ ca;

	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.exit_signal = exit_signal;
	ca.stack = top - size;
	ca.stack_size = size - 64;
	ca.set_tid = (uint64_t)ids;
	ca.set_tid_size = n;
	return clone_into(&ca, fn, a, t);
}

/* the threads creator makes once it holds `level` seccomp filters */
static void create_threads_at(struct restore_args *a, int32_t creator,
			      uint32_t level)
{
	uint32_t i;

	for (i = 0; i < a->nthreads; i++) {
		struct rst_thread *t = &a->threads[i];

		if (t->seccomp_creator != creator || t->seccomp_inherit != level)
			continue;
		check(a, "clone3 (thread)",
		      clone_task(CLONE_THREAD_FLAGS, 0, t->set_tid,
				 t->set_tid_size, t->stack_top,
				 RST_THREAD_STACK, thread_main, a, t));
		if (creator >= 0)
			bump_word(&a->threads_made);
	}
}

/*
 * t (self: its index, -1 for the main thread) installs its own filters
 * one by one and clones each thread it creates once it holds the filters
 * that thread shares with it: clone hands them over as one chain.
 */
static void build_chain(struct restore_args *a, int32_t self,
			const struct rst_thread *t)
{
	uint32_t k;

	for (k = 0; k <= t->nfilters; k++) {
		create_threads_at(a, self, t->seccomp_inherit + k);
		if (k < t->nfilters)
			install_filters(a, &t->filters[k], 1);
	}
}

/* Threads that other threads create must exist before their timers */
static void create_threads(struct restore_args *a)
{
	uint32_t i, n = 0, made;

	build_chain(a, -1, &a->main);
	for (i = 0; i < a->nthreads; i++)
		n += a->threads[i].seccomp_creator >= 0;
	while ((made = __atomic_load_n(&a->threads_made, __ATOMIC_ACQUIRE)) < n)
		wait_word(&a->threads_made, made);
}

/* every thread done with its restore: none burns CPU time any more */
static void wait_threads(struct restore_args *a)
{
	uint32_t done;

	while ((done = __atomic_load_n(&a->threads_done, __ATOMIC_ACQUIRE)) <
	       a->nthreads)
		wait_word(&a->threads_done, done);
}

/* a POSIX timer with time left, armed (one to fire is fire_timers') */
static int to_arm(const struct rst_timer *t)
{
	return !t->fire && (t->value[0] || t->value[1]);
}

/* the kernel's struct sigevent, SIGEV_THREAD_ID to one of our threads */
struct ksigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid, pad[11];
};

static void restore_thread_timers(struct restore_args *a)
{
	struct ksigevent ev;
	uint32_t i;
	int32_t id;

	for (i = 0; i < a->ntimers; i++) {
		struct rst_timer *t = &a->timers[i];

		if (t->kind != RST_TIMER_MAKE)
			continue;
		ev = (struct ksigevent){ .value = t->sigval, .signo = t->signo,
					 .notify = t->notify, .tid = t->tid };
		id = t->id;
		check(a, "timer_create", sys(__NR_timer_create, t->clock,
					     (long)&ev, (long)&id, 0));
		if (id != t->id)
			fail(a, "timer_create: wrong id", -17);
		if (to_arm(t) && t->clock >= 0)
			check(a, "timer_settime", sys(__NR_timer_settime, id, 0,
						      (long)t->interval, 0));
	}
	sys(__NR_prctl, 77, 0, 0, 0);	/* PR_TIMER_CREATE_RESTORE_IDS off */
}

/* ITIMER_VIRTUAL or ITIMER_PROF with the time it had left */
static void set_itimer(struct restore_args *a, const struct rst_timer *t)
{
	int64_t tv[4] = { t->interval[0], t->interval[1] / 1000,
			  t->value[0], t->value[1] / 1000 };

	if (!tv[2] && !tv[3])
		tv[3] = 1;	/* due already */
	check(a, "setitimer (CPU time)",
	      sys(__NR_setitimer, t->id, (long)tv, 0, 0));
}

/*
 * The timers that count CPU time, as the very last step of the process:
 * the restore's own CPU time is the process's too, and a signal one
 * raised before restore_signals would have been drained with the rest.
 */
static void arm_cpu_timers(struct restore_args *a)
{
	uint32_t i;

	for (i = 0; i < a->ntimers; i++) {
		struct rst_timer *t = &a->timers[i];

		if (t->kind == RST_TIMER_ITIMER)
			set_itimer(a, t);
		else if (t->clock < 0 && to_arm(t))
			check(a, "timer_settime (a CPU clock's)",
			      sys(__NR_timer_settime, t->id, 0,
				  (long)t->interval, 0));
	}
}

/*
 * A timer whose signal was pending expires again, now, so the signal
 * queued is the timer's own: one the kernel does not queue a second
 * time while it waits, and counts overruns on.  Its expiry is put one
 * period before the next, which keeps the time left; after the drain
 * of restore_signals, which would take it.
 */
static void fire_timers(struct restore_args *a)
{
	int64_t now[2], its[4], ns, tries;
	uint64_t pend;
	uint32_t i;

	for (i = 0; i < a->ntimers; i++) {
		struct rst_timer *t = &a->timers[i];

		if (!t->fire)
			continue;
		check(a, "clock_gettime (a timer's clock)",
		      sys(__NR_clock_gettime, t->clock, (long)now, 0, 0));
		ns = now[0] * 1000000000LL + now[1] + t->value[0] * 1000000000LL +
		     t->value[1] - t->interval[0] * 1000000000LL - t->interval[1];
		if (ns < 1)
			ns = 1;
		its[0] = t->interval[0];
		its[1] = t->interval[1];
		its[2] = ns / 1000000000LL;
		its[3] = ns % 1000000000LL;
		check(a, "timer_settime (a timer whose signal was pending)",
		      sys(__NR_timer_settime, t->id, 1 /* TIMER_ABSTIME */,
			  (long)its, 0));
		/* its hrtimer fires at once, but from an interrupt: wait */
		for (tries = 0; t->notify == 0 /* SIGEV_SIGNAL */; tries++) {
			pend = 0;
			sys(__NR_rt_sigpending, (long)&pend, 8, 0, 0);
			if (pend & (1ULL << (t->signo - 1)))
				break;
			if (tries > 1000000)
				fail(a, "a timer whose signal was pending did not signal again", -62);
			sys(__NR_sched_yield, 0, 0, 0, 0);
		}
	}
}

/* our helpers (pages, mapped files) and, unless a kid still needs it,
 * the error pipe */
static void close_helpers(struct restore_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nclose; i++)
		if (a->close_fds[i] != a->err_fd)
			sys(__NR_close, a->close_fds[i], 0, 0, 0);
}

/* the rest of a process, once its memory and handlers are in place */
static void restore_task(struct restore_args *a)
{
	uint32_t i;

	create_threads(a);
	if (a->pidns_fd >= 0)
		check(a, "setns (pid_for_children)",
		      sys(__NR_setns, a->pidns_fd, 0x20000000 /* CLONE_NEWPID */,
			  0, 0));
	restore_thread_timers(a);
	restore_thread(a, &a->main);
	restore_signals(a);
	fire_timers(a);
	restore_creds(a, &a->creds);
	/* after the credentials: a change of them clears it */
	if (a->pdeathsig)
		check(a, "PR_SET_PDEATHSIG",
		      sys(__NR_prctl, PR_SET_PDEATHSIG, a->pdeathsig, 0, 0));
	close_helpers(a);
	for (i = 0; i < a->nlocks; i++)
		check(a, "POSIX lock", sys(__NR_fcntl, a->locks[i].fd, 6 /* F_SETLK */,
					   (long)&a->locks[i], 0));
}

/*
 * What clone3 gave a kid from us and is its own: handlers (unless it
 * shares ours), limits, subreaper, no_new_privs, name (the parent-death
 * signal: restore_task, after the credentials).
 */
static void kid_own(struct restore_args *a)
{
	int sig;

	for (sig = 1; a->own_sigactions && sig <= RST_NSIG; sig++)
		if (sig != 9 && sig != 19)	/* SIGKILL, SIGSTOP */
			check(a, "kid: rt_sigaction",
			      sys(__NR_rt_sigaction, sig, a->sa[sig - 1], 0, 8));
	for (sig = 0; sig < RST_NLIMITS; sig++)
		check(a, "kid: prlimit", sys(__NR_prlimit64, 0, sig,
					     a->rl[sig], 0));
	if (a->child_subreaper)
		check(a, "kid: PR_SET_CHILD_SUBREAPER",
		      sys(__NR_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0));
	if (a->no_new_privs)
		check(a, "kid: PR_SET_NO_NEW_PRIVS",
		      sys(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0));
	sys(__NR_prctl, PR_SET_NAME, (long)a->main.comm, 0, 0);
}

/* A child sharing our memory: the rest of it, then crfs-restore's trap */
static __attribute__((used, noreturn)) void kid_main(struct restore_args *a)
{
	kid_own(a);
	restore_task(a);
	if (!(a->clone_flags & 0x00000400))	/* CLONE_FILES: ours closes it */
		sys(__NR_close, a->err_fd, 0, 0, 0);
	enter_strict(a, &a->main);
	/* in strict mode now: no futex wake, our parent looks again */
	__atomic_store_n(&a->ready, 1, __ATOMIC_RELEASE);
	asm volatile("int3" : : "a"(a->blob_start), "d"(a->blob_len));
	for (;;)
		sys(__NR_exit, 126, 0, 0, 0);
}

/*
 * Before our threads, so a kid inherits none of the seccomp filters our
 * main thread installs on the way (it installs its own).
 */
static void create_kids(struct restore_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nkids; i++) {
		struct restore_args *k = &a->kids[i];

		check(a, "clone3 (process sharing our memory)",
		      clone_task(k->clone_flags, 17 /* SIGCHLD */,
				 k->main.set_tid, k->main.set_tid_size,
				 k->kid_stack, RST_KID_STACK, kid_main, k, 0));
	}
}

/* a kid that shares our table writes to err_fd until it is ready */
static void wait_kids(struct restore_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nkids; i++)
		while (!__atomic_load_n(&a->kids[i].ready, __ATOMIC_ACQUIRE))
			wait_word((volatile uint32_t *)&a->kids[i].ready, 0);
}

/*
 * A main thread that had exited: let go from its trap (the others still
 * wait at theirs), it exits alone and stays a zombie while they run.  No
 * robust list may be walked at its exit: the one crfs-restore's libc
 * registered points into memory that is now the process's own.
 */
static __attribute__((noreturn)) void leader_exit(void)
{
	sys(__NR_set_robust_list, 0, 24, 0, 0);
	for (;;)
		sys(__NR_exit, 0, 0, 0, 0);
}

static __attribute__((used)) void restorer_main(struct restore_args *a)
{
	restore_memory(a);
	restore_vma_policies(a);
	create_kids(a);
	restore_task(a);
	wait_kids(a);
	restore_mdwe(a);
	wait_threads(a);
	arm_cpu_timers(a);
	enter_strict(a, &a->main);
	sys(__NR_close, a->err_fd, 0, 0, 0);
	/* crfs-restore takes over from this trap; tell it what to unmap */
	asm volatile("int3" : : "a"(a->blob_start), "d"(a->blob_len));
	if (a->leader_exited)
		leader_exit();
	sys(__NR_exit_group, 126, 0, 0, 0);
}
