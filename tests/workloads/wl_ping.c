/* SPDX-License-Identifier: MIT */
/*
 * ICMP datagram ("ping") sockets (zdtm socket_icmp, socket6_icmp), in a
 * network namespace of our own whose net.ipv4.ping_group_range lets every
 * group make them: an IPv4 one bound by its first echo (the kernel picks
 * its id, our port) with SO_RCVTIMEO set; an IPv6 one bound to ::1 with id
 * 4321 and connected to ::1; one never used.  On SIGUSR1 each must be
 * where it was (address, id, peer, timeout), and the two used ones must
 * get the reply to a new echo, with their id.  With WL_ZDTM_SET=queued,
 * the IPv4 one has a reply not read yet (refused: it cannot be queued
 * again); it is still there after the thaw.  Usage: wl_ping [DIR].
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_net.h"

static int s4, s6, s_idle;
static struct sockaddr_storage at[3], peer6;
static struct timeval tmo = { 3, 250000 };	/* as the kernel keeps it */

/* an echo request of seq, whose reply (the kernel puts our id in) is read
 * back unless keep; its id, or -1 */
static int echo(int sk, int v6, int seq, int keep)
{
	struct sockaddr_in to4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6,
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	unsigned char req[16] = { v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO }, rep[64];
	struct pollfd p = { sk, POLLIN, 0 };
	ssize_t n;

	req[6] = seq >> 8;
	req[7] = seq & 0xff;
	if (sendto(sk, req, sizeof(req), 0,
		   v6 ? (struct sockaddr *)&to6 : (struct sockaddr *)&to4,
		   v6 ? sizeof(to6) : sizeof(to4)) != sizeof(req))
		return -1;
	if (poll(&p, 1, 5000) != 1)
		return -1;
	if (keep)
		return 0;
	n = recv(sk, rep, sizeof(rep), 0);
	if (n < 8 || rep[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) ||
	    rep[6] != (seq >> 8) || rep[7] != (seq & 0xff))
		return -1;
	return rep[4] << 8 | rep[5];
}

static void where(int sk, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (getsockname(sk, (struct sockaddr *)ss, &len))
		wl_die("getsockname");
}

static void setup(void)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons(4321) };
	socklen_t tl = sizeof(tmo);
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);

	if (fd < 0 || write(fd, "0 2147483647", 12) != 12)
		wl_die("ping_group_range");
	close(fd);
	s4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	s6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	s_idle = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (s4 < 0 || s6 < 0 || s_idle < 0)
		wl_die("ping sockets");
	if (setsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    getsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tmo, &tl))
		wl_die("SO_RCVTIMEO");
	if (echo(s4, 0, 1, 0) < 0)
		wl_die("the first echo");
	if (bind(s6, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(s6, (struct sockaddr *)&me, sizeof(me)))
		wl_die("bind, connect ::1");
	if (wl_zdtm_want("queued") && echo(s4, 0, 2, 1))
		wl_die("a reply left queued");
	where(s4, &at[0]);
	where(s6, &at[1]);
	where(s_idle, &at[2]);
	peer6 = at[1];
}

static void check(void)
{
	struct sockaddr_storage ss, pr;
	socklen_t len = sizeof(pr);
	struct timeval tv = { 0 };
	socklen_t tl = sizeof(tv);
	int *sk[3] = { &s4, &s6, &s_idle }, i, id;

	for (i = 0; i < 3; i++) {
		where(*sk[i], &ss);
		if (memcmp(&ss, &at[i], sizeof(ss))) {
			wl_fail("ping.bound", "socket %d is not where it was", i);
			return;
		}
	}
	wl_pass("ping.bound");
	memset(&pr, 0, sizeof(pr));
	if (getsockopt(s4, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl) ||
	    tv.tv_sec != tmo.tv_sec || tv.tv_usec != tmo.tv_usec)
		wl_fail("ping.timeo", "SO_RCVTIMEO %ld.%06ld", (long)tv.tv_sec,
			(long)tv.tv_usec);
	else if (getpeername(s6, (struct sockaddr *)&pr, &len) ||
		 memcmp(&pr, &peer6, sizeof(pr)))
		wl_fail("ping.timeo", "the IPv6 socket's peer differs");
	else
		wl_pass("ping.timeo");
	if (wl_zdtm_want("queued")) {	/* the reply left, then an echo */
		struct pollfd p = { s4, POLLIN, 0 };

		if (poll(&p, 1, 0) != 1)
			wl_fail("ping.queued", "the queued reply is gone");
		else
			wl_pass("ping.queued");
		return;
	}
	id = echo(s4, 0, 3, 0);
	if (id != ntohs(((struct sockaddr_in *)&at[0])->sin_port))
		wl_fail("ping.echo", "the IPv4 reply's id is %d", id);
	else if ((id = echo(s6, 1, 4, 0)) != 4321)
		wl_fail("ping.echo", "the IPv6 reply's id is %d", id);
	else
		wl_pass("ping.echo");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	wl_own_session();
	wl_usr1_setup();
	wl_own_net();
	setup();
	wl_fdt_take(&fdt0);
	wl_ready();
	wl_wait_usr1();
	wl_fdt_check("ping.fd_table", &fdt0);
	check();
	return wl_done();
}
