// SPDX-License-Identifier: MIT
/*
 * Job-control stops seen through ptrace.  A seized task that is in a
 * group stop (SIGSTOP, SIGTSTP, ...) traps with PTRACE_EVENT_STOP and the
 * stop signal in its siginfo; a task that is not traps with SIGTRAP
 * (PTRACE_INTERRUPT).  Asked before anything resumes the task.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/ptrace.h>

#include "kh.h"

/* The group's stop signal, 0 if it is not stopped, or -errno */
int kh_group_stop_sig(pid_t tid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0)
		return -errno;
	if (si.si_code >> 8 != PTRACE_EVENT_STOP || si.si_signo == SIGTRAP)
		return 0;
	return si.si_signo;
}

/*
 * Whether a stopped child's parent has collected the stop (waitpid with
 * WUNTRACED), asked in the parent, which r runs syscalls in: scratch is
 * room for a siginfo there.  1: collected, 0: still to be reported.
 */
int kh_stop_collected(struct kh_remote *r, pid_t child, uint64_t scratch)
{
	siginfo_t si;
	long ret;

	ret = kh_remote_syscall(r, __NR_waitid, P_PID, child, scratch,
				WSTOPPED | WNOWAIT | WNOHANG, 0, 0);
	if (ret)
		return ret < 0 ? (int)ret : -EIO;
	if (kh_mem_read(r->tid, r->memfd, scratch, &si, sizeof(si)) !=
	    sizeof(si))
		return -EIO;
	return si.si_pid == child && si.si_code == CLD_STOPPED ? 0 : 1;
}
