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
 * With CHURN 1, it also remakes one of 8 small mappings every 10 ms in
 * turn, at the same address: by mmap(MAP_FIXED) over it (a new mapping
 * in the old one's place, which dirty tracking must not take for the
 * one it registered) or by MADV_DONTNEED (its pages dropped, then
 * written again), each filled with a pattern of its generation; on
 * SIGUSR1 every word of them is checked too.
 *
 * usage: wl_writer MIB KIBS [CHURN]
 */
#include <signal.h>
#include <stdbool.h>
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

#define SLOTS		8
#define SLOT_LEN	(64 * 4096)

static uint64_t slot_gen[SLOTS];

static uint64_t pat(uint64_t gen, size_t slot, size_t word)
{
	return gen * 0x100000001b3ULL + slot * 0x9e3779b9ULL + word;
}

static int slot_fill(char *area, size_t slot, uint64_t gen, bool fixed)
{
	uint64_t *m = (uint64_t *)(area + slot * SLOT_LEN);
	size_t i;

	if (fixed) {
		if (mmap(m, SLOT_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != m)
			return -1;
	} else if (madvise(m, SLOT_LEN, MADV_DONTNEED)) {
		return -1;
	}
	for (i = 0; i < SLOT_LEN / 8; i++)
		m[i] = pat(gen, slot, i);
	slot_gen[slot] = gen;
	return 0;
}

static int slots_check(const char *area)
{
	size_t s, i;

	for (s = 0; s < SLOTS; s++) {
		const uint64_t *m = (const uint64_t *)(area + s * SLOT_LEN);

		for (i = 0; i < SLOT_LEN / 8; i++)
			if (m[i] != pat(slot_gen[s], s, i)) {
				printf("FAIL: churned mapping %zu (generation %lu) differs at word %zu\n",
				       s, slot_gen[s], i);
				return 1;
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024;
	size_t kibs = argc > 2 ? strtoul(argv[2], NULL, 0) : 10240;
	bool churn = argc > 3 && atoi(argv[3]);
	char *area = NULL;
	uint64_t ticks = 0, gen = 0;
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
	if (churn) {
		area = mmap(NULL, SLOTS * SLOT_LEN, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED)
			return 1;
		for (i = 0; i < SLOTS; i++)
			if (slot_fill(area, i, ++gen, false))
				return 1;
	}
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
		/* a mapping remade every 10th tick, fixed and zapped in turn */
		if (churn && ++ticks % 10 == 0 &&
		    slot_fill(area, gen % SLOTS, gen + 1, gen / SLOTS % 2)) {
			printf("FAIL: remaking a mapping\n");
			return 1;
		}
		if (churn && ticks % 10 == 0)
			gen++;
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
	if (churn && slots_check(area))
		return 1;
	printf("PASS %lu writes%s\n", done, churn ? ", churned mappings" : "");
	return 0;
}
