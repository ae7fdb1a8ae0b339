// SPDX-License-Identifier: MIT
/*
 * wl_forkstorm - keep forking short-lived children and creating
 * short-lived threads, so a freeze meets a tree that changes under it.
 *
 * usage: wl_forkstorm
 *
 * The process leads its own session (every process it creates stays in
 * it, so the test finds them all by session id, even one that escaped the
 * tree).  Two storm threads run until SIGUSR1:
 *  - the forker forks children, at most 4 alive at a time; each child
 *    creates a thread and forks a grandchild (which exits at once), reaps
 *    and joins them, lives 1-3 ms and exits 0;
 *  - the spawner creates 3 threads at a time and joins them, again and
 *    again.
 * The main thread waits in sigsuspend: SIGUSR2 makes it print "COUNT n"
 * (forks + threads so far; the test checks it keeps growing across
 * freeze/thaw), SIGUSR1 stops the storm.  Then it reaps everything and
 * checks: children and threads were made, every child exited 0 (one
 * killed or stopped by a freeze/thaw gone wrong shows here), no child is
 * left.  SIGCHLD keeps its default disposition.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "wl_common.h"

#define MAX_KIDS	4

static atomic_int stop;
static atomic_long nforks, nthreads, nbad;
static volatile sig_atomic_t got_usr1, got_usr2;
static char badmsg[200];

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2 = 1;
}

static void *tiny(void *arg)
{
	volatile uint64_t x = 0;
	int i;

	for (i = 0; i < 1000; i++)
		x += wl_mix(i);
	return arg;
}

static void __attribute__((noreturn)) child(void)
{
	pthread_t t;
	pid_t g;
	int st;

	if (pthread_create(&t, NULL, tiny, NULL))
		_exit(10);
	g = fork();
	if (g < 0)
		_exit(11);
	if (g == 0)
		_exit(0);
	if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st))
		_exit(12);
	if (pthread_join(t, NULL))
		_exit(13);
	usleep(1000 + (getpid() % 3) * 1000);
	_exit(0);
}

static void reap_one(int flags, int *alive)
{
	int st;
	pid_t r = waitpid(-1, &st, flags);

	if (r <= 0)
		return;
	(*alive)--;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		if (!atomic_fetch_add(&nbad, 1))
			snprintf(badmsg, sizeof(badmsg),
				 "child %d ended with status 0x%x", r, st);
	}
}

static void *forker(void *arg)
{
	int alive = 0;
	pid_t pid;

	(void)arg;
	while (!atomic_load(&stop)) {
		pid = fork();
		if (pid < 0) {
			usleep(1000);
			continue;
		}
		if (pid == 0)
			child();
		alive++;
		atomic_fetch_add(&nforks, 1);
		while (alive >= MAX_KIDS)
			reap_one(0, &alive);
		reap_one(WNOHANG, &alive);
	}
	while (alive > 0)
		reap_one(0, &alive);
	return NULL;
}

static void *spawner(void *arg)
{
	pthread_t t[3];
	int i, n;

	(void)arg;
	while (!atomic_load(&stop)) {
		for (n = 0; n < 3; n++)
			if (pthread_create(&t[n], NULL, tiny, NULL))
				break;
		for (i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		atomic_fetch_add(&nthreads, n);
	}
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	sigset_t block, during;
	pthread_t f, s;
	int st, m;
	pid_t r;
	long forks_at_ready, threads_at_ready;

	setvbuf(stdout, NULL, _IONBF, 0);
	wl_own_session();

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction");
	sa.sa_handler = on_usr2;
	if (sigaction(SIGUSR2, &sa, NULL))
		wl_die("sigaction");
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &block, &during))
		wl_die("sigprocmask");
	sigdelset(&during, SIGUSR1);
	sigdelset(&during, SIGUSR2);

	if (pthread_create(&f, NULL, forker, NULL) ||
	    pthread_create(&s, NULL, spawner, NULL))
		wl_die("pthread_create");
	while (atomic_load(&nforks) < 20 || atomic_load(&nthreads) < 20)
		usleep(1000);
	forks_at_ready = atomic_load(&nforks);
	threads_at_ready = atomic_load(&nthreads);
	wl_ready();

	while (!got_usr1) {
		sigsuspend(&during);
		if (got_usr2) {
			got_usr2 = 0;
			printf("COUNT %ld\n", atomic_load(&nforks) + atomic_load(&nthreads));
		}
	}

	atomic_store(&stop, 1);
	pthread_join(f, NULL);
	pthread_join(s, NULL);
	printf("# %ld forks, %ld threads\n", atomic_load(&nforks),
	       atomic_load(&nthreads));

	m = wl_mark();
	if (atomic_load(&nforks) <= forks_at_ready)
		wl_fail("storm.forks", "%ld forks, %ld already at READY",
			atomic_load(&nforks), forks_at_ready);
	wl_verdict("storm.forks", m);
	m = wl_mark();
	if (atomic_load(&nthreads) <= threads_at_ready)
		wl_fail("storm.threads", "%ld threads, %ld already at READY",
			atomic_load(&nthreads), threads_at_ready);
	wl_verdict("storm.threads", m);
	m = wl_mark();
	if (atomic_load(&nbad))
		wl_fail("storm.children", "%ld children failed; first: %s",
			atomic_load(&nbad), badmsg);
	wl_verdict("storm.children", m);
	m = wl_mark();
	r = waitpid(-1, &st, WNOHANG);
	if (r >= 0 || errno != ECHILD)
		wl_fail("storm.nochildren", "waitpid(-1) = %d, want ECHILD", r);
	wl_verdict("storm.nochildren", m);
	return wl_done();
}
