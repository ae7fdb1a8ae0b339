// SPDX-License-Identifier: MIT
/*
 * wl_leases DIR: file leases (F_SETLEASE): a read lease on a file open
 * read-only, breaking with SIGIO, and a write lease on a file open
 * read-write whose break signal was set with F_SETSIG.  READY; on SIGUSR1
 * F_GETLEASE must say the same for each, F_GETOWN name us, and each
 * lease must still work: an open that conflicts with it fails with
 * EWOULDBLOCK (O_NONBLOCK) and we get the break signal for that fd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define BREAK_SIG (SIGRTMIN + 3)

static volatile sig_atomic_t go, sigio_fd = -1, rt_fd = -1;
static char rpath[4096], wpath[4096];
static int rfd, wfd;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_break(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* plain SIGIO (no F_SETSIG) carries no si_fd: only rfd sends it */
	if (sig == SIGIO)
		sigio_fd = rfd;
	else
		rt_fd = si->si_fd;
}

static int open_leased(const char *path, int flags, int lease)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || write(fd, "lease", 5) != 5)
		wl_die("create %s", path);
	close(fd);
	fd = open(path, flags);
	if (fd < 0 || fcntl(fd, F_SETLEASE, lease))
		wl_die("lease on %s", path);
	return fd;
}

static void check_lease(const char *name, int fd, int want)
{
	int l = fcntl(fd, F_GETLEASE), own = fcntl(fd, F_GETOWN);

	if (l != want)
		return wl_fail(name, "F_GETLEASE %d, want %d", l, want);
	if (own != getpid())
		return wl_fail(name, "F_GETOWN %d, want %d", own, getpid());
	wl_pass(name);
}

/* a conflicting open is refused, and the holder is told, on its fd */
static void check_break(const char *name, const char *path, int oflags,
			int fd, volatile sig_atomic_t *got)
{
	int x = open(path, oflags | O_NONBLOCK), i;

	if (x >= 0 || errno != EWOULDBLOCK) {
		if (x >= 0)
			close(x);
		return wl_fail(name, "conflicting open: %s, want EWOULDBLOCK",
			       x >= 0 ? "succeeded" : strerror(errno));
	}
	for (i = 0; i < 100 && *got < 0; i++)
		usleep(10000);
	if (*got != fd)
		return wl_fail(name, "break signal for fd %d, want %d",
			       (int)*got, fd);
	if (fcntl(fd, F_SETLEASE, F_UNLCK))
		return wl_fail(name, "F_UNLCK: %s", strerror(errno));
	wl_pass(name);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_break,
				.sa_flags = SA_SIGINFO };

	if (argc < 2)
		wl_die("usage: wl_leases DIR");
	signal(SIGUSR1, on_usr1);
	sigaction(SIGIO, &sa, NULL);
	sigaction(BREAK_SIG, &sa, NULL);
	snprintf(rpath, sizeof(rpath), "%s/read-leased", argv[1]);
	snprintf(wpath, sizeof(wpath), "%s/write-leased", argv[1]);
	rfd = open_leased(rpath, O_RDONLY, F_RDLCK);
	wfd = open_leased(wpath, O_RDWR, F_WRLCK);
	if (fcntl(wfd, F_SETSIG, BREAK_SIG))
		wl_die("F_SETSIG");
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("leases.fd_table", &fdt0);
	check_lease("lease.read", rfd, F_RDLCK);
	check_lease("lease.write", wfd, F_WRLCK);
	if (fcntl(wfd, F_GETSIG) != BREAK_SIG)
		wl_fail("lease.sig", "F_GETSIG %d", fcntl(wfd, F_GETSIG));
	else
		wl_pass("lease.sig");
	check_break("lease.read_break", rpath, O_WRONLY, rfd, &sigio_fd);
	check_break("lease.write_break", wpath, O_RDONLY, wfd, &rt_fd);
	return wl_done();
}
