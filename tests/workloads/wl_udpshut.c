// SPDX-License-Identifier: MIT
/*
 * wl_udpshut - UDP sockets shut down (zdtm socket_udp_shutdown): a and b
 * bound on 127.0.0.1 and connected to each other, a shut for writing
 * (SHUT_WR), b for reading (SHUT_RD); c connected to a, shut both ways
 * (SHUT_RDWR).  Brings lo up when it is down (a network namespace of its
 * own).  READY; on SIGUSR1 checks that b still reaches a, that a and c
 * cannot send (EPIPE), and that a read of b or c ends at once (0) where
 * an open socket would wait.  Usage: wl_udpshut [DIR] (DIR unused).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wl_common.h"
#include "wl_fdtable.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		wl_die("lo flags");
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			wl_die("bring lo up");
	}
	close(s);
}

static int bound(struct sockaddr_in *a)
{
	socklen_t l = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);

	a->sin_family = AF_INET;
	a->sin_port = 0;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(s, (struct sockaddr *)a, &l))
		wl_die("bound udp socket");
	return s;
}

static void link_to(int s, const struct sockaddr_in *to, int how)
{
	if (connect(s, (const struct sockaddr *)to, sizeof(*to)) ||
	    shutdown(s, how))
		wl_die("connect and shutdown");
}

/* a send fails with EPIPE */
static void no_send(const char *name, int s)
{
	if (send(s, "x", 1, MSG_NOSIGNAL) >= 0)
		wl_fail(name, "sent on a socket shut for writing");
	else if (errno != EPIPE)
		wl_fail(name, "send: %s, want EPIPE", strerror(errno));
	else
		wl_pass(name);
}

/* a blocking read returns 0 at once (bounded by SO_RCVTIMEO if not) */
static void no_recv(const char *name, int s)
{
	struct timeval tv = { .tv_sec = 3 };
	char b[8];
	ssize_t n;

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(s, b, sizeof(b), 0);
	if (n)
		wl_fail(name, "recv %zd (%s), want 0", n,
			n < 0 ? strerror(errno) : "data");
	else
		wl_pass(name);
}

/* b sends to a; a gets it, from b */
static void b_to_a(int a, int b, const struct sockaddr_in *bb)
{
	struct sockaddr_in from;
	socklen_t l = sizeof(from);
	char buf[16];
	ssize_t n;

	if (send(b, "msg1", 4, MSG_NOSIGNAL) != 4) {
		wl_fail("udpshut.b_sends", "send: %s", strerror(errno));
		return;
	}
	n = recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l);
	if (n != 4 || memcmp(buf, "msg1", 4) ||
	    from.sin_port != bb->sin_port ||
	    from.sin_addr.s_addr != bb->sin_addr.s_addr)
		wl_fail("udpshut.a_receives", "recv %zd from port %u", n,
			ntohs(from.sin_port));
	else
		wl_pass("udpshut.a_receives");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	struct sockaddr_in aa, bb, cc;
	int a, b, c;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	lo_up();
	a = bound(&aa);
	b = bound(&bb);
	c = bound(&cc);
	link_to(a, &bb, SHUT_WR);
	link_to(b, &aa, SHUT_RD);
	link_to(c, &aa, SHUT_RDWR);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("udpshut.fd_table", &fdt0);
	b_to_a(a, b, &bb);
	no_send("udpshut.a_no_send", a);
	no_send("udpshut.c_no_send", c);
	no_recv("udpshut.b_no_recv", b);
	no_recv("udpshut.c_no_recv", c);
	return wl_done();
}
