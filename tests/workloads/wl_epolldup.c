// SPDX-License-Identifier: MIT
/*
 * wl_epolldup: epoll interests whose descriptors were duplicated or
 * closed since they were added (the kernel keys an interest by file and
 * fd number, and keeps it while the file lives):
 *	both	one pipe registered under two fd numbers that are dups
 *	closed	registered, dup'ed, the registered number closed
 *	reused	registered, dup'ed, closed, and its number reused by another
 *		file registered there too: two interests on one number
 *	moved	registered, then another file dup2()'ed over its number, the
 *		first kept alive by a dup
 * READY; on SIGUSR1 every pipe gets a byte, and each interest must report
 * with its data; then MOD and DEL on the live ones must work.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;
static int ep, wr[5];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void add(int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		wl_die("EPOLL_CTL_ADD %d", fd);
}

static int pipe_rd(int i)
{
	int p[2];

	if (pipe2(p, O_NONBLOCK))
		wl_die("pipe");
	wr[i] = p[1];
	return p[0];
}

/* fd numbers: a (both), b = dup(a); c closed, d = dup(c); e reused */
static int a, b, d, e, f, g;

static void setup(void)
{
	int c, x;

	ep = epoll_create1(0);
	a = pipe_rd(0);
	b = dup(a);
	add(a, 1);
	add(b, 2);
	c = pipe_rd(1);
	add(c, 3);
	d = dup(c);
	close(c);
	x = pipe_rd(2);
	add(x, 4);
	e = dup(x);
	close(x);
	if (dup2(pipe_rd(3), x) != x)	/* the same number, another pipe */
		wl_die("dup2");
	add(x, 5);
	f = x;
	g = pipe_rd(4);
	add(g, 6);
	x = dup(g);
	if (dup2(d, g) != g)	/* g's number now holds pipe 1 */
		wl_die("dup2");
	g = x;
}

static void check_events(void)
{
	struct epoll_event ev[16];
	unsigned seen = 0, want = 0x7e;
	int i, n;

	for (i = 0; i < 5; i++)
		if (write(wr[i], "x", 1) != 1)
			wl_die("write");
	n = epoll_wait(ep, ev, 16, 1000);
	for (i = 0; i < n; i++)
		if (ev[i].data.u64 < 32)
			seen |= 1u << ev[i].data.u64;
	if (seen != want)
		return wl_fail("epoll.events", "saw data %#x, want %#x", seen, want);
	wl_pass("epoll.events");
}

/* the interests under live numbers are still there: MOD, DEL work */
static void check_ctl(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 9 };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev) ||
	    epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_DEL, f, NULL))
		return wl_fail("epoll.ctl", "MOD/DEL: %s", strerror(errno));
	if (epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) || epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL))
		return wl_fail("epoll.ctl", "ADD/DEL e: %s", strerror(errno));
	if (!epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL) || errno != ENOENT)
		return wl_fail("epoll.ctl", "DEL of never-added fd %d: %s", d,
			       strerror(errno));
	wl_pass("epoll.ctl");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	signal(SIGUSR1, on_usr1);
	setup();
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("epolldup.fd_table", &fdt0);
	check_events();
	check_ctl();
	return wl_done();
}
