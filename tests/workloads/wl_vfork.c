// SPDX-License-Identifier: MIT
/*
 * wl_vfork - a vfork() in progress, and posix_spawn in a loop.
 *
 * usage: wl_vfork hold		R vforks; its child C prints "READY ROOT=R"
 *				and waits for SIGUSR1 (sent to C) before it
 *				_exits: the
 *				freeze meanwhile is refused by name and the
 *				tree runs on
 *	  wl_vfork spawn	R posix_spawns /bin/true over and over (each
 *				a vfork until the exec) until SIGUSR1: a
 *				freeze waits out the vfork it lands in
 *
 * hold: once vfork returns, R checks that C ran to its _exit before (a
 * flag C set last), that vfork returned C's pid and that C's status is
 * its exit code.  spawn: every spawn worked and was reaped with status 0,
 * and spawns went on after the SIGUSR1 too.  Both run under a subreaper
 * (wl_under_subreaper), which the tree's root R is a child of.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>

#include "wl_common.h"

extern char **environ;

static volatile sig_atomic_t go;
static volatile int c_done;	/* written by the vfork child, last */

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int hold(void)
{
	uint64_t none = 0;	/* the kernel's empty sigset */
	char line[64];
	sigset_t usr1;
	pid_t c, w;
	int st, n;

	/* blocked until the child's sigsuspend, so none slips by */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	n = snprintf(line, sizeof(line), "READY ROOT=%d\n", getpid());
	fflush(stdout);
	c = vfork();
	if (c < 0)
		wl_die("vfork");
	if (c == 0) {
		/* in R's memory, on R's stack: raw calls only */
		if (write(STDOUT_FILENO, line, n) != n)
			_exit(3);
		while (!go)
			syscall(SYS_rt_sigsuspend, &none, sizeof(none));
		c_done = 1;
		_exit(7);
	}
	if (c_done)
		wl_pass("vfork.parent_waited");
	else
		wl_fail("vfork.parent_waited", "vfork returned before the child's _exit");
	w = waitpid(c, &st, 0);
	if (w == c && WIFEXITED(st) && WEXITSTATUS(st) == 7)
		wl_pass("vfork.child_status");
	else
		wl_fail("vfork.child_status", "waitpid %d: %d status 0x%x", c,
			w, st);
	return wl_done();
}

/* one posix_spawn of /bin/true, reaped: 0 if all went right */
static int spawn_once(void)
{
	char *argv[] = { "true", NULL };
	pid_t pid;
	int st;

	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ))
		return -1;
	while (waitpid(pid, &st, 0) != pid)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : st;
}

static int spawn_loop(void)
{
	long before = 0, after = 0;
	int r = 0;

	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go && !(r = spawn_once()))
		before++;
	for (; !r && after < 20; after++)
		r = spawn_once();
	if (r)
		wl_fail("vfork.spawn", "spawn %ld: %d", before + after, r);
	else if (!before)
		wl_fail("vfork.spawn", "no spawn before SIGUSR1");
	else
		wl_pass("vfork.spawn");
	printf("# %ld spawns before SIGUSR1\n", before);
	return wl_done();
}

static int (*mode)(void);

static int root(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

	wl_own_session();
	sigaction(SIGUSR1, &sa, NULL);
	return mode();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		wl_die("usage: wl_vfork hold|spawn");
	mode = !strcmp(argv[1], "hold") ? hold : spawn_loop;
	return wl_under_subreaper(root);
}
