// SPDX-License-Identifier: MIT
/*
 * Sessions and groups whose leaders have exited.  The tree's root R is a
 * child-subreaper; its child L calls setsid() and forks m1 (group L), m2
 * (its own group) and X, which leads group X and forks y; then X and L
 * exit, so m1, m2 and y fall to R, in session L (no leader) and, for y,
 * group X (no leader).  After the restore each member checks its pid,
 * ppid, pgid and sid and exits 0 only if all are unchanged; R prints the
 * verdict.
 *
 * As in wl_tree, the process started is a subreaper wrapper around R.
 * usage: wl_sessions
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "wl_common.h"

static volatile sig_atomic_t go;
static int *ready;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void member(void)
{
	pid_t pid, ppid, pgid, sid;

	usleep(300000);		/* until L and X are gone */
	pid = getpid();
	ppid = getppid();
	pgid = getpgid(0);
	sid = getsid(0);
	__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
	while (!go)
		pause();
	exit(pid == getpid() && ppid == getppid() && pgid == getpgid(0) &&
	     sid == getsid(0) ? 0 : 1);
}

static void leader(void)
{
	pid_t x;

	setsid();
	if (!fork())
		member();
	if (!fork()) {
		setpgid(0, 0);
		member();
	}
	x = fork();
	if (!x) {
		setpgid(0, 0);
		if (!fork())
			member();
		usleep(100000);
		_exit(0);
	}
	waitpid(x, NULL, 0);
	usleep(100000);
	_exit(0);
}

static int root(void)
{
	char path[64];
	int bad = 0, st, kid, n = 0;
	pid_t l;
	FILE *f;

	setpgid(0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	l = fork();
	if (!l)
		leader();
	waitpid(l, NULL, 0);
	while (*ready < 3)
		usleep(10000);
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	/* the members are in another session: reach them as our children */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(),
		 getpid());
	f = fopen(path, "r");
	while (f && fscanf(f, "%d", &kid) == 1)
		kill(kid, SIGUSR1);
	if (f)
		fclose(f);
	while (wait(&st) > 0) {
		n++;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	if (bad || n != 3)
		printf("FAIL sessions: %d of %d members lost pid, ppid, group or session\n",
		       bad, n);
	else
		printf("PASS sessions: 3 members of a leaderless session and group intact\n");
	return bad || n != 3;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ready == MAP_FAILED)
		return 2;
	sigaction(SIGUSR1, &sa, NULL);
	return wl_under_subreaper(root);
}
