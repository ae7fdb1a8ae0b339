// SPDX-License-Identifier: MIT
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/ptrace.h>
#include <asm/unistd.h>

#include "kh.h"
#include "crfs/array.h"

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516
#ifndef TIMER_ABSTIME
#define TIMER_ABSTIME 1
#endif

static inline int err(long r)
{
	return r < 0 ? -errno : 0;
}

int kh_wait_stop(pid_t tid, int *status)
{
	int st;

	if (waitpid(tid, &st, __WALL) < 0)
		return -errno;
	if (WIFEXITED(st) || WIFSIGNALED(st))
		return -ESRCH;
	if (status)
		*status = st;
	return 0;
}

/*
 * Our injected syscalls must run past the task's seccomp filters (or
 * strict mode, which would kill it): suspended while we trace it.  That
 * takes CAP_SYS_ADMIN; without it only a task not using seccomp is ours.
 */
static int seize(pid_t tid)
{
	int mode, n, e;

	if (!ptrace(PTRACE_SEIZE, tid, 0,
		    PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP))
		return 0;
	e = errno;
	if (e != EPERM || kh_seccomp_mode(tid, tid, &mode, &n) || mode)
		return -e;
	return err(ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD));
}

int kh_seize_nowait(pid_t tid)
{
	int ret = seize(tid);

	if (ret)
		return ret;
	return err(ptrace(PTRACE_INTERRUPT, tid, 0, 0));
}

int kh_seize(pid_t tid)
{
	return kh_seize_nowait(tid) ?: kh_wait_interrupt(tid);
}

int kh_wait_interrupt(pid_t tid)
{
	int st, ret;

	/*
	 * A signal-delivery stop is passed on (the handler runs as if the
	 * signal came just before the freeze) and we wait for our trap.
	 */
	for (;;) {
		ret = kh_wait_stop(tid, &st);
		if (ret)
			return ret;
		if (!WIFSTOPPED(st))
			return -ECHILD;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* signal-delivery stop: deliver it and wait for our trap */
		if (ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(st)) < 0)
			return -errno;
	}
}

int kh_detach(pid_t tid, int sig)
{
	return err(ptrace(PTRACE_DETACH, tid, 0, sig));
}

int kh_get_regs(pid_t tid, struct user_regs_struct *regs)
{
	return err(ptrace(PTRACE_GETREGS, tid, 0, regs));
}

int kh_set_regs(pid_t tid, const struct user_regs_struct *regs)
{
	return err(ptrace(PTRACE_SETREGS, tid, 0, regs));
}

int kh_get_xstate(pid_t tid, uint8_t *buf, uint32_t *size)
{
	struct iovec iov = { buf, *size };

	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return -errno;
	*size = iov.iov_len;
	return 0;
}

int kh_set_xstate(pid_t tid, const uint8_t *buf, uint32_t size)
{
	struct iovec iov = { (void *)buf, size };

	return err(ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov));
}

int kh_get_sigmask(pid_t tid, uint64_t *mask)
{
	/* returns the mask sigsuspend() will put back, not its temporary one */
	return err(ptrace(PTRACE_GETSIGMASK, tid, sizeof(*mask), mask));
}

int kh_set_sigmask(pid_t tid, uint64_t mask)
{
	return err(ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask));
}

int kh_get_rseq(pid_t tid, uint64_t *ptr, uint32_t *size, uint32_t *sig)
{
	struct ptrace_rseq_configuration c;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(c), &c) < 0)
		return -errno;
	*ptr = c.rseq_abi_pointer;
	*size = c.rseq_abi_size;
	*sig = c.signature;
	return 0;
}

/* the kernel's struct rseq_cs (uapi linux/rseq.h) */
struct rseq_cs_ {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
};

/*
 * A thread stopped inside an rseq critical section.  It was scheduled out,
 * so on its next return to user space the kernel aborts the section: it
 * clears rseq_cs and moves the thread to the section's abort handler.  But
 * the first syscall we run in the thread returns to user space at our
 * syscall instruction, outside the section, where the kernel only clears
 * rseq_cs; put back where it stood, the thread would finish the section
 * unguarded (zdtm transition/rseq01), after a thaw or a restore.  So the
 * abort is done here, first, as the kernel would: 1 if done, 0 if nothing
 * was to be done, or a negative errno.  Where the kernel would kill the
 * thread instead (a descriptor it refuses, a wrong signature, deprecated
 * flags), nothing is done: it still will.  A thread stopped inside a
 * syscall is left alone too: its restart moves its instruction pointer
 * back, and a section holds no syscall.
 */
int kh_rseq_settle(pid_t tid, int memfd)
{
	struct ptrace_rseq_configuration c;
	struct user_regs_struct regs;
	struct rseq_cs_ cs;
	uint64_t csp = 0, zero = 0;
	uint32_t sig = 0;
	int fd = -1, ret;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(c), &c) < 0)
		return -errno;
	if (!c.rseq_abi_pointer ||
	    kh_mem_read(tid, memfd, c.rseq_abi_pointer + 8, &csp, 8) != 8 ||
	    !csp)
		return 0;
	ret = kh_get_regs(tid, &regs);
	if (ret || (long)regs.orig_rax >= 0)
		return ret;
	if (kh_mem_read(tid, memfd, csp, &cs, sizeof(cs)) != sizeof(cs) ||
	    cs.version || cs.flags ||
	    regs.rip - cs.start_ip >= cs.post_commit_offset ||
	    cs.abort_ip - cs.start_ip < cs.post_commit_offset ||
	    kh_mem_read(tid, memfd, cs.abort_ip - 4, &sig, 4) != 4 ||
	    sig != c.signature)
		return 0;
	fd = kh_mem_open(tid, O_RDWR);
	if (fd < 0)
		return fd;
	if (pwrite(fd, &zero, 8, c.rseq_abi_pointer + 8) != 8)
		ret = errno ? -errno : -EIO;
	close(fd);
	if (ret)
		return ret;
	regs.rip = cs.abort_ip;
	return kh_set_regs(tid, &regs) ?: 1;
}

int kh_peek_signals(pid_t tid, bool shared, struct crfs_pending **out,
		    size_t *nout)
{
	struct ptrace_peeksiginfo_args a = {
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		.nr = 1,
	};
	struct crfs_pending *p = NULL, *np;
	uint8_t info[128];
	size_t n = 0;
	long got;

	for (;; a.off++) {
		got = ptrace(PTRACE_PEEKSIGINFO, tid, &a, info);
		if (got < 0) {
			free(p);
			return -errno;
		}
		if (!got)
			break;
		np = array_room(p, n, sizeof(*p));
		if (!np) {
			free(p);
			return -ENOMEM;
		}
		p = np;
		memcpy(p[n].info, info, sizeof(info));
		memcpy(&p[n].signo, info, sizeof(int));	/* si_signo */
		n++;
	}
	*out = p;
	*nout = n;
	return 0;
}

int kh_get_robust_list(pid_t tid, uint64_t *head, uint64_t *len)
{
	size_t l;
	void *h;

	if (syscall(__NR_get_robust_list, tid, &h, &l))
		return -errno;
	*head = (uint64_t)(uintptr_t)h;
	*len = l;
	return 0;
}

static void reissue(struct user_regs_struct *r, uint64_t nr)
{
	r->rax = nr;
	r->rip -= 2;	/* back onto the 2-byte syscall instruction */
}

/* nanosleep and relative clock_nanosleep resume from the remaining time the
 * kernel wrote to rem; absolute sleeps simply run again. */
static bool reissue_sleep(struct user_regs_struct *r)
{
	switch (r->orig_rax) {
	case __NR_nanosleep:
		if (!r->rsi)
			return false;
		r->rdi = r->rsi;
		break;
	case __NR_clock_nanosleep:
		if (r->rsi & TIMER_ABSTIME)
			break;
		if (!r->r10)
			return false;
		r->rdx = r->r10;
		break;
	default:
		return false;
	}
	reissue(r, r->orig_rax);
	return true;
}

void kh_syscall_restart(struct user_regs_struct *r, enum kh_restart_mode mode)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		reissue(r, r->orig_rax);
		break;
	case -ERESTART_RESTARTBLOCK:
		/*
		 * A fresh task has no restart block (the time left): sleeps
		 * resume from rem, other timed waits (poll, futex) wait their
		 * whole timeout again.  EINTR instead would be seen: programs
		 * that block every signal (signalfd users) take it as fatal.
		 */
		if (mode == KH_RESTART_IN_PLACE)
			reissue(r, __NR_restart_syscall);
		else if (!reissue_sleep(r))
			reissue(r, r->orig_rax);
		break;
	}
	r->orig_rax = -1;
}
