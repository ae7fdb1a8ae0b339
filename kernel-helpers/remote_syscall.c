// SPDX-License-Identifier: MIT
/*
 * Syscalls executed inside a stopped task, for the state only the task
 * itself can ask for (signal handlers, sigaltstack, brk, ...).  We never
 * write code into the task: we point its rip at a syscall instruction it
 * already has (the one it is stopped in, or one in the vDSO) and let
 * PTRACE_SYSCALL stop it on the way in and on the way out.
 *
 * kh_remote_open_stepping: one stop a syscall instead of two, for the
 * freeze's sessions (about 90 syscalls a process, each stop two context
 * switches): single-stepped over the syscall instruction, the task stops
 * as the syscall returns, on the SIGTRAP the kernel forces for the step
 * (its syscall-exit step report).  A forced signal that is blocked or
 * ignored resets the task's action for it to SIG_DFL, so the session
 * leaves SIGTRAP unblocked, steps only a task that does not ignore it
 * and has none pending (that one would come first: two stops), and
 * never steps a syscall that could change its action or mask.  Its last
 * syscall does not step (kh_remote_close).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"

static bool is_syscall_insn(pid_t pid, int memfd, uint64_t ip)
{
	uint8_t b[2];

	return kh_mem_read(pid, memfd, ip, b, 2) == 2 && b[0] == 0x0f &&
	       b[1] == 0x05;
}

#define TRAP_BIT	(1ULL << (SIGTRAP - 1))

/* whether tid's SIGTRAP may be forced: neither ignored nor pending */
static bool may_step(pid_t tid)
{
	uint64_t sets[KH_NSIGSETS];

	return !kh_proc_sigsets(tid, sets) &&
	       !((sets[KH_SIG_IGNORED] | sets[KH_SIG_PENDING] |
		  sets[KH_SIG_SHARED]) & TRAP_BIT);
}

static int open_session(struct kh_remote *r, pid_t tid, uint64_t syscall_ip,
			bool stepping)
{
	int ret;

	memset(r, 0, sizeof(*r));
	tid = kh_via(tid);	/* a zombie leader's process: a live thread */
	r->tid = tid;
	r->memfd = kh_mem_open(tid, O_RDONLY);
	if (r->memfd < 0)
		return r->memfd;
	/* our syscall's return to user space must not be the one that finds
	 * the task inside an rseq critical section */
	ret = kh_rseq_settle(tid, r->memfd);
	ret = ret < 0 ? ret : kh_get_regs(tid, &r->saved);
	ret = ret ?: kh_get_sigmask(tid, &r->saved_mask);
	/*
	 * Every signal blocked while we run syscalls in the task: one already
	 * pending, or sent meanwhile (a fast interval timer), stays queued,
	 * where the checkpoint sees it, instead of being delivered into our
	 * syscall and taken out of the queue.  SIGKILL cannot be blocked.
	 */
	r->step = !ret && stepping && may_step(tid);
	ret = ret ?: kh_set_sigmask(tid, r->step ? ~TRAP_BIT : ~0ULL);
	if (ret)
		goto fail;
	r->syscall_ip = syscall_ip;
	/* just past a syscall, as a task stopped in or after one is; also
	 * one a restore left there (a sigreturn's orig_rax is -1) */
	if (!r->syscall_ip && is_syscall_insn(tid, r->memfd, r->saved.rip - 2))
		r->syscall_ip = r->saved.rip - 2;
	/* a syscall set to restart in place (by an earlier session's
	 * close): the task stands at the instruction itself.  A process
	 * that unmapped its vDSO has no other (zdtm vdso02) */
	if (!r->syscall_ip && is_syscall_insn(tid, r->memfd, r->saved.rip))
		r->syscall_ip = r->saved.rip;
	if (!r->syscall_ip)
		r->syscall_ip = kh_find_vdso_syscall(tid, r->memfd);
	/* no vDSO (zdtm vdso02), stopped elsewhere: any in its text */
	if (!r->syscall_ip)
		r->syscall_ip = kh_find_text_syscall(tid, r->memfd);
	if (!r->syscall_ip) {
		ret = -ENOEXEC;
		goto fail;
	}
	return 0;
fail:
	close(r->memfd);
	return ret;
}

int kh_remote_open(struct kh_remote *r, pid_t tid, uint64_t syscall_ip)
{
	return open_session(r, tid, syscall_ip, false);
}

int kh_remote_open_stepping(struct kh_remote *r, pid_t tid)
{
	return open_session(r, tid, 0, true);
}

/* Resumes with PTRACE_SYSCALL until the next syscall stop. */
static int step_to_syscall_stop(struct kh_remote *r)
{
	int st, ret, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, r->tid, 0, sig) < 0)
			return -errno;
		ret = kh_wait_stop(r->tid, &st);
		if (ret)
			return ret;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		/* a signal arrived meanwhile: keep it for the task */
		sig = 0;
		if ((st >> 16) == 0 && !r->pending_sig)
			r->pending_sig = WSTOPSIG(st);
	}
}

/*
 * Steps over the syscall instruction at r->syscall_ip until the task
 * stops past it on a SIGTRAP the kernel made (si_code > 0: not sent by a
 * process).  Any other stop is a signal that came meanwhile (SIGSTOP, or
 * a SIGTRAP someone sent): kept for the task.  A SIGTRAP sent just as
 * ours was forced is one signal (standard ones do not queue twice): its
 * siginfo is the sender's, kept; ours was merged into it.
 */
static int step_over_syscall(struct kh_remote *r, struct user_regs_struct *regs)
{
	siginfo_t si;
	int st, ret;

	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, r->tid, 0, 0) < 0)
			return -errno;
		ret = kh_wait_stop(r->tid, &st);
		if (ret)
			return ret;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0) {
			ret = kh_get_regs(r->tid, regs);
			if (ret)
				return ret;
			if (regs->rip == r->syscall_ip + 2 &&
			    !ptrace(PTRACE_GETSIGINFO, r->tid, 0, &si) &&
			    si.si_code > 0)
				return 0;
			if (regs->rip == r->syscall_ip + 2) {
				r->pending_sig = r->pending_sig ?: SIGTRAP;
				return 0;
			}
		}
		if ((st >> 16) == 0 && !r->pending_sig)
			r->pending_sig = WSTOPSIG(st);
	}
}

/* a syscall that may change SIGTRAP's action or the blocked mask: not
 * stepped (the forced SIGTRAP would reset an action made SIG_IGN, or a
 * blocked one); no stepped session asks either today */
static bool steppable(long nr, uint64_t a1, uint64_t a2)
{
	return !(nr == __NR_rt_sigaction && a1 == SIGTRAP && a2) &&
	       nr != __NR_rt_sigprocmask;
}

long kh_remote_syscall(struct kh_remote *r, long nr, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
		       uint64_t a6)
{
	struct user_regs_struct regs = r->saved;
	int ret;

	regs.rip = r->syscall_ip;
	regs.rax = nr;
	/* not "in a syscall": the kernel must not apply restart logic */
	regs.orig_rax = -1;
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	regs.r8 = a5;
	regs.r9 = a6;
	ret = kh_set_regs(r->tid, &regs);
	if (r->step && steppable(nr, a1, a2)) {
		ret = ret ?: step_over_syscall(r, &regs);
	} else {
		ret = ret ?: step_to_syscall_stop(r);	/* entry */
		ret = ret ?: step_to_syscall_stop(r);	/* exit */
		ret = ret ?: kh_get_regs(r->tid, &regs);
	}
	if (ret)
		return ret;
	return (long)regs.rax;
}

int kh_remote_close(struct kh_remote *r)
{
	struct user_regs_struct regs = r->saved;
	long ret = 0;

	/*
	 * Stepping is turned off only by a resume that does not step, and
	 * a tracer that dies does not turn it off: a task left stepping
	 * would die of a SIGTRAP after its next instruction if the daemon
	 * died while the tree is frozen (the kernel detaches it).  One last
	 * syscall with PTRACE_SYSCALL turns it off.
	 */
	if (r->step) {
		r->step = false;
		ret = kh_remote_syscall(r, __NR_getpid, 0, 0, 0, 0, 0, 0);
	}
	close(r->memfd);
	/*
	 * The task now sits in a syscall-exit stop: an interrupted syscall
	 * of its own is redone here (rip back to it), orig_rax set to -1:
	 * the kernel does not redo it again.
	 */
	kh_syscall_restart(&regs, KH_RESTART_IN_PLACE);
	return (ret < 0 ? (int)ret : 0) ?:
	       kh_set_sigmask(r->tid, r->saved_mask) ?:
	       kh_set_regs(r->tid, &regs);
}
