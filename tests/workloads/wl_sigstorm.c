// SPDX-License-Identifier: MIT
/*
 * wl_sigstorm - be frozen while signals keep arriving.
 *
 * An ITIMER_REAL of 1 ms and a POSIX timer (CLOCK_MONOTONIC, SIGRTMIN) of
 * 2 ms both signal the process all the time; a freeze must neither refuse
 * ("arrived during the freeze") nor lose them, and while a timer's signal
 * is still queued the kernel has not re-armed it (it shows 0 time left):
 * the restored timer must run on.  After SIGUSR1 the process checks, over
 * 200 ms of sleep, that both timers still fire, with their periods.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile long alrm, rt;
static volatile sig_atomic_t go;

static void on_alrm(int s) { (void)s; alrm++; }
static void on_rt(int s) { (void)s; rt++; }
static void on_usr1(int s) { (void)s; go = 1; }

static void check_period(void)
{
	struct itimerval it;
	struct itimerspec ps;
	timer_t id = (timer_t)0;	/* the first (and only) POSIX timer */

	getitimer(ITIMER_REAL, &it);
	if (it.it_interval.tv_sec || it.it_interval.tv_usec != 1000)
		wl_fail("sigstorm.itimer_period", "interval %ld.%06ld",
			it.it_interval.tv_sec, it.it_interval.tv_usec);
	else
		wl_pass("sigstorm.itimer_period");
	if (timer_gettime(id, &ps) || ps.it_interval.tv_sec ||
	    ps.it_interval.tv_nsec != 2000000)
		wl_fail("sigstorm.posix_period", "interval %ld.%09ld",
			ps.it_interval.tv_sec, ps.it_interval.tv_nsec);
	else
		wl_pass("sigstorm.posix_period");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct itimerspec ps = { { 0, 2000000 }, { 0, 2000000 } };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL };
	struct timespec left = { 0, 200000000 };
	long a, r;
	timer_t id;

	setvbuf(stdout, NULL, _IONBF, 0);
	wl_own_session();
	signal(SIGALRM, on_alrm);
	signal(SIGRTMIN, on_rt);
	signal(SIGUSR1, on_usr1);
	ev.sigev_signo = SIGRTMIN;
	if (timer_create(CLOCK_MONOTONIC, &ev, &id) || timer_settime(id, 0, &ps, NULL))
		wl_die("timer_create");
	if (setitimer(ITIMER_REAL, &it, NULL))
		wl_die("setitimer");
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("sigstorm.fd_table", &fdt0);
	check_period();
	a = alrm;
	r = rt;
	while (nanosleep(&left, &left))	/* every tick interrupts it */
		;
	a = alrm - a;
	r = rt - r;
	/* 200 and 100 if nothing else ran: allow for a busy machine */
	if (a >= 20)
		wl_pass("sigstorm.itimer_fires");
	else
		wl_fail("sigstorm.itimer_fires", "%ld SIGALRM in 200 ms", a);
	if (r >= 10)
		wl_pass("sigstorm.posix_fires");
	else
		wl_fail("sigstorm.posix_fires", "%ld SIGRTMIN in 200 ms", r);
	return wl_done();
}
