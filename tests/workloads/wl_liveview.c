// SPDX-License-Identifier: MIT
/*
 * wl_liveview - a tree that keeps changing while the test looks at it
 * through the live view.  The root's ticker thread renames the main thread
 * "lvN" every 10 ms (N counting up: its comm changes between reads); a
 * second thread idles, with an egid of its own.  Child A (with an idle thread too) opens LATE
 * (argv[1]) at fd >= 40, close on exec, on SIGUSR2 and says OPENED FD;
 * child B waits to be killed, and stays a zombie until SIGHUP to the root,
 * which then collects it and says REAPED PID.  B blocks SIGPROF and
 * SIGXCPU and sends itself both (to the process, to its thread).
 *
 * SIGUSR2 to the root starts (LIVE-ON) and ends (LIVE-OFF GAP_MS) the
 * phase the test reads in: the ticker measures its longest gap between
 * two ticks there, which a stopped tree would stretch.  SIGUSR1, after a
 * freeze and thaw: the ticker runs on, A still holds LATE, each says so.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "wl_common.h"

#define TICK_NS 10000000L
#define MAX_GAP_MS 3000
#define LV_EGID 4321	/* the idle threads' own */	/* a slow VM's scheduling, not a stop */

static volatile sig_atomic_t go, usr2, hup;
static sigset_t waiting;	/* what the main thread waits in: none blocked */
static pthread_t main_thread;
static unsigned long ticks;
static int phase;	/* 0 before, 1 in, 2 after the live phase */
static double last, max_gap;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t idle_set;	/* the idle thread has its own egid */

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

static void on_chld(int sig)
{
	(void)sig;
}

static void *ticker(void *arg)
{
	struct timespec ts = { 0, TICK_NS };
	char name[16];
	double now;

	(void)arg;
	for (;;) {
		nanosleep(&ts, NULL);
		now = wl_now(CLOCK_MONOTONIC);
		pthread_mutex_lock(&lock);
		ticks++;
		if (phase == 1 && last && now - last > max_gap)
			max_gap = now - last;
		last = now;
		snprintf(name, sizeof(name), "lv%lu", ticks);
		pthread_mutex_unlock(&lock);
		pthread_setname_np(main_thread, name);
	}
	return NULL;
}

/* its own egid, by the raw syscall (glibc's would change every thread's) */
static void *idler(void *arg)
{
	(void)arg;
	if (syscall(SYS_setresgid, -1, LV_EGID, -1))
		printf("FAIL setup: setresgid in a thread (errno %d)\n", errno);
	sem_post(&idle_set);
	for (;;)
		pause();
	return NULL;
}

static unsigned long ticks_now(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = ticks;
	pthread_mutex_unlock(&lock);
	return n;
}

/* A: opens late on SIGUSR2; after SIGUSR1 checks it still holds it */
static int child_a(const char *late)
{
	struct stat want, got;
	int fd = -1, tmp;
	pthread_t t;

	/* a thread below the root: its id must not pass for a process */
	if (pthread_create(&t, NULL, idler, NULL))
		wl_die("pthread_create in A");
	while (!go) {
		if (usr2 && fd < 0) {
			tmp = open(late, O_RDWR | O_CREAT, 0600);
			if (tmp < 0)
				wl_die("open %s", late);
			fd = fcntl(tmp, F_DUPFD_CLOEXEC, 40);
			if (fd < 0)
				wl_die("F_DUPFD_CLOEXEC");
			close(tmp);
			printf("OPENED %d\n", fd);
			fflush(stdout);
		}
		sigsuspend(&waiting);
	}
	if (fd < 0 || fstat(fd, &got) || stat(late, &want) ||
	    got.st_ino != want.st_ino) {
		printf("FAIL liveview.late_fd: fd %d does not hold %s\n", fd,
		       late);
		return 1;
	}
	printf("PASS liveview.late_fd\n");
	return 0;
}

static pid_t spawn(int (*fn)(const char *), const char *arg)
{
	pid_t p = fork();

	if (p < 0)
		wl_die("fork");
	if (!p) {
		fflush(stdout);
		exit(fn(arg));
	}
	return p;
}

/* B also holds two blocked signals pending: SIGPROF sent to the process,
 * SIGXCPU to its thread, for the live view's signals */
static int child_b(const char *arg)
{
	sigset_t held;

	(void)arg;
	sigemptyset(&held);
	sigaddset(&held, SIGPROF);
	sigaddset(&held, SIGXCPU);
	sigprocmask(SIG_BLOCK, &held, NULL);
	kill(getpid(), SIGPROF);
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGXCPU);
	for (;;)
		pause();
	return 0;
}

/* SIGUSR2 toggles the live phase; B's exit is reported once reaped */
static void wait_go(pid_t b)
{
	int seen = 0, st;

	while (!go) {
		if (hup && b > 0 && waitpid(b, &st, WNOHANG) == b) {
			printf("REAPED %d\n", b);
			fflush(stdout);
			b = 0;
		}
		for (; seen < usr2; seen++) {
			pthread_mutex_lock(&lock);
			phase++;
			last = 0;
			pthread_mutex_unlock(&lock);
			if (phase == 1)
				printf("LIVE-ON\n");
			else
				printf("LIVE-OFF %.0f\n", max_gap * 1000);
			fflush(stdout);
		}
		sigsuspend(&waiting);
	}
}

static void check_ticker(void)
{
	unsigned long n0 = ticks_now();
	double until = wl_now(CLOCK_MONOTONIC) + 20;

	while (ticks_now() < n0 + 10 && wl_now(CLOCK_MONOTONIC) < until)
		usleep(10000);
	if (ticks_now() < n0 + 10)
		wl_fail("liveview.ticker", "%lu ticks in 20 s", ticks_now() - n0);
	else
		wl_pass("liveview.ticker");
	if (phase != 2)
		wl_fail("liveview.phase", "the live phase was never ended (%d)",
			phase);
	else if (max_gap * 1000 > MAX_GAP_MS)
		wl_fail("liveview.gap", "the ticker stood still %.0f ms while the live view was read",
			max_gap * 1000);
	else
		wl_pass("liveview.gap");
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	sigset_t ours;
	pid_t a, b;
	int st;

	if (argc != 2)
		wl_die("usage: wl_liveview LATE");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	signal(SIGCHLD, on_chld);
	signal(SIGHUP, on_hup);
	/* blocked but in sigsuspend: the threads never take them, and none
	 * arrives between a check and the wait */
	sigemptyset(&ours);
	sigaddset(&ours, SIGUSR1);
	sigaddset(&ours, SIGUSR2);
	sigaddset(&ours, SIGCHLD);
	sigaddset(&ours, SIGHUP);
	sigprocmask(SIG_BLOCK, &ours, &waiting);
	main_thread = pthread_self();
	if (sem_init(&idle_set, 0, 0))
		wl_die("sem_init");
	a = spawn(child_a, argv[1]);
	b = spawn(child_b, NULL);
	if (pthread_create(&t1, NULL, ticker, NULL) ||
	    pthread_create(&t2, NULL, idler, NULL))
		wl_die("pthread_create");
	pthread_setname_np(t2, "lv-idle");
	while (sem_wait(&idle_set))
		;
	printf("PIDS %d %d %d\n", getpid(), a, b);
	wl_ready();
	wait_go(b);
	check_ticker();
	kill(a, SIGUSR1);
	if (waitpid(a, &st, 0) != a || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("liveview.child_a", "status %#x", st);
	else
		wl_pass("liveview.child_a");
	return wl_done();
}
