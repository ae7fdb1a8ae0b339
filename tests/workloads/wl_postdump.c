// SPDX-License-Identifier: MIT
/*
 * wl_postdump: keeps writing while a post-dump snapshot is copied.
 *
 * 256 MiB of private memory (WL_MIB to change), 64 pages of shared
 * anonymous memory and 64 pages marked MADV_WIPEONFORK (which a fork does
 * not keep).  Every page holds a base pattern; its first 64 bytes say
 * which generation last wrote it.  The writer goes over all pages again
 * and again, generation g after g, and records (g, pos) in one store
 * before each page: pages before pos carry g, pages after it g - 1, page
 * pos either (it may be half written when the snapshot is taken).  Nothing else changes them,
 * so memory and (g, pos) describe one instant only if the snapshot does.
 *
 * SIGUSR1 stops the writer, and the process checks that memory matches
 * the (g, pos) it holds: after a restore, the snapshot's.
 *
 * With "root" as argument it runs under a child subreaper (the root of
 * the tree is its child), which reaps every process left behind.
 */
#include <signal.h>
#include <sys/mman.h>

#include "wl_common.h"

#define PAGE 4096
#define HEAD 8			/* words of a page that carry the generation */
#define NSMALL 64
#define BASE 0x5eed

static volatile sig_atomic_t go;
/* the writer's progress, one store: generation << 32 | page in work */
static volatile uint64_t state;
static size_t npages;
static char *big, *shared, *wipe;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t head_word(uint64_t g, size_t page, int k)
{
	return wl_mix((g << 40) ^ ((uint64_t)page << 8) ^ k);
}

static void write_head(char *p, uint64_t g, size_t page)
{
	volatile uint64_t *w = (volatile uint64_t *)p;
	int k;

	for (k = 0; k < HEAD; k++)
		w[k] = head_word(g, page, k);
}

/* 0 if the page's head is generation g (or, if either, g or g - 1) */
static int head_ok(const char *p, uint64_t g, size_t page, int either)
{
	const uint64_t *w = (const uint64_t *)p;
	int k;

	for (k = 0; k < HEAD; k++)
		if (w[k] != head_word(g, page, k) &&
		    !(either && g && w[k] == head_word(g - 1, page, k)))
			return -1;
	return 0;
}

static void write_page(size_t i, uint64_t g)
{
	write_head(big + i * PAGE, g, i);
	if (i < NSMALL) {
		write_head(shared + i * PAGE, g, i);
		write_head(wipe + i * PAGE, g, i);
	}
}

static void check_area(const char *name, char *area, size_t n, uint64_t g,
		       uint64_t at)
{
	int mark = wl_mark();
	size_t i, off;

	for (i = 0; i < n; i++) {
		uint64_t want = i < at ? g : (g ? g - 1 : 0);

		if (head_ok(area + i * PAGE, i == at ? g : want, i, i == at)) {
			wl_fail(name, "page %zu: head is not generation %llu (snapshot at gen %llu pos %llu)",
				i, (unsigned long long)want,
				(unsigned long long)g, (unsigned long long)at);
			break;
		}
		off = wl_check(area + i * PAGE + HEAD * 8, PAGE - HEAD * 8,
			       BASE + i);
		if (off != (size_t)-1) {
			wl_fail(name, "page %zu: base pattern differs at %zu",
				i, off);
			break;
		}
	}
	wl_verdict(name, mark);
}

static void *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap %zu", len);
	return p;
}

static int run(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	const char *mib = getenv("WL_MIB");
	uint64_t g;
	size_t i;

	wl_own_session();
	npages = (mib ? strtoul(mib, NULL, 10) : 256) * 256;
	big = map(npages * PAGE, MAP_PRIVATE);
	shared = map(NSMALL * PAGE, MAP_SHARED);
	wipe = map(NSMALL * PAGE, MAP_PRIVATE);
	if (madvise(wipe, NSMALL * PAGE, MADV_WIPEONFORK))
		wl_die("MADV_WIPEONFORK");
	for (i = 0; i < npages; i++) {
		wl_fill(big + i * PAGE + HEAD * 8, PAGE - HEAD * 8, BASE + i);
		if (i < NSMALL) {
			wl_fill(shared + i * PAGE + HEAD * 8, PAGE - HEAD * 8,
				BASE + i);
			wl_fill(wipe + i * PAGE + HEAD * 8, PAGE - HEAD * 8,
				BASE + i);
		}
		write_page(i, 0);
	}
	sigaction(SIGUSR1, &sa, NULL);
	state = 1ull << 32;
	wl_ready();
	for (g = 1; !go; g++) {
		for (i = 0; i < npages && !go; i++) {
			state = g << 32 | i;
			write_page(i, g);
		}
		if (!go)
			state = g << 32 | npages;
	}
	g = state >> 32;
	i = state & 0xffffffff;
	printf("snapshot state: generation %llu, page %zu\n",
	       (unsigned long long)g, i);
	check_area("private", big, npages, g, i);
	check_area("shared", shared, NSMALL, g, i);
	check_area("wipeonfork", wipe, NSMALL, g, i);
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "root"))
		return wl_under_subreaper(run);
	return run();
}
