// SPDX-License-Identifier: MIT
/*
 * Workload for pre-copy migration: MIB MiB of random memory, rewritten
 * all the time at KIBS KiB/s (one word in each of KIBS/4 pages a second,
 * in a pseudo-random order, a little every millisecond).  Prints "READY".
 * On SIGUSR1 it stops writing, makes the memory again from the seeds and
 * the number of writes done (all of which are in its memory, so a
 * restored copy replays to the state it was checkpointed in), compares
 * every byte, prints PASS or FAIL and exits.  Each pause of its 1 ms
 * loop longer than 5 ms (a stop, a page fault held) is printed as it
 * ends: "GAP MS" (a tree killed while frozen never prints its last).
 *
 * usage: wl_writer MIB KIBS
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(uint64_t *mem, size_t words)
{
	uint64_t seed = 88172645463325252ULL;
	size_t i;

	for (i = 0; i < words; i++)
		mem[i] = rnd(&seed);
}

/* write number n of the sequence: its page and word come from wseed */
static void write_one(uint64_t *mem, size_t npages, uint64_t *wseed)
{
	uint64_t page = rnd(wseed) % npages, word = rnd(wseed) % 512;

	mem[page * 512 + word] = rnd(wseed);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024;
	size_t kibs = argc > 2 ? strtoul(argv[2], NULL, 0) : 10240;
	size_t len = mib << 20, npages = len / 4096, words = len / 8, i;
	struct timespec ms = { 0, 1000000 }, t0, now, last;
	double gap;
	uint64_t *mem, *check, wseed = 0x9e3779b97f4a7c15ULL, w;
	uint64_t done = 0, due, skew = 0;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	fill(mem, words);
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = t0;
	while (!usr1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		gap = (now.tv_sec - last.tv_sec) * 1e3 +
		      (now.tv_nsec - last.tv_nsec) / 1e6;
		last = now;
		if (gap > 5) {
			printf("GAP %.1f\n", gap);
			fflush(stdout);
		}
		/* pages due by now at KIBS/4 a second; catches up after a stop */
		due = ((now.tv_sec - t0.tv_sec) * 1000 +
		       (now.tv_nsec - t0.tv_nsec) / 1000000) * (kibs / 4) / 1000;
		/* after a long stop (a freeze, a restore) no burst: the lost
		 * time is skipped, every write counted is one made */
		if (due - skew > done + kibs / 4)
			skew = due - done - kibs / 4;
		due -= skew;
		while (done < due) {
			write_one(mem, npages, &wseed);
			done++;
		}
		nanosleep(&ms, NULL);
	}
	check = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (check == MAP_FAILED)
		return 1;
	fill(check, words);
	w = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < done; i++)
		write_one(check, npages, &w);
	if (w != wseed) {
		printf("FAIL: %lu writes replay to another seed\n", done);
		return 1;
	}
	for (i = 0; i < words; i++)
		if (mem[i] != check[i]) {
			printf("FAIL: word %zu differs after %lu writes\n", i,
			       done);
			return 1;
		}
	printf("PASS %lu writes\n", done);
	return 0;
}
