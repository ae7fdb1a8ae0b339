// SPDX-License-Identifier: MIT
/*
 * The daemon's event loop: FUSE requests and SIGCHLD on one thread.  The
 * tracer is told first when a frozen task dies (killed from outside); until
 * it collects that exit, the task's parent cannot reap it, so the loop
 * collects it as soon as SIGCHLD says so.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "container.h"
#include "loop.h"

static void drain(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		;
}

int crfs_loop(struct fuse *fuse, struct registry *reg)
{
	struct fuse_session *se = fuse_get_session(fuse);
	struct fuse_buf buf = { 0 };
	struct pollfd pfd[2];
	sigset_t mask;
	int sfd, ret = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return -errno;
	pfd[0] = (struct pollfd){ .fd = fuse_session_fd(se), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	while (!fuse_session_exited(se)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			drain(sfd);
			registry_reap(reg);
		}
		if (!pfd[0].revents)
			continue;
		ret = fuse_session_receive_buf(se, &buf);
		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		if (ret <= 0)
			break;
		fuse_session_process_buf(se, &buf);
		/* answered: a snapshot asked for from inside is taken now */
		container_deferred(reg);
	}
	free(buf.mem);
	close(sfd);
	fuse_session_reset(se);
	return ret == -ENODEV || ret > 0 ? 0 : ret;
}
