/* SPDX-License-Identifier: MIT */
/*
 * Process relations of the kind CRIU's zdtm suite checks that no other
 * workload covers: a child made by clone(2) with an exit signal other
 * than SIGCHLD ("exitsig", refused by the freeze: restore would make it
 * an ordinary child, which waitpid without __WCLONE would then see and
 * its exit would send SIGCHLD).  Usage: wl_zdtm_proc DIR.  READY; on
 * SIGUSR1 the child is still the kind of child it was.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include "wl_common.h"

static volatile sig_atomic_t go;
static char stack[64 * 1024] __attribute__((aligned(16)));

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int child_fn(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	sigset_t m;
	pid_t kid = -1;
	int st;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	if (wl_zdtm_want("exitsig")) {
		kid = clone(child_fn, stack + sizeof(stack), SIGUSR2, NULL);
		if (kid < 0)
			wl_die("clone");
	}
	wl_ready();
	while (!go)
		pause();
	if (kid < 0) {
		wl_skip("proc.exitsig", "not set (WL_ZDTM_SET)");
		return wl_done();
	}
	/* a clone child: waitpid sees it only with __WCLONE */
	kill(kid, SIGKILL);
	if (waitpid(kid, &st, WNOHANG) != -1 || errno != ECHILD)
		wl_fail("proc.exitsig", "waitpid without __WCLONE saw the child");
	else if (waitpid(kid, &st, __WCLONE) != kid || !WIFSIGNALED(st))
		wl_fail("proc.exitsig", "waitpid(__WCLONE): %s", strerror(errno));
	else
		wl_pass("proc.exitsig");
	return wl_done();
}
