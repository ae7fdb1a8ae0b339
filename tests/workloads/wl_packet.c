// SPDX-License-Identifier: MIT
/*
 * Packet sockets, in a network namespace of our own (lo only, so only
 * our own traffic reaches them):
 *	pr: SOCK_RAW, ETH_P_ALL, bound to lo, TPACKET_V2, PACKET_AUXDATA,
 *	    PACKET_ORIGDEV, PACKET_RESERVE, PACKET_TIMESTAMP, a promiscuous
 *	    and a multicast membership on lo, a classic filter that takes
 *	    only UDP to port 4000
 *	pd: SOCK_DGRAM, ETH_P_IP, every interface, in fanout group (our pid)
 *	    of type hash, PACKET_IGNORE_OUTGOING
 *	pu: SOCK_RAW, protocol 0 (receives nothing until bound), never bound
 * READY; on SIGUSR1 (after freeze and thaw) every option is checked with
 * getsockopt, the memberships through lo's flags and /proc/net/dev_mcast,
 * and a UDP datagram to 127.0.0.1:4000 must reach pr (with its auxdata)
 * and pd; CHECKED 1; on the next SIGUSR1 (after restore) all again.
 *
 * "wl_packet ring": a socket with a PACKET_RX_RING holding a frame not
 * yet consumed (refused); on SIGUSR1 the frame is still the program's.  "wl_packet queued": a socket with
 * a frame queued (refused); on SIGUSR1 the frame is still there.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "wl_common.h"
#include "wl_net.h"

static int pr, pd, pu, udp, lo_index;
static int round_no;
static const unsigned char mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

static void set(int s, int name, int v)
{
	if (setsockopt(s, SOL_PACKET, name, &v, sizeof(v)))
		wl_die("setsockopt SOL_PACKET %d", name);
}

static int opt(int s, int level, int name)
{
	socklen_t l = sizeof(int);
	int v = -1;

	getsockopt(s, level, name, &v, &l);
	return v;
}

/* UDP (IPv4 protocol 17) to port 4000, in a frame with an ethernet header */
static struct sock_filter prog[] = {
	{ 0x30, 0, 0, 23 },		/* ldb [23]: IP protocol */
	{ 0x15, 0, 3, 17 },		/* jeq 17 */
	{ 0x28, 0, 0, 36 },		/* ldh [36]: UDP destination port */
	{ 0x15, 0, 1, 4000 },		/* jeq 4000 */
	{ 0x06, 0, 0, 0xffff },		/* ret 0xffff */
	{ 0x06, 0, 0, 0 },		/* ret 0 */
};

static int fanout_value(void)
{
	return (getpid() & 0xffff) | PACKET_FANOUT_HASH << 16;
}

static void setup(void)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = lo_index };
	struct packet_mreq mr = { .mr_ifindex = lo_index,
				  .mr_type = PACKET_MR_PROMISC };
	struct sock_fprog fp = { sizeof(prog) / sizeof(prog[0]), prog };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4000),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	pr = socket(AF_PACKET, SOCK_RAW, 0);
	pd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	pu = socket(AF_PACKET, SOCK_RAW, 0);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (pr < 0 || pd < 0 || pu < 0 || udp < 0)
		wl_die("socket");
	set(pr, PACKET_VERSION, TPACKET_V2);
	set(pr, PACKET_RESERVE, 64);
	set(pr, PACKET_AUXDATA, 1);
	set(pr, PACKET_ORIGDEV, 1);
	set(pr, PACKET_TIMESTAMP, SOF_TIMESTAMPING_SOFTWARE);
	if (setsockopt(pr, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)))
		wl_die("SO_ATTACH_FILTER");
	if (bind(pr, (struct sockaddr *)&ll, sizeof(ll)))
		wl_die("bind pr to lo");
	if (setsockopt(pr, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		wl_die("promiscuous membership");
	mr.mr_type = PACKET_MR_MULTICAST;
	mr.mr_alen = 6;
	memcpy(mr.mr_address, mac, 6);
	if (setsockopt(pr, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		wl_die("multicast membership");
	set(pd, PACKET_IGNORE_OUTGOING, 1);
	set(pd, PACKET_FANOUT, fanout_value());
	if (bind(udp, (struct sockaddr *)&a, sizeof(a)))
		wl_die("bind udp");
}

static void want(const char *name, int got, int v)
{
	if (got != v)
		wl_fail(name, "%d, want %d", got, v);
	else
		wl_pass(name);
}

static void options(void)
{
	struct sockaddr_ll me;
	socklen_t l = sizeof(me);
	struct sock_filter f[16];
	socklen_t n = 16;

	want("pr.version", opt(pr, SOL_PACKET, PACKET_VERSION), TPACKET_V2);
	want("pr.reserve", opt(pr, SOL_PACKET, PACKET_RESERVE), 64);
	want("pr.auxdata", opt(pr, SOL_PACKET, PACKET_AUXDATA), 1);
	want("pr.origdev", opt(pr, SOL_PACKET, PACKET_ORIGDEV), 1);
	want("pr.timestamp", opt(pr, SOL_PACKET, PACKET_TIMESTAMP),
	     SOF_TIMESTAMPING_SOFTWARE);
	want("pr.type", opt(pr, SOL_SOCKET, SO_TYPE), SOCK_RAW);
	if (getsockname(pr, (struct sockaddr *)&me, &l) ||
	    me.sll_ifindex != lo_index || me.sll_protocol != htons(ETH_P_ALL))
		wl_fail("pr.bound", "not bound to lo with ETH_P_ALL");
	else
		wl_pass("pr.bound");
	if (getsockopt(pr, SOL_SOCKET, SO_GET_FILTER, f, &n) ||
	    n != sizeof(prog) / sizeof(prog[0]) || memcmp(f, prog, sizeof(prog)))
		wl_fail("pr.filter", "%u instructions", n);
	else
		wl_pass("pr.filter");
	want("pd.type", opt(pd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	l = sizeof(me);
	if (getsockname(pd, (struct sockaddr *)&me, &l) || me.sll_ifindex ||
	    me.sll_protocol != htons(ETH_P_IP))
		wl_fail("pd.bound", "not on every interface with ETH_P_IP");
	else
		wl_pass("pd.bound");
	want("pd.ignore_outgoing", opt(pd, SOL_PACKET, PACKET_IGNORE_OUTGOING), 1);
	want("pd.fanout", opt(pd, SOL_PACKET, PACKET_FANOUT), fanout_value());
	want("pu.protocol", opt(pu, SOL_SOCKET, SO_PROTOCOL), 0);
}

/* lo's promiscuity count (IFLA_PROMISCUITY: SIOCGIFFLAGS shows only a
 * promiscuous mode set by hand, not the one sockets asked for) */
static int promiscuity(void)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST, 1, 0 },
		  { .ifi_family = AF_UNSPEC, .ifi_index = lo_index } };
	static char buf[16384];
	struct nlmsghdr *h = (void *)buf;
	struct rtattr *a;
	int s = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE), len, v = -1;
	ssize_t n;

	if (s < 0 || send(s, &req, sizeof(req), 0) < 0 ||
	    (n = recv(s, buf, sizeof(buf), 0)) <= 0 || !NLMSG_OK(h, n) ||
	    h->nlmsg_type != RTM_NEWLINK) {
		close(s);
		return -1;
	}
	len = IFLA_PAYLOAD(h);
	for (a = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_PROMISCUITY)
			memcpy(&v, RTA_DATA(a), sizeof(v));
	close(s);
	return v;
}

/* lo promiscuous (our membership is its only user) and our multicast
 * address in its list */
static void memberships(void)
{
	char line[256], want_mac[13];
	int found = 0;
	FILE *f;

	want("pr.promisc", promiscuity(), 1);
	snprintf(want_mac, sizeof(want_mac), "%02x%02x%02x%02x%02x%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	f = fopen("/proc/self/net/dev_mcast", "r");
	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, " lo ") && strstr(line, want_mac);
	if (f)
		fclose(f);
	if (!found)
		wl_fail("pr.multicast", "%s is not in lo's list", want_mac);
	else
		wl_pass("pr.multicast");
}

/* the frame of our datagram "pN" on s; with its auxdata if aux */
static void receive(const char *name, int s, size_t off, int aux)
{
	char buf[256], cbuf[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { 0 };
	struct pollfd p = { s, POLLIN, 0 };
	double end = wl_now(CLOCK_MONOTONIC) + 5;
	struct cmsghdr *c;
	int got_aux;
	ssize_t n;

	while (wl_now(CLOCK_MONOTONIC) < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		n = recvmsg(s, &m, MSG_DONTWAIT);
		/* IP header 20, UDP 8, then "pN" */
		if (n != (ssize_t)(off + 30) || buf[off + 28] != 'p' ||
		    buf[off + 29] != '0' + round_no)
			continue;
		got_aux = 0;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			got_aux |= c->cmsg_level == SOL_PACKET &&
				   c->cmsg_type == PACKET_AUXDATA;
		if (aux && !got_aux)
			wl_fail(name, "no PACKET_AUXDATA");
		else
			wl_pass(name);
		return;
	}
	wl_fail(name, "our datagram did not arrive");
}

static void drain(int s)
{
	char buf[512];

	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void check(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4000),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char d[2] = { 'p', 0 };

	round_no++;
	options();
	memberships();
	d[1] = '0' + round_no;
	if (sendto(udp, d, 2, 0, (struct sockaddr *)&a, sizeof(a)) != 2)
		wl_die("sendto");
	receive("pr.recv", pr, 14, 1);	/* an ethernet header first */
	receive("pd.recv", pd, 0, 0);
	{
		char c;

		if (recv(pu, &c, 1, MSG_DONTWAIT) >= 0)
			wl_fail("pu.idle", "an unbound protocol-0 socket received");
		else
			wl_pass("pu.idle");
	}
	drain(pr);
	drain(pd);
	drain(udp);
}

/* a frame of our own queued on a socket bound to lo */
static int queued(void)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = lo_index };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4000),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	char buf[256];

	pr = socket(AF_PACKET, SOCK_RAW, 0);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (pr < 0 || udp < 0 || bind(pr, (struct sockaddr *)&ll, sizeof(ll)) ||
	    sendto(udp, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
		wl_die("queued setup");
	p = (struct pollfd){ pr, POLLIN, 0 };
	if (poll(&p, 1, 5000) != 1)
		wl_die("nothing queued");
	wl_ready();
	wl_wait_usr1();
	if (recv(pr, buf, sizeof(buf), MSG_DONTWAIT) == 14 + 20 + 8 + 1)
		wl_pass("queued");
	else
		wl_fail("queued", "the queued frame is gone");
	return wl_done();
}

/* a ring holding a frame the program has not consumed yet */
static int ring(void)
{
	struct tpacket_req req = { 4096, 4, 2048, 8 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = lo_index };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	volatile unsigned *status;
	void *map;

	pr = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (pr < 0 || setsockopt(pr, SOL_PACKET, PACKET_RX_RING, &req,
				 sizeof(req)) ||
	    bind(pr, (struct sockaddr *)&ll, sizeof(ll)))
		wl_die("PACKET_RX_RING");
	map = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, pr, 0);
	if (map == MAP_FAILED)
		wl_die("mmap ring");
	status = map;
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (sendto(udp, "r", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1)
		wl_die("sendto");
	p = (struct pollfd){ pr, POLLIN, 0 };
	if (poll(&p, 1, 5000) != 1 || !(*status & TP_STATUS_USER))
		wl_die("nothing in the ring");
	wl_ready();
	wl_wait_usr1();
	if (*status & TP_STATUS_USER)
		wl_pass("ring");
	else
		wl_fail("ring", "the ring's first frame is no longer ours");
	return wl_done();
}

/* an obsolete SOCK_PACKET socket bound to lo (zdtm packet_sock_spkt):
 * refused; still bound to lo after the thaw */
static int spkt(void)
{
	struct sockaddr sp = { .sa_family = AF_PACKET }, got;
	socklen_t len = sizeof(got);

	strcpy(sp.sa_data, "lo");
	pr = socket(AF_PACKET, SOCK_PACKET, htons(ETH_P_ALL));
	if (pr < 0 || bind(pr, &sp, sizeof(sp)))
		wl_die("SOCK_PACKET");
	wl_ready();
	wl_wait_usr1();
	if (!getsockname(pr, &got, &len) && !strcmp(got.sa_data, "lo"))
		wl_pass("spkt");
	else
		wl_fail("spkt", "no longer bound to lo");
	return wl_done();
}

int main(int argc, char **argv)
{
	wl_own_session();
	wl_usr1_setup();
	wl_own_net();
	lo_index = if_nametoindex("lo");
	if (argc > 1 && !strcmp(argv[1], "ring"))
		return ring();
	if (argc > 1 && !strcmp(argv[1], "queued"))
		return queued();
	if (argc > 1 && !strcmp(argv[1], "spkt"))
		return spkt();
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
