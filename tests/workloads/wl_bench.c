// SPDX-License-Identifier: MIT
/*
 * Benchmark workload: NPROC processes (the root and its children) with MIB
 * MiB of random memory each, the root with NTHREADS extra threads.  Prints
 * the memcpy baseline for MIB, then "READY ROOT=pid" once everything is set
 * up, waits for SIGUSR1 and checks every byte of every process against the
 * checksum taken before the wait.
 *
 * With NPROC > 1 the process started is a child-subreaper wrapper around
 * the tree's root, so that children orphaned by a kill are reaped at once
 * and their pids are free for the restore.
 *
 * usage: wl_bench MIB [NPROC [NTHREADS]]
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t *fill(size_t len, uint64_t seed)
{
	uint64_t *buf, x = seed;
	size_t i;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		exit(2);
	/* WL_BENCH_THP=1: the memory is MADV_HUGEPAGE, as a JVM heap is */
	if (getenv("WL_BENCH_THP") && madvise(buf, len, MADV_HUGEPAGE))
		exit(2);
	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
	return buf;
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	while (!go)
		usleep(10000);
	return NULL;
}

static double memcpy_baseline(const uint64_t *buf, size_t len)
{
	uint64_t *copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t;

	if (copy == MAP_FAILED)
		exit(2);
	memset(copy, 1, len);	/* time the copy, not the page faults */
	t = now();
	memcpy(copy, buf, len);
	t = now() - t;
	munmap(copy, len);
	return t;
}

static int child(size_t len, int idx, volatile int *ready)
{
	uint64_t *buf = fill(len, 0x9e3779b97f4a7c15ULL + idx);
	uint64_t want = sum(buf, len / 8);

	__atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
	wait_usr1();
	return sum(buf, len / 8) == want ? 0 : 1;
}

static int root(size_t mib, int nproc, int nthreads)
{
	size_t len = mib << 20;
	volatile int *ready;
	pid_t kids[256];
	pthread_t th[64];
	uint64_t *buf, want;
	int i, st, bad = 0;

	ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (i = 1; i < nproc; i++) {
		kids[i] = fork();
		if (!kids[i])
			_exit(child(len, i, ready));
	}
	buf = fill(len, 0x9e3779b97f4a7c15ULL);
	printf("memcpy_seconds %.4f\n", memcpy_baseline(buf, len));
	want = sum(buf, len / 8);
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, idle_thread, NULL);
	while (*ready < nproc - 1)
		usleep(1000);
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	wait_usr1();
	for (i = 1; i < nproc; i++)
		kill(kids[i], SIGUSR1);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (i = 1; i < nproc; i++)
		if (waitpid(kids[i], &st, 0) != kids[i] || st)
			bad++;
	if (sum(buf, len / 8) != want)
		bad++;
	if (bad) {
		printf("FAIL bench: %d of %d processes lost memory\n", bad, nproc);
		return 1;
	}
	printf("PASS bench: %d x %zu MiB intact, %d threads\n", nproc, mib,
	       nthreads);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	int nproc = argc > 2 ? atoi(argv[2]) : 1;
	int nthreads = argc > 3 ? atoi(argv[3]) : 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t r;
	int st = 0;

	if (nproc < 1 || nproc > 256 || nthreads < 0 || nthreads > 64)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	if (nproc == 1)
		return root(mib, 1, nthreads);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = fork();
	if (!r) {
		setpgid(0, 0);
		_exit(root(mib, nproc, nthreads));
	}
	/* reap the root and every orphan it leaves behind */
	for (;;) {
		int s;
		pid_t w = waitpid(-1, &s, 0);

		if (w < 0)
			break;
		if (w == r)
			st = s;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
