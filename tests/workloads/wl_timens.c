// SPDX-License-Identifier: MIT
/*
 * wl_timens - a tree in a time namespace of its own (run under unshare
 * --time --monotonic 86400 --boottime 3600 --fork): the root notes its
 * offsets and clocks, arms absolute timerfds (in its namespace's view of
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME) 60 s ahead and forks a child.  After
 * SIGUSR1 (a thaw, or a restore) both check that the offsets are the same
 * and that the clocks went on from where they were, not back by an offset;
 * the root also that the timers still expire when they did.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/timerfd.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define AHEAD	60.0	/* the absolute timers, seconds from READY */
#define SLACK	30.0	/* at most this long from READY to SIGUSR1 */

static volatile sig_atomic_t go;
static char offsets[256];
static double mono0, boot0;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void read_offsets(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/timens_offsets", "r");
	size_t n;

	if (!f)
		wl_die("open /proc/self/timens_offsets");
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* the clock went on from start, not back (or forward) by an offset */
static int clock_ok(const char *who, const char *name, clockid_t clk,
		    double start)
{
	double now = wl_now(clk);

	if (now < start || now > start + SLACK + 30) {
		printf("FAIL timens.%s.%s: %.3f s, was %.3f s %.0f s ago at most\n",
		       who, name, now, start, SLACK + 30);
		return 1;
	}
	return 0;
}

static int state_ok(const char *who)
{
	char now[256];
	int bad = 0;

	read_offsets(now, sizeof(now));
	if (strcmp(now, offsets)) {
		printf("FAIL timens.%s.offsets: '%s', want '%s'\n", who, now,
		       offsets);
		bad = 1;
	}
	bad |= clock_ok(who, "monotonic", CLOCK_MONOTONIC, mono0);
	bad |= clock_ok(who, "boottime", CLOCK_BOOTTIME, boot0);
	fflush(stdout);
	return bad;
}

static int arm_at(clockid_t clk, double when)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(clk, TFD_NONBLOCK);

	if (fd < 0)
		wl_die("timerfd_create");
	its.it_value.tv_sec = (time_t)when;
	its.it_value.tv_nsec = (long)((when - (time_t)when) * 1e9);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL))
		wl_die("timerfd_settime");
	return fd;
}

/* not fired, and what it has left is what its absolute time says */
static void timer_ok(const char *name, int fd, clockid_t clk, double when)
{
	struct itimerspec its;
	uint64_t ticks;
	double left, want = when - wl_now(clk);

	if (read(fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
		wl_fail(name, "fired %llu times, %.3f s early",
			(unsigned long long)ticks, want);
		return;
	}
	if (timerfd_gettime(fd, &its))
		wl_die("timerfd_gettime");
	left = its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
	if (left < want - 1 || left > want + 1)
		wl_fail(name, "%.3f s left, want %.3f s", left, want);
	else
		wl_pass(name);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	int st, tmono, tboot;
	double at_mono, at_boot;
	pid_t kid;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	read_offsets(offsets, sizeof(offsets));
	mono0 = wl_now(CLOCK_MONOTONIC);
	boot0 = wl_now(CLOCK_BOOTTIME);
	if (mono0 < 86400 || boot0 < 3600)
		wl_die("clocks at %.0f/%.0f: not under unshare --time --monotonic 86400 --boottime 3600?",
		       mono0, boot0);
	at_mono = mono0 + AHEAD;
	at_boot = boot0 + AHEAD;
	tmono = arm_at(CLOCK_MONOTONIC, at_mono);
	tboot = arm_at(CLOCK_BOOTTIME, at_boot);
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		while (!go)
			pause();
		exit(state_ok("child"));
	}
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("timens.fd_table", &fdt0);
	if (state_ok("root"))
		wl_nfail++;
	else
		wl_pass("timens.root");
	timer_ok("timens.timerfd_monotonic_abs", tmono, CLOCK_MONOTONIC, at_mono);
	timer_ok("timens.timerfd_boottime_abs", tboot, CLOCK_BOOTTIME, at_boot);
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("timens.child", "child status %#x", st);
	else
		wl_pass("timens.child");
	return wl_done();
}
