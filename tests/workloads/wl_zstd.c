// SPDX-License-Identifier: MIT
/*
 * wl_zstd MIB [RANDOM_MIB]: memory for pages.zst (t_zstd, the zstd bench):
 * MIB MiB of which the first half are pages written and then zeroed
 * (present, but all zero: never stored compressed) and the second half
 * text (words from a fixed list: compressible); then RANDOM_MIB (default
 * MIB / 4) of random bytes (not compressible).  READY; on SIGUSR1 every
 * byte is checked against what the generators give again.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>

#include "wl_common.h"

#define PAGE 4096UL

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static const char *const words[] = {
	"checkpoint ", "restore ", "memory ", "page ", "frozen ", "the ",
	"process ", "of ", "a ", "container ", "zstd ", "frame ", "and ",
	"kernel ", "copy ", "tree ", "\n",
};

/* page i of the text: words chosen by a counter, so it can be made again */
static void text_page(char *pg, size_t i)
{
	size_t at = 0, n = sizeof(words) / sizeof(words[0]), k = 0, len;
	const char *w;

	while (at < PAGE) {
		w = words[wl_mix(i * 7919 + k++) % n];
		len = strlen(w);
		if (len > PAGE - at)
			len = PAGE - at;
		memcpy(pg + at, w, len);
		at += len;
	}
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap %zu", len);
	return p;
}

static void check_zero(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i]) {
			wl_fail("zero_half", "byte %zu is 0x%02x", i,
				(unsigned char)p[i]);
			return;
		}
	wl_pass("zero_half");
}

static void check_text(const char *p, size_t len)
{
	char pg[PAGE];
	size_t i;

	for (i = 0; i < len / PAGE; i++) {
		text_page(pg, i);
		if (memcmp(pg, p + i * PAGE, PAGE)) {
			wl_fail("text_half", "page %zu differs", i);
			return;
		}
	}
	wl_pass("text_half");
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 8;
	size_t rnd = argc > 2 ? strtoul(argv[2], NULL, 0) : mib / 4;
	size_t len = mib << 20, half = len / 2, i, off;
	char *mem = map(len), *r = rnd ? map(rnd << 20) : NULL;
	sigset_t set, old;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < half; i += PAGE) {	/* present, then zero */
		mem[i] = 1;
		mem[i] = 0;
	}
	for (i = 0; i < (len - half) / PAGE; i++)
		text_page(mem + half + i * PAGE, i);
	if (r)
		wl_fill(r, rnd << 20, 42);
	printf("zstd: %zu MiB half zero half text, %zu MiB random\n", mib, rnd);
	wl_ready();
	while (!go)
		sigsuspend(&old);
	check_zero(mem, half);
	check_text(mem + half, len - half);
	if (r) {
		off = wl_check(r, rnd << 20, 42);
		if (off != (size_t)-1)
			wl_fail("random", "first difference at byte %zu", off);
		else
			wl_pass("random");
	}
	return wl_done();
}
