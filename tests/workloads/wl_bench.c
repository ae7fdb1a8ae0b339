// SPDX-License-Identifier: MIT
/*
 * Benchmark workload: N MiB of random memory.  Prints the memcpy baseline
 * for that size, READY, then waits for SIGUSR1 and checks every byte
 * against the checksum taken before the wait.
 *
 * usage: wl_bench MIB
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

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

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t len = mib << 20, n = len / 8, i;
	uint64_t *buf, *copy, x = 0x9e3779b97f4a7c15ULL, want;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t none;
	double t;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || copy == MAP_FAILED)
		return 1;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x;
	}
	memset(copy, 1, len);	/* fault it in: time the copy, not the faults */
	t = now();
	memcpy(copy, buf, len);
	printf("memcpy_seconds %.4f\n", now() - t);
	munmap(copy, len);
	want = sum(buf, n);
	sigaction(SIGUSR1, &sa, NULL);
	printf("READY\n");
	fflush(stdout);
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	if (sum(buf, n) != want) {
		printf("FAIL bench: memory checksum differs\n");
		return 1;
	}
	printf("PASS bench: %zu MiB intact\n", mib);
	return 0;
}
