// SPDX-License-Identifier: MIT
/*
 * A daemon that forked twice: R's child L calls setsid() and forks D, then
 * exits, so D runs in session L with no leader, in group L, with no
 * controlling terminal.  With WL_ZDTM_SET=group, L forks G, which leads a
 * group of its own and forks D, and both exit: D's group (G) has no
 * leader either.  D is the tree checkpointed (READY ROOT=D).  On SIGUSR1,
 * D checks its session, its group, that their leaders are still gone and
 * that it has no controlling terminal.  Before, a restored D stayed in
 * the session and group of crfs-restore.
 *
 * As in wl_tree, the process started is a subreaper wrapper around R,
 * which reaps D in the end.  usage: wl_daemon
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include "wl_common.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int gone(pid_t pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

static void __attribute__((noreturn)) daemon_main(int wfd)
{
	pid_t me = getpid(), sid = getsid(0), pgid = getpgid(0);
	int fd, m;

	if (write(wfd, &me, sizeof(me)) != sizeof(me))
		_exit(2);
	close(wfd);
	while (!go)
		pause();
	m = wl_mark();
	if (getsid(0) != sid || getpgid(0) != pgid)
		wl_fail("daemon.ids", "session %d group %d, were %d %d",
			getsid(0), getpgid(0), sid, pgid);
	if (sid == me || pgid == me || !gone(sid) || !gone(pgid))
		wl_fail("daemon.leaders", "session %d or group %d is ours or led (pid %d)",
			sid, pgid, me);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd >= 0 || errno != ENXIO)
		wl_fail("daemon.no_tty", "/dev/tty opens (%d, errno %d)", fd, errno);
	wl_verdict("daemon", m);
	exit(wl_done());
}

/* L: leads the session; D is forked by it, or by G leading a group */
static void __attribute__((noreturn)) leader(int wfd)
{
	pid_t g, d;
	int st;

	if (setsid() < 0)
		_exit(2);
	if (wl_zdtm_want("group")) {
		g = fork();
		if (g == 0) {
			if (setpgid(0, 0))
				_exit(2);
			d = fork();
			if (d == 0)
				daemon_main(wfd);
			_exit(d > 0 ? 0 : 2);
		}
		_exit(g > 0 && waitpid(g, &st, 0) == g && WIFEXITED(st) ?
		      WEXITSTATUS(st) : 2);
	}
	d = fork();
	if (d == 0)
		daemon_main(wfd);
	_exit(d > 0 ? 0 : 2);
}

static int root(void)
{
	int p[2], st;
	pid_t l, d = 0;

	if (pipe(p))
		wl_die("pipe");
	l = fork();
	if (l < 0)
		wl_die("fork");
	if (!l)
		leader(p[1]);
	close(p[1]);
	if (read(p[0], &d, sizeof(d)) != sizeof(d) ||
	    waitpid(l, &st, 0) != l || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_die("the daemon did not start");
	printf("READY ROOT=%d\n", d);
	fflush(stdout);
	return 0;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	return wl_under_subreaper(root);
}
