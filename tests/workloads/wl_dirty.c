// SPDX-License-Identifier: MIT
/*
 * Workload for the incremental and rsync figures: MIB MiB of random
 * memory.  Prints "READY" once set up.  Each SIGUSR2 rewrites PERMILLE/1000
 * of its pages (a fixed pseudo-random choice per round) and prints
 * "DIRTIED ROUND N".  With ZAP, each round first drops ZAP pages of its
 * own range (round N: pages N*2*ZAP..) with MADV_DONTNEED, so they read as
 * zeros: an incremental image whose parent holds those pages must restore
 * them as zeros, not as the parent's bytes.  SIGUSR1 checks every byte
 * against the checksum kept after the last change, prints PASS or FAIL
 * and exits.
 *
 * usage: wl_dirty MIB [PERMILLE [ZAP]]
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static volatile sig_atomic_t usr1, usr2;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		usr2++;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	size_t permille = argc > 2 ? strtoul(argv[2], NULL, 0) : 10;
	size_t zap = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	size_t len = mib << 20, npages = len / 4096, i, n, round = 0, done = 0;
	uint64_t *mem, seed = 88172645463325252ULL, want;
	sigset_t all, old;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (i = 0; i < len / 8; i++)
		mem[i] = rnd(&seed);
	want = sum(mem, len / 8);
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		while (!usr1 && done == (size_t)usr2)
			sigsuspend(&old);
		if (usr1)
			break;
		done++;
		if (zap && (done + 1) * 2 * zap <= npages &&
		    madvise((char *)mem + done * 2 * zap * 4096, zap * 4096,
			    MADV_DONTNEED)) {
			printf("FAIL: madvise DONTNEED: %m\n");
			return 1;
		}
		n = npages * permille / 1000;
		for (i = 0; i < n; i++)
			mem[(rnd(&seed) % npages) * 512 + rnd(&seed) % 512] =
				rnd(&seed);
		want = sum(mem, len / 8);
		printf("DIRTIED ROUND %zu %zu\n", ++round, n);
		fflush(stdout);
	}
	if (sum(mem, len / 8) != want) {
		printf("FAIL: memory differs after restore\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
