// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/sched.h>

#include "kh.h"

/*
 * fork() into a chosen pid (of the new pid namespace with CLONE_NEWPID).  Returns 0 in the child, the pid in the parent,
 * or -errno (-EEXIST: the pid is taken).
 */
pid_t kh_clone_with_pids(const pid_t *set_tid, int n, uint64_t flags,
			 int *pidfd)
{
	struct clone_args args;
	long ret;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	/* clone3 wants none with CLONE_PARENT: the child gets our own */
	args.exit_signal = flags & CLONE_PARENT ? 0 : SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)set_tid;
	args.set_tid_size = (uint64_t)n;
	if (pidfd) {
		args.flags |= CLONE_PIDFD;
		args.pidfd = (uint64_t)(uintptr_t)pidfd;
	}
	ret = syscall(SYS_clone3, &args, sizeof(args));
	return ret < 0 ? -errno : (pid_t)ret;
}

pid_t kh_clone_with_pid(pid_t pid, uint64_t flags, int *pidfd)
{
	return kh_clone_with_pids(&pid, 1, flags, pidfd);
}
