// SPDX-License-Identifier: MIT
/*
 * Pidfds of processes that have exited: what the kernel still tells of
 * one (PIDFD_GET_INFO with PIDFD_INFO_EXIT, Linux 6.15+), and one made
 * again, of a stand-in that ends the same way.  Debian's headers predate
 * the ioctl: its first version of struct pidfd_info is defined here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"

struct pidfd_info_v0 {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_INFO_EXIT_ (1ULL << 3)
#define PIDFD_GET_INFO_ _IOWR(0xFF, 11, struct pidfd_info_v0)

int kh_pidfd_exit_status(pid_t pid, int fd, int *status)
{
	struct pidfd_info_v0 info = { .mask = PIDFD_INFO_EXIT_ };
	int nfd = kh_steal_fd(pid, fd), ret = 0;

	if (nfd < 0)
		return nfd;
	if (ioctl(nfd, PIDFD_GET_INFO_, &info) < 0)
		ret = -errno;
	else if (!(info.mask & PIDFD_INFO_EXIT_))
		ret = -ENODATA;
	else
		*status = info.exit_code;
	close(nfd);
	return ret;
}

/*
 * Ends the calling process as status (as wait gives it) says: killed by
 * its signal, the action made the default and the signal unblocked, or
 * exited.  No core dump: it would add WCOREDUMP (and take time).
 */
void kh_end_as(int status)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t one;

	if (WIFSIGNALED(status)) {
		/* either stops a core dump where the other may not (a
		 * core_pattern pipe; fs.suid_dumpable 2) */
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0);
		signal(WTERMSIG(status), SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, WTERMSIG(status));
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

/* the stand-in: waits for its go, then ends as status says */
static void __attribute__((noreturn)) stand_in(const int go[2], int status)
{
	char c;

	close(go[1]);	/* its end comes when ours closes */
	while (read(go[0], &c, 1) < 0 && errno == EINTR)
		;
	kh_end_as(status);
}

int kh_dead_pidfds(int status, const unsigned int *flags, int *fds, size_t n)
{
	int go[2], ret = 0, st;
	size_t i;
	pid_t child;

	if (WIFSIGNALED(status) && WCOREDUMP(status))
		return -EINVAL;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		ret = -errno;
		goto out;
	}
	if (!child)
		stand_in(go, status);
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n && !ret; i++) {
		fds[i] = (int)syscall(SYS_pidfd_open, child, flags[i]);
		if (fds[i] < 0)
			ret = -errno;
	}
	close(go[1]);
	go[1] = -1;
	if (waitpid(child, &st, 0) != child)
		ret = ret ?: -errno;
	else if (st != status)
		ret = ret ?: -EPROTO;
	for (i = 0; i < n && ret; i++)
		if (fds[i] >= 0)
			close(fds[i]);
out:
	close(go[0]);
	if (go[1] >= 0)
		close(go[1]);
	return ret;
}
