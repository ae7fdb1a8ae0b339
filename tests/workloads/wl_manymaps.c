// SPDX-License-Identifier: MIT
/*
 * wl_manymaps DIR: 30,000 one-page mappings side by side, more than
 * RLIMIT_NOFILE allows descriptors, cycling through three kinds: a private
 * writable mapping of file A (some pages written: copied on write), a
 * private anonymous page (some written), a shared writable mapping of
 * file B.  No descriptor stays open.  READY; on SIGUSR1 it checks the
 * number of mappings, each one's protection, offset and contents, and
 * that writes through B's mappings still reach the file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "wl_common.h"

#define PAGE 4096UL
#define NMAPS 30000
#define A_PAGES 16
#define B_PAGES 4

static char *base;
static char path_a[4096], path_b[4096];
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void make_file(const char *path, int pages, uint64_t seed)
{
	char buf[PAGE];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), i;

	if (fd < 0)
		wl_die("create %s", path);
	for (i = 0; i < pages; i++) {
		wl_fill(buf, PAGE, seed + i);
		if (write(fd, buf, PAGE) != PAGE)
			wl_die("write %s", path);
	}
	close(fd);
}

/* which kind page i is, and what it maps */
static int kind(long i)
{
	return i % 3;
}

static long file_page(long i)
{
	return kind(i) == 0 ? (i / 3) % A_PAGES : (i / 3) % B_PAGES;
}

static bool written(long i)
{
	return (i / 3) % 8 == 0;
}

static void map_all(void)
{
	int fa = open(path_a, O_RDONLY | O_CLOEXEC);
	int fb = open(path_b, O_RDWR | O_CLOEXEC);
	long i;
	char *p;

	if (fa < 0 || fb < 0)
		wl_die("open files");
	base = mmap(NULL, NMAPS * PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		wl_die("reserve");
	for (i = 0; i < NMAPS; i++) {
		p = base + i * PAGE;
		if (kind(i) == 0)
			p = mmap(p, PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_FIXED, fa, file_page(i) * PAGE);
		else if (kind(i) == 1)
			p = mmap(p, PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
		else
			p = mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 fb, file_page(i) * PAGE);
		if (p == MAP_FAILED)
			wl_die("mmap %ld", i);
		/* private pages get a word of their own, B's pages share it */
		if (kind(i) != 2 && written(i))
			((uint64_t *)p)[i % 512] = wl_mix(i);
	}
	close(fa);
	close(fb);
}

static uint64_t want_word(long i, long w)
{
	uint64_t buf[PAGE / 8];

	if (kind(i) != 2 && written(i) && w == i % 512)
		return wl_mix(i);
	if (kind(i) == 1)
		return 0;
	wl_fill(buf, PAGE, (kind(i) == 0 ? 100 : 200) + file_page(i));
	return buf[w];
}

static void check_contents(void)
{
	int mark = wl_mark();
	long i, w, bad = 0;

	for (i = 0; i < NMAPS && bad < 5; i++) {
		const uint64_t *p = (const uint64_t *)(base + i * PAGE);

		for (w = 0; w < (long)(PAGE / 8); w += 61)
			if (p[w] != want_word(i, w)) {
				wl_fail("contents", "page %ld (kind %d) word %ld: %#lx, want %#lx",
					i, kind(i), w, p[w], want_word(i, w));
				bad++;
				break;
			}
		if (!bad && p[i % 512] != want_word(i, i % 512))
			wl_fail("contents", "page %ld (kind %d): written word lost",
				i, kind(i)), bad++;
	}
	wl_verdict("contents", mark);
}

/* every page its own mapping again, each with its protection and offset */
static void check_maps(void)
{
	unsigned long s, e, off, at = (unsigned long)base, n = 0;
	char line[512], perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int mark = wl_mark();
	long i;

	if (!f)
		wl_die("open maps");
	while (fgets(line, sizeof(line), f) && n < NMAPS) {
		if (sscanf(line, "%lx-%lx %7s %lx", &s, &e, perms, &off) != 4 ||
		    s < at)
			continue;
		i = (s - (unsigned long)base) / PAGE;
		if (s != at || e != s + PAGE) {
			wl_fail("maps", "page %ld: mapping %lx-%lx, want %lx-%lx",
				i, s, e, at, at + PAGE);
			break;
		}
		if (strcmp(perms, kind(i) == 2 ? "rw-s" : "rw-p") ||
		    (kind(i) != 1 && off != (unsigned long)file_page(i) * PAGE) ||
		    (kind(i) != 1 && !strstr(line, kind(i) ? path_b : path_a))) {
			wl_fail("maps", "page %ld: %s", i, line);
			break;
		}
		at = e;
		n++;
	}
	fclose(f);
	if (n != NMAPS && wl_nbad == mark)
		wl_fail("maps", "%lu of %d mappings", n, NMAPS);
	wl_verdict("maps", mark);
}

/* B's mappings are the file: a write through one reaches the file */
static void check_shared(void)
{
	uint64_t v = 0, want = 0x5eed5eed;
	int fd = open(path_b, O_RDONLY | O_CLOEXEC);

	((uint64_t *)(base + 2 * PAGE))[7] = want;
	if (fd < 0 || pread(fd, &v, 8, file_page(2) * PAGE + 56) != 8 ||
	    v != want)
		wl_fail("shared", "file B reads %#lx, want %#lx", v, want);
	else
		wl_pass("shared");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	if (argc != 2)
		wl_die("usage: wl_manymaps DIR");
	snprintf(path_a, sizeof(path_a), "%s/a", argv[1]);
	snprintf(path_b, sizeof(path_b), "%s/b", argv[1]);
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max >= NMAPS)
		wl_die("RLIMIT_NOFILE hard limit %lu: the test needs it below %d",
		       (unsigned long)rl.rlim_max, NMAPS);
	make_file(path_a, A_PAGES, 100);
	make_file(path_b, B_PAGES, 200);
	map_all();
	wl_ready();
	while (!go)
		pause();
	check_maps();
	check_contents();
	check_shared();
	return wl_done();
}
