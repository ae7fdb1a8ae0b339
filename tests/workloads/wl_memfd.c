// SPDX-License-Identifier: MIT
/*
 * A memfd mapped MAP_SHARED by a parent and its child, its fd kept open
 * by both: after the restore the child increments a counter in it, and
 * the parent checks that it sees that, that the data written before the
 * checkpoint is there, that the mapping is still a memfd of the same
 * name, and that writing through the fd shows in the mapping (the fd and
 * the mapping are one object again).  A second memfd, only held by fd,
 * is sealed against writes and resizing: the seals and its bytes must
 * be as they were, and a write refused.
 *
 * As in wl_tree, the process started is a subreaper wrapper around the
 * root, which prints "READY ROOT=pid".
 * usage: wl_memfd
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl_common.h"

#define SIZE (1 << 20)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* a memfd holding a script, only held by fd (zdtm memfd04) */
static int exec_memfd(void)
{
	static const char script[] = "#!/bin/true\n";
	int fd = memfd_create("crfs-wl-exec", 0);

	if (fd < 0 || write(fd, script, sizeof(script) - 1) < 0)
		return -1;
	return fd;
}

/* it can be executed: no one holds it open for writing but through the
 * memfd_create() file (ETXTBSY otherwise) */
static int exec_ok(int fd)
{
	char *const argv[] = { "true", NULL }, *const envp[] = { NULL };
	int st;
	pid_t p = fork();

	if (!p) {
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(100 + errno);
	}
	return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) &&
	       !WEXITSTATUS(st);
}

static int named(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/memfd:crfs-wl-memfd") && strstr(line, "rw-s"))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

static int sealed_memfd(void)
{
	int fd = memfd_create("crfs-wl-sealed", MFD_ALLOW_SEALING);

	if (fd < 0 || write(fd, "sealed bytes", 12) != 12 ||
	    fcntl(fd, F_ADD_SEALS, SEALS))
		wl_die("sealed memfd");
	return fd;
}

static int seals_kept(int fd)
{
	char b[16] = "";

	return fcntl(fd, F_GET_SEALS) == SEALS &&
	       pread(fd, b, sizeof(b), 0) == 12 && !memcmp(b, "sealed bytes", 12) &&
	       pwrite(fd, "x", 1, 0) < 0 && errno == EPERM;
}

static int root(void)
{
	int fd, st, ok, sfd = sealed_memfd(), xfd = exec_memfd();
	long *m;
	pid_t c;

	setpgid(0, 0);
	fd = memfd_create("crfs-wl-memfd", 0);
	if (fd < 0 || ftruncate(fd, SIZE))
		return 2;
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	m[0] = 41;
	m[SIZE / 8 - 1] = 0x5eed;
	c = fork();
	if (!c) {
		while (!go)
			pause();
		__atomic_add_fetch(&m[0], 1, __ATOMIC_SEQ_CST);
		exit(m[SIZE / 8 - 1] == 0x5eed && named() ? 0 : 1);
	}
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	kill(c, SIGUSR1);
	if (waitpid(c, &st, 0) != c)
		st = -1;
	{
		long v = 0x1234567;

		if (pwrite(fd, &v, sizeof(v), SIZE / 2) != sizeof(v))
			v = 0;
	}
	ok = m[0] == 42 && m[SIZE / 8 - 1] == 0x5eed && named() && st == 0 &&
	     m[SIZE / 16] == 0x1234567 && seals_kept(sfd) && exec_ok(xfd);
	printf("%s memfd: counter %ld, child status %d, named %d, fd and mapping one %d, seals %d, executable %d\n",
	       ok ? "PASS" : "FAIL", m[0], st, named(), m[SIZE / 16] == 0x1234567,
	       seals_kept(sfd), exec_ok(xfd));
	return !ok;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
	return wl_under_subreaper(root);
}
