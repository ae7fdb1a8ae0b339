// SPDX-License-Identifier: MIT
/*
 * wl_pause - be checkpointed while blocked in pause() or sigsuspend().
 *
 * usage: wl_pause pause|sigsuspend [MIB]
 *
 *	MIB	size of the heap buffer to checksum, default 4
 *
 * Both modes block SIGINT with sigprocmask() and print READY right before
 * waiting.  Wake-up protocol after the restore:
 *
 *	pause		send SIGUSR1
 *	sigsuspend	send SIGUSR2, then SIGUSR1
 *
 * sigsuspend() waits with a temporary mask that blocks SIGUSR2 (and not
 * SIGINT).  While it sleeps that temporary mask is the task's blocked
 * set, and the real one sits in the kernel's saved_sigmask, which no
 * interface shows; a restore that puts back the wrong one is caught here:
 *  - the SIGUSR2 sent first must stay pending, not wake the process;
 *  - the SIGUSR1 handler must run exactly once, with SIGUSR2 blocked;
 *  - sigsuspend() must return -1/EINTR, and by the time it does the
 *    original mask is back, so the pending SIGUSR2 has been delivered;
 *  - the blocked mask is SIGINT again, SIGUSR2 unblocked.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "wl_common.h"

#define SEED_MEM	0x6100

static volatile int usr1_count, usr2_count, usr2_at_usr1;
static volatile int usr1_blocked_usr2, usr1_blocked_int;

static void on_usr1(int sig)
{
	sigset_t cur;

	(void)sig;
	usr1_count++;
	usr2_at_usr1 = usr2_count;
	sigemptyset(&cur);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked_usr2 = sigismember(&cur, SIGUSR2);
	usr1_blocked_int = sigismember(&cur, SIGINT);
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2_count++;
}

static int same_mask(const sigset_t *a, const sigset_t *b)
{
	int s;

	for (s = 1; s < 65; s++)
		if (sigismember(a, s) != sigismember(b, s))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	size_t size = (argc > 2 ? strtoul(argv[2], NULL, 0) : 4) << 20;
	sigset_t blocked, during, now;
	struct sigaction sa;
	unsigned char *mem;
	int suspend, ret, err, m;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "pause") && strcmp(mode, "sigsuspend")) {
		fprintf(stderr, "usage: %s pause|sigsuspend [MIB]\n", argv[0]);
		return 2;
	}
	suspend = !strcmp(mode, "sigsuspend");
	wl_own_session();
	pid = getpid();

	mem = malloc(size);
	if (!mem)
		wl_die("malloc %zu", size);
	wl_fill(mem, size, SEED_MEM);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction");
	sa.sa_handler = on_usr2;
	if (sigaction(SIGUSR2, &sa, NULL))
		wl_die("sigaction");

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	if (sigprocmask(SIG_SETMASK, &blocked, NULL))
		wl_die("sigprocmask");
	sigemptyset(&during);
	sigaddset(&during, SIGUSR2);

	wl_ready();
	if (suspend)
		ret = sigsuspend(&during);
	else
		ret = pause();
	err = errno;

	m = wl_mark();
	if (ret != -1 || err != EINTR)
		wl_fail("wait.ret", "%s returned %d (%s), want -1/EINTR", mode,
			ret, strerror(err));
	wl_verdict("wait.ret", m);

	m = wl_mark();
	if (usr1_count != 1)
		wl_fail("wait.handler", "SIGUSR1 handler ran %d times, want 1",
			usr1_count);
	/* inside the handler: the waiting mask plus the signal itself */
	if (usr1_count && usr1_blocked_usr2 != suspend)
		wl_fail("wait.handler", "SIGUSR2 %sblocked in the handler",
			usr1_blocked_usr2 ? "" : "not ");
	if (usr1_count && usr1_blocked_int != !suspend)
		wl_fail("wait.handler", "SIGINT %sblocked in the handler",
			usr1_blocked_int ? "" : "not ");
	wl_verdict("wait.handler", m);

	if (suspend) {
		m = wl_mark();
		if (usr2_at_usr1 != 0)
			wl_fail("sigsuspend.mask", "SIGUSR2 was delivered during sigsuspend (temporary mask lost)");
		if (usr2_count != 1)
			wl_fail("sigsuspend.mask", "SIGUSR2 delivered %d times by the time sigsuspend returned, want 1 (sent by the test before SIGUSR1)",
				usr2_count);
		wl_verdict("sigsuspend.mask", m);
	} else {
		m = wl_mark();
		if (usr2_count)
			wl_fail("pause.usr2", "unexpected SIGUSR2");
		wl_verdict("pause.usr2", m);
	}

	m = wl_mark();
	sigemptyset(&now);
	sigprocmask(SIG_BLOCK, NULL, &now);
	if (!same_mask(&now, &blocked))
		wl_fail("mask.after", "blocked mask is not the original {SIGINT} (SIGINT %d, SIGUSR2 %d)",
			sigismember(&now, SIGINT), sigismember(&now, SIGUSR2));
	wl_verdict("mask.after", m);

	m = wl_mark();
	if (getpid() != pid)
		wl_fail("proc.pid", "pid was %d, now %d", pid, getpid());
	wl_verdict("proc.pid", m);

	m = wl_mark();
	if (wl_check(mem, size, SEED_MEM) != (size_t)-1)
		wl_fail("mem.heap", "heap differs at offset %zu",
			wl_check(mem, size, SEED_MEM));
	wl_verdict("mem.heap", m);
	return wl_done();
}
