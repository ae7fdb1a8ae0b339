// SPDX-License-Identifier: MIT
/*
 * wl_manyfds DIR NFILES NPIPES [NSOCKS]: a process holding NFILES open
 * files (each its own file in DIR, each at its own offset), NPIPES pipes
 * and NSOCKS unix stream socket pairs with data queued (both ways for the
 * sockets), and a child that inherited all of them.  Prints how long that
 * setup took (setup_seconds, the bench's baseline), then READY ROOT=pid;
 * on SIGUSR1 both check every offset, the parent every pipe's and
 * socket's bytes, and the
 * child checks that it shares the offsets with its parent.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "wl_common.h"

static volatile sig_atomic_t go;
static int nfiles, npipes, nsocks;
static int *fds, (*pipes)[2], (*socks)[2];
static char dir[512];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static size_t pipe_bytes(int i)
{
	return 512 + (size_t)i * 600;	/* up to ~60 KiB for 100 pipes */
}

static size_t sock_bytes(int i, int end)
{
	return end ? 50 + (size_t)i % 13 : 200 + (size_t)i % 300;
}

static void setup_socks(void)
{
	char buf[1024];
	int i, e;

	socks = calloc(nsocks + 1, sizeof(*socks));
	if (!socks)
		wl_die("calloc");
	for (i = 0; i < nsocks; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, socks[i]))
			wl_die("socketpair");
		for (e = 0; e < 2; e++) {
			wl_fill(buf, sizeof(buf), i * 2 + e);
			if (write(socks[i][e], buf, sock_bytes(i, e)) !=
			    (ssize_t)sock_bytes(i, e))
				wl_die("write socket");
		}
	}
}

static int check_socks(void)
{
	char buf[1024], want[1024];
	int i, e, bad = 0;

	for (i = 0; i < nsocks; i++)
		for (e = 0; e < 2; e++) {
			/* what end e sent waits at the other end */
			wl_fill(want, sizeof(want), i * 2 + e);
			if (read(socks[i][!e], buf, sizeof(buf)) !=
			    (ssize_t)sock_bytes(i, e) ||
			    memcmp(buf, want, sock_bytes(i, e)))
				bad++;
		}
	return bad;
}

static void setup(const char *dir)
{
	char path[600], buf[65536];
	int i;

	fds = calloc(nfiles, sizeof(int));
	pipes = calloc(npipes, sizeof(*pipes));
	if (!fds || !pipes)
		wl_die("calloc");
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fds[i] < 0)
			wl_die("open %s", path);
		if (lseek(fds[i], i, SEEK_SET) != i)
			wl_die("lseek");
	}
	for (i = 0; i < npipes; i++) {
		if (pipe(pipes[i]))
			wl_die("pipe");
		wl_fill(buf, sizeof(buf), i);
		if (write(pipes[i][1], buf, pipe_bytes(i)) != (ssize_t)pipe_bytes(i))
			wl_die("write pipe");
	}
	setup_socks();
}

/* the parent reads the pipes; the child only the offsets */
static int check(bool parent)
{
	char buf[65536], want[65536];
	int i, bad = 0;

	for (i = 0; i < nfiles; i++)
		if (lseek(fds[i], 0, SEEK_CUR) != (parent ? i : i + 1))
			bad++;
	for (i = 0; parent && i < npipes; i++) {
		wl_fill(want, sizeof(want), i);
		if (read(pipes[i][0], buf, sizeof(buf)) != (ssize_t)pipe_bytes(i) ||
		    memcmp(buf, want, pipe_bytes(i)))
			bad++;
	}
	return bad + (parent ? check_socks() : 0);
}

static int root(void)
{
	double t0 = wl_now(CLOCK_MONOTONIC);
	int i, st, bad, ready[2];
	pid_t kid;
	char c;

	setsid();
	setup(dir);
	printf("setup_seconds %.4f\n", wl_now(CLOCK_MONOTONIC) - t0);
	if (pipe(ready))
		wl_die("pipe");
	kid = fork();
	if (!kid) {
		while (!go)
			pause();
		/* the parent moved every offset by one: shared descriptions */
		if (read(ready[0], &c, 1) != 1)
			_exit(3);
		_exit(check(false) ? 1 : 0);
	}
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	bad = check(true);
	for (i = 0; i < nfiles; i++)
		lseek(fds[i], 1, SEEK_CUR);
	kill(kid, SIGUSR1);
	if (write(ready[1], "g", 1) != 1)
		bad++;
	if (waitpid(kid, &st, 0) != kid || st)
		bad++;
	printf("%s manyfds: %d files, %d pipes, %d socket pairs, %d bad\n",
	       bad ? "FAIL" : "PASS", nfiles, npipes, nsocks, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	int need;

	if (argc != 4 && argc != 5)
		wl_die("usage: wl_manyfds DIR NFILES NPIPES [NSOCKS]");
	nfiles = atoi(argv[2]);
	npipes = atoi(argv[3]);
	nsocks = argc > 4 ? atoi(argv[4]) : 0;
	need = nfiles + 2 * npipes + 2 * nsocks + 64;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if ((rlim_t)need > rl.rlim_max || setrlimit(RLIMIT_NOFILE, &rl))
		wl_die("need %d descriptors", need);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	return wl_under_subreaper(root);
}
