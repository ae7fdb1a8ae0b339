// SPDX-License-Identifier: MIT
/*
 * Datagrams queued on UDP sockets: IPv4 (bound to the any address, with
 * IP_PKTINFO, IP_RECVTTL and IP_RECVTOS on), IPv6 (IPV6_RECVPKTINFO,
 * IPV6_RECVHOPLIMIT), UDP-Lite, and a socket connected after a datagram
 * from someone else came.  Senders have fixed ports (from our pid, which
 * restore keeps); one is closed before the checkpoint.  A zero-length
 * datagram, a 3000-byte one, one with TTL 17, one with TOS 0x10, and an
 * IPv4 one on a dual-stack IPv6 socket (v4-mapped).  "wl_udpqueue
 * netns": all in a network namespace of our own.
 *
 * READY; on SIGUSR1 every queue is read and checked (payload, sender,
 * destination, TTL, TOS, order, nothing more), the state made again and
 * CHECKED N printed; the next SIGUSR1 (after restore) checks again, and
 * that new datagrams still arrive.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_net.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

static int r4, r6, rl, rc, s1, s2, s6, sl, r46;

static int port(int i)
{
	return 30000 + (getpid() % 4000) * 8 + i;
}

static struct sockaddr_in a4(const char *ip, int p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static struct sockaddr_in6 a6(int p)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(p),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return a;
}

static int sock(int fam, int proto, const void *addr, socklen_t len)
{
	int one = 1, s = socket(fam, SOCK_DGRAM, proto);

	if (s < 0)
		wl_die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr && bind(s, addr, len))
		wl_die("bind port %d", ntohs(((struct sockaddr_in *)addr)->sin_port));
	return s;
}

static void on(int s, int level, int opt, int v)
{
	if (setsockopt(s, level, opt, &v, sizeof(v)))
		wl_die("setsockopt %d/%d", level, opt);
}

static void send_to(int s, const void *buf, size_t len, const void *to,
		    socklen_t tl)
{
	if (sendto(s, buf, len, 0, to, tl) != (ssize_t)len)
		wl_die("sendto");
}

static char big[3000], big6[1000];

static void setup(void)
{
	struct sockaddr_in any = a4("0.0.0.0", port(0)), x;
	struct sockaddr_in6 r6a = a6(port(1)), s6a = a6(port(3));

	wl_fill(big, sizeof(big), 11);
	wl_fill(big6, sizeof(big6), 12);
	r4 = sock(AF_INET, 0, &any, sizeof(any));
	on(r4, IPPROTO_IP, IP_PKTINFO, 1);
	on(r4, IPPROTO_IP, IP_RECVTTL, 1);
	on(r4, IPPROTO_IP, IP_RECVTOS, 1);
	x = a4("127.0.0.1", port(3));
	s1 = sock(AF_INET, 0, &x, sizeof(x));
	x = a4("127.0.0.2", port(4));
	s2 = sock(AF_INET, 0, &x, sizeof(x));
	r6 = sock(AF_INET6, 0, &r6a, sizeof(r6a));
	on(r6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	on(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
	s6 = sock(AF_INET6, 0, &s6a, sizeof(s6a));
	x = a4("127.0.0.1", port(2));
	rl = sock(AF_INET, IPPROTO_UDPLITE, &x, sizeof(x));
	x = a4("127.0.0.1", port(3));
	sl = sock(AF_INET, IPPROTO_UDPLITE, &x, sizeof(x));
	x = a4("127.0.0.1", 0);
	rc = sock(AF_INET, 0, &x, sizeof(x));
	{
		/* dual-stack: IPv4 datagrams, v4-mapped */
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons(port(5)) };
		int s = socket(AF_INET6, SOCK_DGRAM, 0);

		on(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
		on(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		if (bind(s, (struct sockaddr *)&any6, sizeof(any6)))
			wl_die("bind [::]");
		r46 = s;
		x = a4("127.0.0.1", port(5));
		send_to(s1, "mapped", 6, &x, sizeof(x));
	}

	x = a4("127.0.0.1", port(0));
	send_to(s1, "alpha", 5, &x, sizeof(x));
	x = a4("127.0.0.3", port(0));
	send_to(s2, "", 0, &x, sizeof(x));
	on(s1, IPPROTO_IP, IP_TTL, 17);
	x = a4("127.0.0.1", port(0));
	send_to(s1, big, sizeof(big), &x, sizeof(x));
	on(s1, IPPROTO_IP, IP_TTL, 64);
	on(s2, IPPROTO_IP, IP_TOS, 0x10);
	send_to(s2, "tos", 3, &x, sizeof(x));
	send_to(s6, "six", 3, &r6a, sizeof(r6a));
	on(s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
	send_to(s6, big6, sizeof(big6), &r6a, sizeof(r6a));
	x = a4("127.0.0.1", port(2));
	send_to(sl, "lite", 4, &x, sizeof(x));
	{
		struct sockaddr_in me;
		socklen_t l = sizeof(me);

		getsockname(rc, (struct sockaddr *)&me, &l);
		send_to(s2, "early", 5, &me, sizeof(me));
		send_to(s1, "conn", 4, &me, sizeof(me));
	}
	x = a4("127.0.0.1", port(3));
	if (connect(rc, (struct sockaddr *)&x, sizeof(x)))
		wl_die("connect");
	close(s2);	/* a sender that is gone */
}

struct want {
	const char *data;	/* NULL: the pattern of seed */
	size_t len;
	int seed;
	const char *src;	/* "ip" or "ip6" */
	int sport;
	const char *dst;	/* NULL: not asked for */
	int ttl, tos;		/* -1: not asked for */
};

static void got(const char *name, int s, const struct want *w)
{
	struct sockaddr_storage from;
	char buf[4096], cbuf[256], ip[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { &from, sizeof(from), &iov, 1, cbuf, sizeof(cbuf), 0 };
	const void *fa;
	int ttl = -1, tos = -1, fport;
	char dst[64] = "";
	struct cmsghdr *c;
	ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);

	if (n < 0) {
		wl_fail(name, "nothing queued (errno %d)", errno);
		return;
	}
	fa = from.ss_family == AF_INET ?
	     (void *)&((struct sockaddr_in *)&from)->sin_addr :
	     (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
	inet_ntop(from.ss_family, fa, ip, sizeof(ip));
	fport = ntohs(((struct sockaddr_in *)&from)->sin_port);
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			inet_ntop(AF_INET, &((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr,
				  dst, sizeof(dst));
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			inet_ntop(AF_INET6, &((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr,
				  dst, sizeof(dst));
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
			memcpy(&ttl, CMSG_DATA(c), sizeof(int));
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			tos = *(unsigned char *)CMSG_DATA(c);
	}
	if ((size_t)n != w->len)
		wl_fail(name, "%zd bytes, want %zu", n, w->len);
	else if (w->data && memcmp(buf, w->data, n))
		wl_fail(name, "payload '%.*s', want '%s'", (int)n, buf, w->data);
	else if (!w->data && wl_check(buf, n, w->seed) != (size_t)-1)
		wl_fail(name, "payload differs at %zu", wl_check(buf, n, w->seed));
	else if (strcmp(ip, w->src) || fport != w->sport)
		wl_fail(name, "from %s:%d, want %s:%d", ip, fport, w->src, w->sport);
	else if (w->dst && strcmp(dst, w->dst))
		wl_fail(name, "to '%s', want %s", dst, w->dst);
	else if (w->ttl >= 0 && ttl != w->ttl)
		wl_fail(name, "ttl %d, want %d", ttl, w->ttl);
	else if (w->tos >= 0 && tos != w->tos)
		wl_fail(name, "tos %d, want %d", tos, w->tos);
	else
		wl_pass(name);
}

static void empty(const char *name, int s)
{
	char c;

	if (recv(s, &c, 1, MSG_DONTWAIT) >= 0)
		wl_fail(name, "a datagram more than was queued");
	else
		wl_pass(name);
}

static void check(void)
{
	struct want w4[] = {
		{ "alpha", 5, 0, "127.0.0.1", port(3), "127.0.0.1", 64, 0 },
		{ "", 0, 0, "127.0.0.2", port(4), "127.0.0.3", 64, 0 },
		{ NULL, sizeof(big), 11, "127.0.0.1", port(3), "127.0.0.1", 17, 0 },
		{ "tos", 3, 0, "127.0.0.2", port(4), "127.0.0.1", 64, 0x10 },
	};
	struct want w6[] = {
		{ "six", 3, 0, "::1", port(3), "::1", 64, -1 },
		{ NULL, sizeof(big6), 12, "::1", port(3), "::1", 9, -1 },
	};
	struct want wl = { "lite", 4, 0, "127.0.0.1", port(3), NULL, -1, -1 };
	struct want w46 = { "mapped", 6, 0, "::ffff:127.0.0.1", port(3),
			    "::ffff:127.0.0.1", -1, -1 };
	struct want wc[] = {
		{ "early", 5, 0, "127.0.0.2", port(4), NULL, -1, -1 },
		{ "conn", 4, 0, "127.0.0.1", port(3), NULL, -1, -1 },
	};
	char name[32];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "udp4.%zu", i);
		got(name, r4, &w4[i]);
	}
	empty("udp4.end", r4);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "udp6.%zu", i);
		got(name, r6, &w6[i]);
	}
	empty("udp6.end", r6);
	got("udplite.0", rl, &wl);
	empty("udplite.end", rl);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "connected.%zu", i);
		got(name, rc, &wc[i]);
	}
	empty("connected.end", rc);
	got("mapped.0", r46, &w46);
	empty("mapped.end", r46);
}

/* new traffic after the restore: the sockets are bound and connected */
static void live(void)
{
	struct sockaddr_in x = a4("127.0.0.1", port(0));
	struct want w = { "after", 5, 0, "127.0.0.1", port(3), "127.0.0.1", 64, 0 };
	struct want wc = { "back", 4, 0, "127.0.0.1", port(3), NULL, -1, -1 };
	struct sockaddr_in me;
	socklen_t l = sizeof(me);

	send_to(s1, "after", 5, &x, sizeof(x));
	getsockname(rc, (struct sockaddr *)&me, &l);
	send_to(s1, "back", 4, &me, sizeof(me));
	for (int i = 0; i < 2000; i++) {	/* loopback is all but instant */
		char c;

		if (recv(rc, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 &&
		    recv(r4, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
			break;
		usleep(1000);
	}
	got("live.udp4", r4, &w);
	got("live.connected", rc, &wc);
	if (send(rc, "x", 1, 0) != 1)
		wl_fail("live.send", "send on the connected socket: errno %d", errno);
	else
		wl_pass("live.send");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	wl_own_session();
	if (argc > 1 && !strcmp(argv[1], "netns"))
		wl_own_net();
	wl_usr1_setup();
	setup();
	wl_fdt_take(&fdt0);
	wl_ready();
	wl_wait_usr1();
	wl_fdt_check("udpqueue.fd_table", &fdt0);
	check();
	close(r4);
	close(r6);
	close(rl);
	close(rc);
	close(r46);
	close(s1);
	close(s6);
	close(sl);
	setup();
	printf("CHECKED 1\n");
	fflush(stdout);
	wl_wait_usr1();
	check();
	live();
	return wl_done();
}
