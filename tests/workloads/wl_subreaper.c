// SPDX-License-Identifier: MIT
/*
 * wl_subreaper CMD [ARG...] - run CMD under a child subreaper.
 *
 * A test that kills crfs-restore half-way must get back the pids of the
 * tasks it had made (killed with it): orphaned to PID 1, which reaps only
 * now and then, they would stay zombies and hold them.  This process
 * reaps every orphan at once and exits, with CMD's exit status (128+N
 * for a signal N), when no child is left.  It prints nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int st, ret = 0;
	pid_t cmd, got;

	if (argc < 2 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return 2;
	cmd = fork();
	if (cmd < 0)
		return 2;
	if (cmd == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	while ((got = waitpid(-1, &st, __WALL)) > 0 || errno == EINTR)
		if (got == cmd)
			ret = WIFEXITED(st) ? WEXITSTATUS(st) :
			      128 + WTERMSIG(st);
	return ret;
}
