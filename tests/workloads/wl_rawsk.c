// SPDX-License-Identifier: MIT
/*
 * Raw inet sockets, in a network namespace of our own (so no other
 * test's ICMP lands in their queues): ICMP with an ICMP_FILTER and a TTL,
 * ICMPv6 bound to ::1 with an ICMP6_FILTER, UDP with IP_HDRINCL connected to 127.0.0.1, and
 * protocol 253 bound to 127.0.0.1.  READY; on SIGUSR1 (after a freeze
 * and thaw) the options and addresses are checked and each socket is
 * used: an echo to 127.0.0.1 and to ::1 is answered, a hand-made UDP
 * datagram goes out through the connected socket, a protocol-253 packet
 * arrives; CHECKED 1; on the next SIGUSR1 (after restore) all again.
 *
 * "wl_rawsk queued": a protocol-253 socket with a packet in its queue
 * (the checkpoint must refuse it); on SIGUSR1 the packet is still there.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wl_common.h"
#include "wl_net.h"

/* linux/icmp.h clashes with netinet/ip_icmp.h */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

static int ic4, ic6, hdr, p253, udp;
static int round_no;

static struct sockaddr_in lo4(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

static struct sockaddr_in6 lo6(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return a;
}

static int opt(int s, int level, int name)
{
	socklen_t l = sizeof(int);
	int v = -1;

	getsockopt(s, level, name, &v, &l);
	return v;
}

/* ICMPv6: echo replies only */
static void icmp6_want(struct icmp6_filter *f)
{
	ICMP6_FILTER_SETBLOCKALL(f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, f);
}

static void setup(void)
{
	struct sockaddr_in a = lo4(0);
	struct sockaddr_in6 a6 = lo6();
	int one = 1, ttl = 33;
	uint32_t filt = ~(1u << ICMP_ECHOREPLY);
	struct icmp6_filter f6;

	ic4 = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	ic6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	hdr = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	p253 = socket(AF_INET, SOCK_RAW, 253);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (ic4 < 0 || ic6 < 0 || hdr < 0 || p253 < 0 || udp < 0)
		wl_die("socket");
	if (setsockopt(ic4, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)) ||
	    setsockopt(ic4, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)))
		wl_die("ICMP options");
	if (bind(ic6, (struct sockaddr *)&a6, sizeof(a6)))
		wl_die("bind ::1");
	icmp6_want(&f6);
	if (setsockopt(ic6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)))
		wl_die("ICMP6_FILTER");
	if (setsockopt(hdr, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) ||
	    connect(hdr, (struct sockaddr *)&a, sizeof(a)))
		wl_die("hdrincl socket");
	if (bind(p253, (struct sockaddr *)&a, sizeof(a)))
		wl_die("bind 253");
	a = lo4(4000);
	if (bind(udp, (struct sockaddr *)&a, sizeof(a)))
		wl_die("bind udp");
}

/* the next packet of s within 5 s that ok() takes; its length or -1 */
static ssize_t wait_for(int s, char *buf, size_t len,
			int (*ok)(const char *, ssize_t))
{
	struct pollfd p = { s, POLLIN, 0 };
	double end = wl_now(CLOCK_MONOTONIC) + 5;
	ssize_t n;

	while (wl_now(CLOCK_MONOTONIC) < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(s, buf, len, MSG_DONTWAIT);
		if (n >= 0 && ok(buf, n))
			return n;
	}
	return -1;
}

static int echo4_reply(const char *b, ssize_t n)
{
	const struct iphdr *ip = (const void *)b;
	const struct icmphdr *ic = (const void *)(b + ip->ihl * 4);

	return n >= (ssize_t)(ip->ihl * 4 + sizeof(*ic)) &&
	       ic->type == ICMP_ECHOREPLY &&
	       ntohs(ic->un.echo.id) == (getpid() & 0xffff) &&
	       ntohs(ic->un.echo.sequence) == round_no;
}

static int echo6_reply(const char *b, ssize_t n)
{
	const struct icmp6_hdr *ic = (const void *)b;

	return n >= (ssize_t)sizeof(*ic) && ic->icmp6_type == ICMP6_ECHO_REPLY &&
	       ntohs(ic->icmp6_id) == (getpid() & 0xffff) &&
	       ntohs(ic->icmp6_seq) == round_no;
}

static uint16_t csum(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	if (n)
		s += *(const uint8_t *)w;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static void ping4(void)
{
	struct icmphdr ic = { .type = ICMP_ECHO };
	struct sockaddr_in to = lo4(0);
	char buf[256];

	ic.un.echo.id = htons(getpid() & 0xffff);
	ic.un.echo.sequence = htons(round_no);
	ic.checksum = csum(&ic, sizeof(ic));
	if (sendto(ic4, &ic, sizeof(ic), 0, (struct sockaddr *)&to,
		   sizeof(to)) != sizeof(ic))
		wl_fail("icmp4.echo", "sendto: errno %d", errno);
	else if (wait_for(ic4, buf, sizeof(buf), echo4_reply) < 0)
		wl_fail("icmp4.echo", "no echo reply from 127.0.0.1");
	else
		wl_pass("icmp4.echo");
}

static void ping6(void)
{
	struct icmp6_hdr ic = { .icmp6_type = ICMP6_ECHO_REQUEST };
	struct sockaddr_in6 to = lo6(), me;
	socklen_t l = sizeof(me);
	char buf[256];

	ic.icmp6_id = htons(getpid() & 0xffff);
	ic.icmp6_seq = htons(round_no);
	if (getsockname(ic6, (struct sockaddr *)&me, &l) ||
	    !IN6_IS_ADDR_LOOPBACK(&me.sin6_addr))
		wl_fail("icmp6.bound", "not bound to ::1");
	else
		wl_pass("icmp6.bound");
	/* the kernel sums ICMPv6 itself */
	if (sendto(ic6, &ic, sizeof(ic), 0, (struct sockaddr *)&to,
		   sizeof(to)) != sizeof(ic))
		wl_fail("icmp6.echo", "sendto: errno %d", errno);
	else if (wait_for(ic6, buf, sizeof(buf), echo6_reply) < 0)
		wl_fail("icmp6.echo", "no echo reply from ::1");
	else
		wl_pass("icmp6.echo");
}

static int is_round(const char *b, ssize_t n)
{
	return n == 4 && !memcmp(b, "r", 1) && b[1] == '0' + round_no;
}

/* a hand-made IP/UDP packet through the connected IP_HDRINCL socket */
static void hdrincl(void)
{
	struct { struct iphdr ip; struct udphdr u; char d[4]; } p = { 0 };
	char buf[64];

	if (opt(hdr, IPPROTO_IP, IP_HDRINCL) != 1)
		wl_fail("hdrincl.opt", "IP_HDRINCL is off");
	else
		wl_pass("hdrincl.opt");
	p.ip.version = 4;
	p.ip.ihl = 5;
	p.ip.ttl = 64;
	p.ip.protocol = IPPROTO_UDP;
	p.ip.saddr = p.ip.daddr = htonl(INADDR_LOOPBACK);
	p.u.source = htons(4001);
	p.u.dest = htons(4000);
	p.u.len = htons(sizeof(p.u) + 4);
	memcpy(p.d, "r0xx", 4);
	p.d[1] = '0' + round_no;
	/* send(), not sendto(): only a connected socket has somewhere to go */
	if (send(hdr, &p, sizeof(p), 0) != sizeof(p))
		wl_fail("hdrincl.send", "send: errno %d", errno);
	else if (wait_for(udp, buf, sizeof(buf), is_round) < 0)
		wl_fail("hdrincl.send", "the datagram did not arrive");
	else
		wl_pass("hdrincl.send");
}

static int is_253(const char *b, ssize_t n)
{
	const struct iphdr *ip = (const void *)b;

	return n == ip->ihl * 4 + 4 && ip->protocol == 253 &&
	       is_round(b + ip->ihl * 4, 4);
}

static void proto253(void)
{
	int s = socket(AF_INET, SOCK_RAW, 253);
	struct sockaddr_in to = lo4(0), me;
	socklen_t l = sizeof(me);
	char d[4] = { 'r', '0' + round_no, 'y', 'y' }, buf[128];

	if (getsockname(p253, (struct sockaddr *)&me, &l) ||
	    me.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		wl_fail("p253.bound", "not bound to 127.0.0.1");
	else
		wl_pass("p253.bound");
	if (sendto(s, d, 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4)
		wl_fail("p253.recv", "sendto: errno %d", errno);
	else if (wait_for(p253, buf, sizeof(buf), is_253) < 0)
		wl_fail("p253.recv", "the packet did not arrive");
	else
		wl_pass("p253.recv");
	close(s);
}

static void drain(int s)
{
	char buf[512];

	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void check(void)
{
	uint32_t filt = 0;
	socklen_t l = sizeof(filt);

	round_no++;
	if (getsockopt(ic4, SOL_RAW, ICMP_FILTER, &filt, &l) ||
	    filt != ~(1u << ICMP_ECHOREPLY))
		wl_fail("icmp4.filter", "ICMP_FILTER is 0x%x", filt);
	else
		wl_pass("icmp4.filter");
	{
		struct icmp6_filter f6, want6;
		socklen_t l6 = sizeof(f6);

		icmp6_want(&want6);
		if (getsockopt(ic6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, &l6) ||
		    memcmp(&f6, &want6, sizeof(f6)))
			wl_fail("icmp6.filter", "ICMP6_FILTER differs");
		else
			wl_pass("icmp6.filter");
	}
	if (opt(ic4, IPPROTO_IP, IP_TTL) != 33)
		wl_fail("icmp4.ttl", "IP_TTL is %d", opt(ic4, IPPROTO_IP, IP_TTL));
	else
		wl_pass("icmp4.ttl");
	ping4();
	ping6();
	hdrincl();
	proto253();
	/* what our own traffic left: empty queues for the next checkpoint */
	drain(ic4);
	drain(ic6);
	drain(p253);
	drain(udp);
	drain(hdr);
}

static int queued(void)
{
	struct sockaddr_in a = lo4(0);
	char buf[128];

	p253 = socket(AF_INET, SOCK_RAW, 253);
	if (p253 < 0 || bind(p253, (struct sockaddr *)&a, sizeof(a)) ||
	    sendto(p253, "r1zz", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		wl_die("queued setup");
	round_no = 1;
	if (wait_for(p253, buf, sizeof(buf), is_253) < 0)	/* consumed */
		wl_die("no packet");
	if (sendto(p253, "r1zz", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		wl_die("sendto");
	{
		struct pollfd p = { p253, POLLIN, 0 };

		if (poll(&p, 1, 5000) != 1)
			wl_die("nothing queued");
	}
	wl_ready();
	wl_wait_usr1();
	if (recv(p253, buf, sizeof(buf), MSG_DONTWAIT) == 24)
		wl_pass("queued");
	else
		wl_fail("queued", "the queued packet is gone");
	return wl_done();
}

int main(int argc, char **argv)
{
	wl_own_session();
	wl_usr1_setup();
	wl_own_net();
	if (argc > 1 && !strcmp(argv[1], "queued"))
		return queued();
	setup();
	wl_ready();
	wl_wait_usr1();
	check();
	printf("CHECKED 1\n");
	fflush(stdout);
	wl_wait_usr1();
	check();
	return wl_done();
}
