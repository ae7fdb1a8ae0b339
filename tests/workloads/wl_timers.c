// SPDX-License-Identifier: MIT
/*
 * wl_timers: interval timers (real, virtual) and POSIX timers with a gap
 * in their ids, each clock and kind of notification, armed and disarmed;
 * READY; on SIGUSR1 it checks ids, clocks, times left, periods, and that
 * the timers still fire with their signal and value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;
static volatile int thread_hits, thread_bad, cb_hits;
static volatile pid_t waiter_tid;

/* takes SIGRTMIN+4 from the timer aimed at this thread only */
static void *waiter(void *arg)
{
	struct timespec ts = { 0, 100000000 };
	siginfo_t si;
	sigset_t s;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 4);
	waiter_tid = syscall(SYS_gettid);
	for (;;) {
		if (sigtimedwait(&s, &si, &ts) != SIGRTMIN + 4)
			continue;
		if ((long)si.si_value.sival_ptr != 0xdef || si.si_code != SI_TIMER)
			thread_bad++;
		thread_hits++;
	}
	return NULL;
}

/* glibc runs SIGEV_THREAD callbacks from its helper thread's timers */
static void on_timer(union sigval v)
{
	if ((long)v.sival_ptr == 0x7777)
		cb_hits++;
}

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static timer_t make(clockid_t clk, int notify, int sig, long val)
{
	struct sigevent sev = { .sigev_notify = notify, .sigev_signo = sig };
	timer_t t;

	sev.sigev_value.sival_ptr = (void *)val;
	if (notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = syscall(SYS_gettid);
	if (timer_create(clk, &sev, &t))
		wl_die("timer_create");
	return t;
}

static void arm(timer_t t, double value, double interval)
{
	struct itimerspec its = {
		.it_value = { (time_t)value, (long)((value - (time_t)value) * 1e9) },
		.it_interval = { (time_t)interval,
				 (long)((interval - (time_t)interval) * 1e9) },
	};

	if (timer_settime(t, 0, &its, NULL))
		wl_die("timer_settime");
}

static double secs(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

static void check_itimers(void)
{
	struct itimerval r, v;
	int m = wl_mark();

	getitimer(ITIMER_REAL, &r);
	getitimer(ITIMER_VIRTUAL, &v);
	if (r.it_interval.tv_sec != 7 || r.it_value.tv_sec > 30 ||
	    r.it_value.tv_sec < 15)
		wl_fail("timers.real", "value %lds interval %lds",
			r.it_value.tv_sec, r.it_interval.tv_sec);
	if (v.it_value.tv_sec > 100 || v.it_value.tv_sec < 98 ||
	    v.it_interval.tv_sec)
		wl_fail("timers.virtual", "value %lds interval %lds",
			v.it_value.tv_sec, v.it_interval.tv_sec);
	wl_verdict("timers.itimer", m);
}

static void check_posix(timer_t t1, timer_t t2)
{
	struct itimerspec its;
	int m = wl_mark();

	if (!timer_gettime((timer_t)0, &its))
		wl_fail("timers.deleted", "timer 0 exists again");
	if ((long)t1 != 1 || (long)t2 != 2)
		wl_fail("timers.ids", "ids %ld %ld", (long)t1, (long)t2);
	if (timer_gettime(t1, &its) || secs(&its.it_value) > 1000 ||
	    secs(&its.it_value) < 980)
		wl_fail("timers.posix_left", "timer 1: %.3fs left",
			secs(&its.it_value));
	if (timer_gettime(t2, &its) ||
	    secs(&its.it_interval) < 0.299 || secs(&its.it_interval) > 0.301)
		wl_fail("timers.posix_interval", "timer 2: interval %.3fs",
			secs(&its.it_interval));
	wl_verdict("timers.posix", m);
}

/* the periodic timer goes on firing, with its value */
static void check_fires(int sig, long val, double within, const char *name)
{
	struct timespec ts = { (time_t)within, 0 };
	siginfo_t si;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	if (sigtimedwait(&s, &si, &ts) != sig)
		wl_fail(name, "no signal %d within %.1fs", sig, within);
	else if (si.si_code != SI_TIMER || (long)si.si_value.sival_ptr != val)
		wl_fail(name, "code %d value %#lx", si.si_code,
			(long)si.si_value.sival_ptr);
	else
		wl_pass(name);
}

static void check_threads(void)
{
	int h0 = thread_hits, c0 = cb_hits;

	usleep(1500000);
	if (thread_hits < h0 + 2 || thread_bad)
		wl_fail("timers.thread_id", "%d hits in 1.5s (%d bad)",
			thread_hits - h0, thread_bad);
	else
		wl_pass("timers.thread_id");
	if (cb_hits < c0 + 2)
		wl_fail("timers.sigev_thread", "%d callbacks in 1.5s", cb_hits - c0);
	else
		wl_pass("timers.sigev_thread");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	struct itimerval r = { { 7, 0 }, { 30, 0 } }, v = { { 0, 0 }, { 100, 0 } };
	timer_t t0, t1, t2, t3, t4, t5;
	struct sigevent sev = { 0 };
	pthread_t th;
	sigset_t block;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 2);
	sigaddset(&block, SIGRTMIN + 3);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGRTMIN + 4);
	sigprocmask(SIG_BLOCK, &block, NULL);
	pthread_create(&th, NULL, waiter, NULL);
	while (!waiter_tid)
		usleep(1000);
	if (setitimer(ITIMER_REAL, &r, NULL) || setitimer(ITIMER_VIRTUAL, &v, NULL))
		wl_die("setitimer");
	t0 = make(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 0x1234);
	t1 = make(CLOCK_REALTIME, SIGEV_NONE, 0, 0);
	t2 = make(CLOCK_MONOTONIC, SIGEV_THREAD_ID | SIGEV_SIGNAL, SIGRTMIN + 2,
		  0x5678);
	t3 = make(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGRTMIN + 3, 0x9abc);
	timer_delete(t0);
	sev.sigev_notify = SIGEV_THREAD_ID | SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 4;
	sev.sigev_value.sival_ptr = (void *)0xdef;
	sev._sigev_un._tid = waiter_tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t4))
		wl_die("timer_create for a thread");
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_timer;
	sev.sigev_value.sival_ptr = (void *)0x7777;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t5))
		wl_die("timer_create SIGEV_THREAD");
	arm(t4, 0.25, 0.25);
	arm(t5, 0.2, 0.2);
	arm(t1, 1000, 0);
	arm(t2, 0.3, 0.3);
	arm(t3, 4, 0);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("timers.fd_table", &fdt0);
	check_itimers();
	check_posix(t1, t2);
	check_fires(SIGRTMIN + 2, 0x5678, 2, "timers.periodic_fires");
	check_fires(SIGRTMIN + 3, 0x9abc, 8, "timers.oneshot_fires");
	check_threads();
	return wl_done();
}
