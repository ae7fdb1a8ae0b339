// SPDX-License-Identifier: MIT
/*
 * wl_nanosleep - be checkpointed in the middle of a long sleep.
 *
 * usage: wl_nanosleep [rel|abs] [SECONDS [SLACK]]
 *
 *	rel	glibc nanosleep() for SECONDS (default)
 *	abs	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until
 *		start + SECONDS
 *	SECONDS	length of the sleep, default 8
 *	SLACK	how much longer than SECONDS the whole sleep may take,
 *		default 12
 *
 * Prints READY right before sleeping; the test checkpoints, kills and
 * restores it while it sleeps.  No signal is needed: when the sleep ends
 * it checks and prints PASS/FAIL lines by itself.
 *
 * A sleep interrupted by the freeze is in the kernel's restart machinery
 * (ERESTART_RESTARTBLOCK, restart_syscall), which does not survive into a
 * new process on its own.  What must hold afterwards:
 *  - the call returns 0, not -1/EINTR (glibc does not retry nanosleep);
 *  - the sleep lasted at least SECONDS of CLOCK_MONOTONIC (which keeps
 *    running across a restore on the same host);
 *  - it did not start again from scratch: the test checkpoints a few
 *    seconds into the sleep and passes a SLACK smaller than that delay,
 *    so a restarted sleep overshoots SECONDS + SLACK while a resumed one
 *    (or one that merely lost the frozen time) does not.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "wl_common.h"

#define MEM_SIZE	(4ul << 20)
#define SEED_MEM	0x5100
#define SEED_STACK	0x5200

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "rel";
	double secs = argc > 2 ? atof(argv[2]) : 8;
	double slack = argc > 3 ? atof(argv[3]) : 12;
	struct timespec req, rem = { 0, 0 };
	uint64_t local[256];
	int absolute, ret, err, m;
	double t0, t1, elapsed;
	unsigned char *mem;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "rel") && strcmp(mode, "abs")) {
		fprintf(stderr, "usage: %s [rel|abs] [SECONDS [SLACK]]\n", argv[0]);
		return 2;
	}
	absolute = !strcmp(mode, "abs");
	wl_own_session();
	pid = getpid();

	mem = malloc(MEM_SIZE);
	if (!mem)
		wl_die("malloc");
	wl_fill(mem, MEM_SIZE, SEED_MEM);
	wl_fill(local, sizeof(local), SEED_STACK);

	wl_ready();
	t0 = wl_now(CLOCK_MONOTONIC);
	if (absolute) {
		double deadline = t0 + secs;

		req.tv_sec = (time_t)deadline;
		req.tv_nsec = (long)((deadline - req.tv_sec) * 1e9);
		/* returns the error number itself, not -1/errno */
		ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL);
		err = ret;
	} else {
		req.tv_sec = (time_t)secs;
		req.tv_nsec = (long)((secs - req.tv_sec) * 1e9);
		ret = nanosleep(&req, &rem);
		err = ret ? errno : 0;
	}
	t1 = wl_now(CLOCK_MONOTONIC);
	elapsed = t1 - t0;
	asm volatile("" : : "r"(local) : "memory");

	printf("# %s sleep of %.3f s took %.3f s\n", mode, secs, elapsed);
	m = wl_mark();
	if (ret)
		wl_fail("sleep.ret", "returned %d (%s), remaining %ld.%09ld s",
			ret, strerror(err), (long)rem.tv_sec, rem.tv_nsec);
	wl_verdict("sleep.ret", m);

	m = wl_mark();
	if (elapsed < secs)
		wl_fail("sleep.elapsed", "slept %.3f s of CLOCK_MONOTONIC, want >= %.3f",
			elapsed, secs);
	if (elapsed > secs + slack)
		wl_fail("sleep.elapsed", "slept %.3f s, more than %.3f + %.3f: restarted from scratch?",
			elapsed, secs, slack);
	wl_verdict("sleep.elapsed", m);

	m = wl_mark();
	if (getpid() != pid)
		wl_fail("proc.pid", "pid was %d, now %d", pid, getpid());
	wl_verdict("proc.pid", m);

	m = wl_mark();
	if (wl_check(mem, MEM_SIZE, SEED_MEM) != (size_t)-1)
		wl_fail("mem.heap", "heap differs at offset %zu",
			wl_check(mem, MEM_SIZE, SEED_MEM));
	if (wl_check(local, sizeof(local), SEED_STACK) != (size_t)-1)
		wl_fail("mem.stack", "stack array differs");
	wl_verdict("mem", m);
	return wl_done();
}
