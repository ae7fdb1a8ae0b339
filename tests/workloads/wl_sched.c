// SPDX-License-Identifier: MIT
/*
 * wl_sched - scheduling attributes, distinct in each of three threads:
 *
 *	main	SCHED_BATCH, nice 7, CPU 0, I/O best-effort 2, slack 123456 ns
 *	rr	SCHED_RR 3 with SCHED_RESET_ON_FORK, nice -4 (kept under the
 *		RT policy), CPU 1, I/O realtime 5, slack as the kernel leaves
 *		it for an RT thread
 *	idle	SCHED_IDLE, nice -3, CPUs 0-1, I/O idle, slack 345678 ns
 *
 * Every thread checks itself (sched_getattr, getpriority, sched_getaffinity
 * and ioprio_get on itself, prctl(PR_GET_TIMERSLACK), which is per thread)
 * when the main thread asks: on SIGUSR2 (after a freeze and thaw) it
 * prints "CHECKED thaw" once all threads have checked and goes on; on
 * SIGUSR1 (after the restore) it checks once more and exits.  The expected
 * values come from the table below, the timer slack from what each thread
 * read at READY (the kernel decides an RT thread's).
 *
 * wl_sched refused: what crfs cannot restore and must refuse: the main
 * thread runs SCHED_DEADLINE, a second thread has a utilization clamp
 * (prints "UCLAMP no" where the kernel has none).  Exits 0 on SIGUSR1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "wl_common.h"

/* the kernel's struct sched_attr, first version */
struct ksched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

#define RESET_ON_FORK	0x01	/* SCHED_FLAG_RESET_ON_FORK */
#define IOPRIO_WHO_PROC	1
#define IOPRIO(c, l)	((c) << 13 | (l))
enum { IO_RT = 1, IO_BE = 2, IO_IDLE = 3 };

struct want {
	const char *name;
	int policy, flags, prio, nice, cpus, ioprio;
	unsigned long slack;	/* asked for; the kernel may differ */
};

static const struct want wants[3] = {
	{ "main", SCHED_BATCH, 0, 0, 7, 0x1, IOPRIO(IO_BE, 2), 123456 },
	{ "rr", SCHED_RR, RESET_ON_FORK, 3, -4, 0x2, IOPRIO(IO_RT, 5), 234567 },
	{ "idle", SCHED_IDLE, 0, 0, -3, 0x3, IOPRIO(IO_IDLE, 0), 345678 },
};

static unsigned long slack_seen[3];	/* at READY */
static atomic_int phase, done, nready, fails;
static const char *phase_name;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) != n)
		_exit(3);
}

static void setup(int i)
{
	const struct want *w = &wants[i];
	struct ksched_attr a = {
		.size = sizeof(a), .policy = w->policy, .flags = w->flags,
		.nice = w->nice, .priority = w->prio,
	};
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = 0; cpu < 8; cpu++)
		if (w->cpus >> cpu & 1)
			CPU_SET(cpu, &set);
	if (prctl(PR_SET_TIMERSLACK, w->slack, 0, 0, 0))
		wl_die("%s: PR_SET_TIMERSLACK", w->name);
	if (setpriority(PRIO_PROCESS, gettid(), w->nice))
		wl_die("%s: setpriority", w->name);
	if (sched_setaffinity(0, sizeof(set), &set))
		wl_die("%s: sched_setaffinity", w->name);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROC, 0, w->ioprio))
		wl_die("%s: ioprio_set", w->name);
	if (syscall(SYS_sched_setattr, 0, &a, 0))
		wl_die("%s: sched_setattr", w->name);
	slack_seen[i] = (unsigned long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
}

static void bad(int i, const char *what, long got, long want)
{
	line("FAIL %s.%s.%s: is %ld, want %ld", phase_name, wants[i].name, what,
	     got, want);
	atomic_fetch_add(&fails, 1);
}

static void check(int i)
{
	const struct want *w = &wants[i];
	struct ksched_attr a = { 0 };
	cpu_set_t set;
	long v;
	int cpu, cpus = 0, nfail = atomic_load(&fails);

	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0))
		bad(i, "sched_getattr", -errno, 0);
	if ((int)a.policy != w->policy)
		bad(i, "policy", a.policy, w->policy);
	if ((int)(a.flags & RESET_ON_FORK) != w->flags)
		bad(i, "reset_on_fork", a.flags & RESET_ON_FORK, w->flags);
	if ((int)a.priority != w->prio)
		bad(i, "rt_priority", a.priority, w->prio);
	errno = 0;
	v = getpriority(PRIO_PROCESS, gettid());
	if (v != w->nice)
		bad(i, "nice", v, w->nice);
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set))
		bad(i, "sched_getaffinity", -errno, 0);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus |= cpu < 31 ? 1 << cpu : 1 << 31;
	if (cpus != w->cpus)
		bad(i, "affinity", cpus, w->cpus);
	v = syscall(SYS_ioprio_get, IOPRIO_WHO_PROC, 0);
	if (v != w->ioprio)
		bad(i, "ioprio", v, w->ioprio);
	v = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if ((unsigned long)v != slack_seen[i])
		bad(i, "timerslack", v, (long)slack_seen[i]);
	if (atomic_load(&fails) == nfail)
		line("PASS %s.%s", phase_name, w->name);
}

static void *thread_main(void *arg)
{
	int i = (int)(long)arg, seen = 0;
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	setup(i);
	atomic_fetch_add(&nready, 1);
	for (;;) {
		while (atomic_load(&phase) == seen)
			nanosleep(&ts, NULL);
		seen = atomic_load(&phase);
		check(i);
		atomic_fetch_add(&done, 1);
	}
	return NULL;
}

/* every thread checks itself; returns once all have */
static void check_all(const char *name)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int want = atomic_load(&done) + 2;

	phase_name = name;
	atomic_fetch_add(&phase, 1);
	check(0);
	while (atomic_load(&done) < want)
		nanosleep(&ts, NULL);
}

#define SCHED_DEADLINE_		6
#define FLAG_KEEP_ALL		0x18	/* SCHED_FLAG_KEEP_POLICY | _PARAMS */
#define FLAG_UTIL_CLAMP_MIN	0x20

static void *clamped(void *arg)
{
	struct {
		struct ksched_attr a;
		uint32_t util_min, util_max;
	} c = { .a = { .size = sizeof(c), .flags = FLAG_KEEP_ALL |
					     FLAG_UTIL_CLAMP_MIN },
		.util_min = 256 };

	if (syscall(SYS_sched_setattr, 0, &c, 0))
		line("UCLAMP no: %s", strerror(errno));
	else
		line("UCLAMP yes");
	atomic_fetch_add(&nready, 1);
	for (;;)
		pause();
	return arg;
}

static int refused(void)
{
	struct ksched_attr a = {
		.size = sizeof(a), .policy = SCHED_DEADLINE_,
		.runtime = 2000000, .deadline = 50000000, .period = 50000000,
	};
	pthread_t t;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&t, NULL, clamped, NULL))
		wl_die("pthread_create");
	while (!atomic_load(&nready))
		usleep(1000);
	if (syscall(SYS_sched_setattr, 0, &a, 0))
		wl_die("SCHED_DEADLINE");
	wl_ready();
	sigwait(&set, &sig);
	line("PASS refused.exit");
	line("DONE pass=1 fail=0");
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t;
	sigset_t set;
	long i;
	int sig;

	if (argc > 1 && !strcmp(argv[1], "refused"))
		return refused();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* threads inherit it */
	for (i = 1; i < 3; i++)
		if (pthread_create(&t, NULL, thread_main, (void *)i))
			wl_die("pthread_create");
	setup(0);
	while (atomic_load(&nready) < 2)
		usleep(1000);
	check_all("before");
	if (atomic_load(&fails))
		wl_die("the kernel did not take the attributes as set");
	wl_ready();
	for (;;) {
		if (sigwait(&set, &sig))
			wl_die("sigwait");
		check_all(sig == SIGUSR2 ? "thaw" : "restore");
		if (sig == SIGUSR1)
			break;
		line("CHECKED thaw");
	}
	if (!atomic_load(&fails))
		line("PASS all");
	line("DONE pass=%d fail=%d", !atomic_load(&fails), atomic_load(&fails));
	return atomic_load(&fails) ? 1 : 0;
}
