/* SPDX-License-Identifier: MIT */
/*
 * Process relations of the kind CRIU's zdtm suite checks that no other
 * workload covers: a child made by clone(2) with an exit signal other
 * than SIGCHLD ("exitsig", refused by the freeze: restore would make it
 * an ordinary child, which waitpid without __WCLONE would then see and
 * its exit would send SIGCHLD).  Checked after restore: a child that
 * ignores SIGTRAP still does (the restorer's own int3 used to reset it).
 * Usage: wl_zdtm_proc DIR.  READY; on SIGUSR1 each is checked.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include "wl_common.h"
#include "wl_fdtable.h"

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

/* a child ignoring SIGTRAP: exits 0 if it still does on SIGUSR1 */
static pid_t trap_ignorer(void)
{
	struct sigaction sa;
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		wl_die("pipe");
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (!pid) {
		signal(SIGTRAP, SIG_IGN);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		while (!go)
			pause();
		if (sigaction(SIGTRAP, NULL, &sa) || sa.sa_handler != SIG_IGN)
			_exit(1);
		__asm__ volatile("int3");	/* forced: SIG_DFL, killed */
		_exit(2);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		wl_die("the SIGTRAP child");
	close(p[0]);
	return pid;
}

static void check_trap_ignorer(pid_t pid)
{
	int st = 0;

	kill(pid, SIGUSR1);
	if (waitpid(pid, &st, 0) != pid)
		wl_fail("proc.sigtrap_ignored", "waitpid: %s", strerror(errno));
	else if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTRAP)
		wl_fail("proc.sigtrap_ignored", "the child %s %d (1: SIGTRAP not ignored)",
			WIFSIGNALED(st) ? "died of signal" : "exited",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	else
		wl_pass("proc.sigtrap_ignored");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	sigset_t m;
	pid_t kid = -1, ign;
	int st;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	ign = trap_ignorer();
	if (wl_zdtm_want("exitsig")) {
		kid = clone(child_fn, stack + sizeof(stack), SIGUSR2, NULL);
		if (kid < 0)
			wl_die("clone");
	}
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("zdtm_proc.fd_table", &fdt0);
	check_trap_ignorer(ign);
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
