// SPDX-License-Identifier: MIT
/*
 * Socket options on idle inet sockets (a TCP listener, an unconnected TCP
 * socket, UDP over IPv4 and IPv6, UDP-Lite), on a unix socket pair and
 * a netlink socket, and classic BPF filters, one locked.  READY; on the first SIGUSR1 (after
 * freeze and thaw) every option is checked and CHECKED 1 printed; on the
 * second (after restore) again, with the addresses, the ordering of a
 * filter and a queued message, and traffic through UDP-Lite.
 */
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "wl_common.h"

/* not in glibc's headers */
#ifndef SOL_UDPLITE
#define SOL_UDPLITE 136
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif

struct iopt {
	const char *name;
	int *sk, level, opt, want;
};

static int tl, tu, u4, u6, ul, ux[2], nl;
static struct sockaddr_storage name_tl, name_u4, name_u6, name_ul;
static const char *round_name = "thaw";

static const struct iopt iopts[] = {
	{ "tl.keepalive", &tl, SOL_SOCKET, SO_KEEPALIVE, 1 },
	{ "tl.keepidle", &tl, IPPROTO_TCP, TCP_KEEPIDLE, 77 },
	{ "tl.keepintvl", &tl, IPPROTO_TCP, TCP_KEEPINTVL, 11 },
	{ "tl.keepcnt", &tl, IPPROTO_TCP, TCP_KEEPCNT, 4 },
	{ "tl.nodelay", &tl, IPPROTO_TCP, TCP_NODELAY, 1 },
	{ "tl.user_timeout", &tl, IPPROTO_TCP, TCP_USER_TIMEOUT, 12345 },
	{ "tl.maxseg", &tl, IPPROTO_TCP, TCP_MAXSEG, 1000 },
	/* IP_TOS sets the priority too: the one set after it stands */
	{ "tl.ip_tos", &tl, IPPROTO_IP, IP_TOS, 0x10 },
	{ "tl.priority", &tl, SOL_SOCKET, SO_PRIORITY, 5 },
	{ "tl.mark", &tl, SOL_SOCKET, SO_MARK, 0x42 },
	{ "tl.rcvlowat", &tl, SOL_SOCKET, SO_RCVLOWAT, 3 },
	{ "tl.oobinline", &tl, SOL_SOCKET, SO_OOBINLINE, 1 },
	{ "tl.dontroute", &tl, SOL_SOCKET, SO_DONTROUTE, 1 },
	{ "tl.ip_ttl", &tl, IPPROTO_IP, IP_TTL, 33 },
	{ "tl.ip_freebind", &tl, IPPROTO_IP, IP_FREEBIND, 1 },
	{ "tl.ip_transparent", &tl, IPPROTO_IP, IP_TRANSPARENT, 1 },
	{ "tu.cork", &tu, IPPROTO_TCP, TCP_CORK, 1 },
	{ "tu.maxseg", &tu, IPPROTO_TCP, TCP_MAXSEG, 1200 },
	{ "u4.broadcast", &u4, SOL_SOCKET, SO_BROADCAST, 1 },
	{ "u4.timestamp", &u4, SOL_SOCKET, SO_TIMESTAMP, 1 },
	{ "u4.multicast_ttl", &u4, IPPROTO_IP, IP_MULTICAST_TTL, 7 },
	{ "u4.multicast_loop", &u4, IPPROTO_IP, IP_MULTICAST_LOOP, 0 },
	{ "u4.lock_filter", &u4, SOL_SOCKET, SO_LOCK_FILTER, 1 },
	{ "u4.rxq_ovfl", &u4, SOL_SOCKET, SO_RXQ_OVFL, 1 },
	{ "u4.select_err_queue", &u4, SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1 },
	{ "u4.rcvmark", &u4, SOL_SOCKET, SO_RCVMARK, 1 },
	{ "u4.multicast_all", &u4, IPPROTO_IP, IP_MULTICAST_ALL, 0 },
	{ "u4.multicast_if", &u4, IPPROTO_IP, IP_MULTICAST_IF, 0x0100007f },
	{ "u6.v6only", &u6, IPPROTO_IPV6, IPV6_V6ONLY, 1 },
	{ "u6.unicast_hops", &u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9 },
	{ "u6.tclass", &u6, IPPROTO_IPV6, IPV6_TCLASS, 0x20 },
	{ "u6.multicast_hops", &u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 3 },
	{ "u6.multicast_if", &u6, IPPROTO_IPV6, IPV6_MULTICAST_IF, 1 },
	{ "ul.send_cscov", &ul, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 20 },
	{ "ul.recv_cscov", &ul, SOL_UDPLITE, UDPLITE_RECV_CSCOV, 16 },
	{ "ul.timestampns_new", &ul, SOL_SOCKET, SO_TIMESTAMPNS_NEW, 1 },
	{ "ul.busy_poll", &ul, SOL_SOCKET, SO_BUSY_POLL, 50 },
	{ "ux.priority", &ux[0], SOL_SOCKET, SO_PRIORITY, 4 },
	{ "ux.rcvlowat", &ux[0], SOL_SOCKET, SO_RCVLOWAT, 2 },
	{ "ux.passsec", &ux[0], SOL_SOCKET, SO_PASSSEC, 1 },
	{ "ux.passpidfd", &ux[0], SOL_SOCKET, SO_PASSPIDFD, 1 },
	{ "ux.passrights", &ux[0], SOL_SOCKET, SO_PASSRIGHTS, 0 },
	{ "nl.priority", &nl, SOL_SOCKET, SO_PRIORITY, 3 },
};
#define NIOPTS (sizeof(iopts) / sizeof(iopts[0]))

/* u4 accepts only datagrams to port 9 of the loopback: any program */
static struct sock_filter f_u4[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 9, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
/* ux[1]'s: keep 4 bytes of each message */
static struct sock_filter f_ux[] = { BPF_STMT(BPF_RET | BPF_K, 4) };

static void seti(int sk, int level, int opt, int v, const char *what)
{
	if (setsockopt(sk, level, opt, &v, sizeof(v)))
		wl_die("setsockopt %s", what);
}

static void attach(int sk, struct sock_filter *f, unsigned short n)
{
	struct sock_fprog p = { n, f };

	if (setsockopt(sk, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)))
		wl_die("SO_ATTACH_FILTER");
}

static int bound(int fam, int type, int proto, const char *ip,
		 struct sockaddr_storage *name)
{
	struct sockaddr_storage ss = { .ss_family = fam };
	socklen_t l = fam == AF_INET ? sizeof(struct sockaddr_in) :
		      sizeof(struct sockaddr_in6);
	int sk = socket(fam, type, proto);

	if (sk < 0)
		wl_die("socket %d/%d/%d", fam, type, proto);
	if (fam == AF_INET)
		inet_pton(fam, ip, &((struct sockaddr_in *)&ss)->sin_addr);
	else
		inet_pton(fam, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (fam == AF_INET6) {
		seti(sk, IPPROTO_IPV6, IPV6_V6ONLY, 1, "v6only");
		seti(sk, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9, "hops");
		seti(sk, IPPROTO_IPV6, IPV6_TCLASS, 0x20, "tclass");
		seti(sk, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 3, "mhops");
		seti(sk, IPPROTO_IPV6, IPV6_MULTICAST_IF, 1, "mif (lo)");
	}
	if (bind(sk, (struct sockaddr *)&ss, l))
		wl_die("bind %s", ip);
	l = sizeof(*name);
	if (getsockname(sk, (struct sockaddr *)name, &l))
		wl_die("getsockname");
	return sk;
}

static void setup_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(name_tl);
	struct linger lg = { 1, 5 };
	size_t i;

	tl = socket(AF_INET, SOCK_STREAM, 0);
	tu = socket(AF_INET, SOCK_STREAM, 0);
	if (tl < 0 || tu < 0)
		wl_die("socket tcp");
	/* every int option of the table, where it is set before bind */
	for (i = 0; i < NIOPTS; i++)
		if (iopts[i].sk == &tl || iopts[i].sk == &tu)
			seti(*iopts[i].sk, iopts[i].level, iopts[i].opt,
			     iopts[i].want, iopts[i].name);
	if (setsockopt(tl, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(tl, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) ||
	    setsockopt(tu, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2))
		wl_die("linger, congestion or bindtodevice");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(tl, (struct sockaddr *)&a, sizeof(a)) || listen(tl, 4) ||
	    getsockname(tl, (struct sockaddr *)&name_tl, &l))
		wl_die("listen");
}

static void setup(void)
{
	size_t i;

	setup_tcp();
	u4 = bound(AF_INET, SOCK_DGRAM, 0, "127.0.0.1", &name_u4);
	u6 = bound(AF_INET6, SOCK_DGRAM, 0, "::1", &name_u6);
	ul = bound(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, "127.0.0.1", &name_ul);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, ux))
		wl_die("socketpair");
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl < 0)
		wl_die("netlink socket");
	for (i = 0; i < NIOPTS; i++)
		if (iopts[i].sk != &tl && iopts[i].sk != &tu &&
		    iopts[i].opt != SO_LOCK_FILTER &&
		    iopts[i].sk != &u6)	/* set before bind */
			seti(*iopts[i].sk, iopts[i].level, iopts[i].opt,
			     iopts[i].want, iopts[i].name);
	attach(u4, f_u4, 4);
	attach(nl, f_u4, 4);	/* as udev's monitors filter uevents */
	seti(u4, SOL_SOCKET, SO_LOCK_FILTER, 1, "lock");
	/* queued before the filter came: it must come back whole */
	if (send(ux[0], "hello world!", 12, 0) != 12)
		wl_die("send ux");
	attach(ux[1], f_ux, 1);
}

static void check_int(const struct iopt *o)
{
	char name[64];
	socklen_t l = sizeof(int);
	int v = -12345;

	snprintf(name, sizeof(name), "%s.%s", round_name, o->name);
	if (getsockopt(*o->sk, o->level, o->opt, &v, &l))
		wl_fail(name, "getsockopt: %s", strerror(errno));
	else if (v != o->want)
		wl_fail(name, "%d, want %d", v, o->want);
	else
		wl_pass(name);
}

static void check_str(int sk, int level, int opt, const char *want,
		      const char *what)
{
	char v[IFNAMSIZ + 16] = "", name[64];
	socklen_t l = sizeof(v);

	snprintf(name, sizeof(name), "%s.%s", round_name, what);
	if (getsockopt(sk, level, opt, v, &l))
		wl_fail(name, "getsockopt: %s", strerror(errno));
	else if (strcmp(v, want))
		wl_fail(name, "'%s', want '%s'", v, want);
	else
		wl_pass(name);
}

static void check_filter(int sk, struct sock_filter *f, socklen_t n,
			 const char *what)
{
	struct sock_filter got[8];
	socklen_t l = 8;
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", round_name, what);
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, got, &l))
		wl_fail(name, "SO_GET_FILTER: %s", strerror(errno));
	else if (l != n || memcmp(got, f, n * sizeof(*f)))
		wl_fail(name, "%u instructions, want %u (or others)", l, n);
	else
		wl_pass(name);
}

static void check_name(int sk, const struct sockaddr_storage *want,
		       const char *what)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", round_name, what);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(sk, (struct sockaddr *)&ss, &l) ||
	    memcmp(&ss, want, l))
		wl_fail(name, "another address");
	else
		wl_pass(name);
}

static void check_opts(void)
{
	struct linger lg = { 0, 0 };
	socklen_t l = sizeof(lg);
	char name[64];
	size_t i;

	for (i = 0; i < NIOPTS; i++)
		check_int(&iopts[i]);
	snprintf(name, sizeof(name), "%s.tl.linger", round_name);
	if (getsockopt(tl, SOL_SOCKET, SO_LINGER, &lg, &l) ||
	    lg.l_onoff != 1 || lg.l_linger != 5)
		wl_fail(name, "%d/%d, want 1/5", lg.l_onoff, lg.l_linger);
	else
		wl_pass(name);
	check_str(tl, IPPROTO_TCP, TCP_CONGESTION, "reno", "tl.congestion");
	check_str(tu, SOL_SOCKET, SO_BINDTODEVICE, "lo", "tu.bindtodevice");
	check_filter(u4, f_u4, 4, "u4.filter");
	check_filter(ux[1], f_ux, 1, "ux.filter");
	check_filter(nl, f_u4, 4, "nl.filter");
	check_name(tl, &name_tl, "tl.name");
	check_name(u4, &name_u4, "u4.name");
	check_name(u6, &name_u6, "u6.name");
	check_name(ul, &name_ul, "ul.name");
}

/* after restore: what the options do, and what was queued */
static void check_traffic(void)
{
	char buf[32];
	ssize_t n;

	n = recv(ux[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 12 || memcmp(buf, "hello world!", 12))
		wl_fail("ux.queued", "%zd bytes, want 12 (refilled after the filter?)", n);
	else
		wl_pass("ux.queued");
	send(ux[0], "abcdefgh", 8, 0);
	n = recv(ux[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 4)
		wl_fail("ux.filtered", "%zd bytes, want 4", n);
	else
		wl_pass("ux.filtered");
	n = setsockopt(u4, SOL_SOCKET, SO_DETACH_FILTER, &(int){ 0 }, sizeof(int));
	if (n != -1 || errno != EPERM)
		wl_fail("u4.locked", "detaching the filter: %zd %s", n, strerror(errno));
	else
		wl_pass("u4.locked");
	if (sendto(ul, "udplite!", 8, 0, (struct sockaddr *)&name_ul,
		   sizeof(struct sockaddr_in)) != 8 ||
	    recv(ul, buf, sizeof(buf), 0) != 8 || memcmp(buf, "udplite!", 8))
		wl_fail("ul.traffic", "a datagram to itself did not come");
	else
		wl_pass("ul.traffic");
}

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void wait_usr1(int n, const sigset_t *old)
{
	while (usr1 < n)
		sigsuspend(old);
}

int main(void)
{
	sigset_t block, old;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	setup();
	wl_ready();
	wait_usr1(1, &old);
	check_opts();
	fflush(stdout);
	if (write(STDOUT_FILENO, "CHECKED 1\n", 10) != 10)
		wl_die("write");
	wait_usr1(2, &old);
	round_name = "restore";
	check_opts();
	check_traffic();
	return wl_done();
}
