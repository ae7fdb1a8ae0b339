// SPDX-License-Identifier: MIT
/*
 * Private anonymous memory for a lazy (post-copy) restore: four mappings
 * of patterned pages (WL_LAZY_MIB in all, 256 by default).  After SIGUSR1
 * (restored with --lazy, the handler still filling) it checks, each
 * against the pattern recomputed from code:
 *   syscall   write() from untouched lazy memory into a pipe (a fault
 *             taken by the kernel, not by us) reads back the pattern
 *   fork      a child forked before we touch mapping 1 sees all of it
 *   dontneed  madvise(DONTNEED) of half of mapping 2: zeros there, the
 *             pattern in the other half
 *   mremap    mapping 3 moved elsewhere keeps its pattern there
 *   munmap    a quarter of mapping 0 unmapped; the rest is intact
 *   all       every page of mapping 1 in this process
 * As in wl_tree, the process started is a subreaper wrapper around the
 * root, which prints "READY ROOT=pid".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl_common.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void check_range(const char *name, const char *p, size_t len,
			uint64_t seed)
{
	size_t bad = wl_check(p, len, seed);

	if (bad == (size_t)-1)
		wl_pass(name);
	else
		wl_fail(name, "pattern differs at byte %zu of %zu", bad, len);
}

static void via_syscall(const char *p, size_t len, uint64_t seed)
{
	static char got[1 << 16];
	int pp[2];

	if (pipe(pp) || write(pp[1], p, sizeof(got)) != (ssize_t)sizeof(got) ||
	    read(pp[0], got, sizeof(got)) != (ssize_t)sizeof(got)) {
		wl_fail("syscall", "write from lazy memory to a pipe: %m");
		return;
	}
	close(pp[0]);
	close(pp[1]);
	(void)len;
	check_range("syscall", got, sizeof(got), seed);
}

static int root(void)
{
	const char *mib = getenv("WL_LAZY_MIB");
	size_t len = (mib ? strtoul(mib, NULL, 0) : 256) << 18, q = len / 4;
	char *m[4], *to;
	pid_t c;
	int i, st;

	setpgid(0, 0);
	for (i = 0; i < 4; i++) {
		m[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m[i] == MAP_FAILED)
			wl_die("mmap");
		wl_fill(m[i], len, i + 1);
	}
	/* the mremap target: reserved now, so the address is ours */
	to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		wl_die("mmap");
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	via_syscall(m[0], len, 1);
	fflush(stdout);
	c = fork();
	if (c == 0) {
		check_range("fork", m[1], len, 2);
		exit(wl_done());
	}
	if (madvise(m[2] + len / 2, len / 2, MADV_DONTNEED))
		wl_fail("dontneed", "madvise: %m");
	for (size_t k = len / 2; k <= len; k++)
		if (k == len) {
			wl_pass("dontneed");
		} else if (m[2][k]) {
			wl_fail("dontneed", "byte %zu is %d, not 0", k, m[2][k]);
			break;
		}
	check_range("dontneed-kept", m[2], len / 2, 3);
	if (mremap(m[3], len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
		wl_fail("mremap", "mremap: %m");
	else
		check_range("mremap", to, len, 4);
	if (munmap(m[0] + 3 * q, q))
		wl_fail("munmap", "munmap: %m");
	check_range("munmap", m[0], 3 * q, 1);
	check_range("all", m[1], len, 2);
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("fork-child", "status %d", st);
	return wl_done();
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
	return wl_under_subreaper(root);
}
