// SPDX-License-Identifier: MIT
/*
 * wl_timerfd: timerfds in every mode: relative, absolute
 * (TFD_TIMER_ABSTIME) on CLOCK_REALTIME (also with
 * TFD_TIMER_CANCEL_ON_SET), CLOCK_MONOTONIC and CLOCK_BOOTTIME, periodic,
 * disarmed, and one with expirations not yet read; READY; on SIGUSR1 each
 * must still fire at the same time of its clock (an absolute one however
 * long the restore took), keep its flags and period, and read its
 * expirations.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/timerfd.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define NS 1000000000LL
#define SLACK (NS / 4)	/* scheduling, the freeze's reading */

struct tmr {
	const char *name;
	clockid_t clock;
	int flags;
	long long value, interval;	/* ns; value from now */
	long long target;		/* abstime: when, on its clock */
	int fd;
};

static struct tmr tmrs[] = {
	{ "rel", CLOCK_MONOTONIC, 0, 40 * NS, 2 * NS, 0, -1 },
	{ "abs_mono", CLOCK_MONOTONIC, TFD_TIMER_ABSTIME, 30 * NS, 0, 0, -1 },
	{ "abs_real", CLOCK_REALTIME, TFD_TIMER_ABSTIME, 35 * NS, 3 * NS, 0, -1 },
	{ "abs_cancel", CLOCK_REALTIME,
	  TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, 45 * NS, 0, 0, -1 },
	{ "abs_boot", CLOCK_BOOTTIME, TFD_TIMER_ABSTIME, 50 * NS, 5 * NS, 0, -1 },
	{ "off", CLOCK_BOOTTIME, 0, 0, 0, 0, -1 },
};
#define NT (sizeof(tmrs) / sizeof(tmrs[0]))

static volatile sig_atomic_t go;
static int ticker;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ ns / NS, ns % NS };
}

static long long ns_of(const struct timespec *ts)
{
	return ts->tv_sec * NS + ts->tv_nsec;
}

static void arm(struct tmr *t)
{
	struct itimerspec its = { .it_interval = ts_of(t->interval) };

	t->fd = timerfd_create(t->clock, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0)
		wl_die("timerfd_create %s", t->name);
	if (!t->value)
		return;
	t->target = (t->flags & TFD_TIMER_ABSTIME) ? now_ns(t->clock) : 0;
	t->target += t->value;
	its.it_value = ts_of(t->target);
	if (timerfd_settime(t->fd, t->flags, &its, NULL))
		wl_die("timerfd_settime %s", t->name);
	if (!(t->flags & TFD_TIMER_ABSTIME))
		t->target = now_ns(t->clock) + t->value;
}

/* the flags as the kernel keeps them: "settime flags: 0N" in fdinfo */
static int settime_flags(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "settime flags:");
	return p ? (int)strtol(p + 14, NULL, 8) : -1;
}

static void check(const struct tmr *t, int relative_drift)
{
	struct itimerspec its;
	long long left, want;
	char name[64];
	int fl;

	snprintf(name, sizeof(name), "timerfd.%s", t->name);
	if (timerfd_gettime(t->fd, &its))
		return wl_fail(name, "timerfd_gettime: %s", strerror(errno));
	fl = settime_flags(t->fd);
	if (t->value && fl != t->flags)
		return wl_fail(name, "settime flags %o, want %o", fl, t->flags);
	if (ns_of(&its.it_interval) != t->interval)
		return wl_fail(name, "interval %lld ns, want %lld", ns_of(&its.it_interval),
			       t->interval);
	left = ns_of(&its.it_value);
	if (!t->value) {
		if (left)
			wl_fail(name, "disarmed, now %lld ns left", left);
		else
			wl_pass(name);
		return;
	}
	want = t->target - now_ns(t->clock);
	/* relative timers lose the time the container was down */
	if (left < want - SLACK ||
	    left > (relative_drift ? t->value : want + SLACK))
		return wl_fail(name, "%.3f s left, want %.3f s", left / 1e9,
			       want / 1e9);
	wl_pass(name);
}

/*
 * An absolute periodic timer that fired before the freeze (not read) and
 * kept firing while the container was down: every expiration is counted.
 */
static int passer;
static long long passer_first;

#define PASSER_INTERVAL (NS * 4 / 10)

static void arm_passer(void)
{
	struct itimerspec its = { .it_interval = ts_of(PASSER_INTERVAL) };

	passer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	passer_first = now_ns(CLOCK_MONOTONIC) + NS / 20;
	its.it_value = ts_of(passer_first);
	if (passer < 0 || timerfd_settime(passer, TFD_TIMER_ABSTIME, &its, NULL))
		wl_die("passer");
}

static long long passer_due(void)
{
	long long t = now_ns(CLOCK_MONOTONIC);

	return t < passer_first ? 0 : (t - passer_first) / PASSER_INTERVAL + 1;
}

static void check_passer(void)
{
	long long lo = passer_due(), hi;
	uint64_t n = 0;

	if (read(passer, &n, 8) != 8)
		n = 0;
	hi = passer_due();
	if ((long long)n < lo || (long long)n > hi)
		return wl_fail("timerfd.abs_passed", "read %lu expirations, want %lld",
			       n, lo);
	wl_pass("timerfd.abs_passed");
}

/* one expiration happened and was not read */
static void check_ticker(void)
{
	uint64_t n = 0;

	if (read(ticker, &n, 8) != 8 || n != 1)
		return wl_fail("timerfd.ticks", "read %lu expirations (%s), want 1",
			       n, strerror(errno));
	wl_pass("timerfd.ticks");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	struct itimerspec its = { .it_value = { 0, 1000000 },
				  .it_interval = { 1000, 0 } };
	size_t i;

	signal(SIGUSR1, on_usr1);
	for (i = 0; i < NT; i++)
		arm(&tmrs[i]);
	ticker = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (ticker < 0 || timerfd_settime(ticker, 0, &its, NULL))
		wl_die("ticker");
	arm_passer();
	usleep(100000);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("timerfd.fd_table", &fdt0);
	for (i = 0; i < NT; i++)
		check(&tmrs[i], !(tmrs[i].flags & TFD_TIMER_ABSTIME));
	check_ticker();
	check_passer();
	return wl_done();
}
