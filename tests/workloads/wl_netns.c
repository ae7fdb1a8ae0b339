// SPDX-License-Identifier: MIT
/*
 * wl_netns - a tree in a network namespace of its own (run under unshare
 * --net): lo up with MTU 9000, extra addresses 10.7.0.1/24 and fd00::7/64
 * and 127.0.0.2/8 (scope host), routes to 10.9.0.0/16 and fd09::/64 on lo
 * (added by ip(8)), net.ipv4.ip_default_ttl 77 and net.core.somaxconn 321;
 * TCP listeners on 127.0.0.1 and ::1, a UDP socket on 10.7.0.1 and an
 * abstract unix listener (abstract names are per network namespace).
 * After SIGUSR1 the root checks the device, addresses and sysctls, and a
 * child of the tree connects to every listener from inside.  With WL_NFT
 * set it also adds an nftables rule that drops TCP to port 7004, where it
 * listens too, and checks that a connection there still does not come.
 * With WL_VETH set it waits for the test to give it a veth vc0 with
 * 10.8.0.2/24 and MTU 1400, listens on 10.8.0.2 and, after SIGUSR1,
 * checks vc0 and takes a connection from the test outside.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#define PORT4	7001
#define PORT6	7002
#define PORTU	7003
#define PORTF	7004	/* WL_NFT: an nftables rule drops what goes there */
#define PORTV	7005	/* WL_VETH: the test connects from outside */
#define VETH_MTU 1400
#define ABSTRACT "crfs-netns-test"
#define MTU	9000

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void put_sysctl(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(v, f) < 0 || fclose(f))
		wl_die("write %s", path);
}

static int get_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (!f || fscanf(f, "%d", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static void lo_setup(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		wl_die("SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		wl_die("SIOCSIFFLAGS");
	ifr.ifr_mtu = MTU;
	if (ioctl(s, SIOCSIFMTU, &ifr))
		wl_die("SIOCSIFMTU");
	close(s);
	if (system("ip addr add 10.7.0.1/24 dev lo") ||
	    system("ip addr add 127.0.0.2/8 dev lo") ||
	    system("ip -6 addr add fd00::7/64 dev lo nodad") ||
	    system("ip route add 10.9.0.0/16 dev lo") ||
	    system("ip -6 route add fd09::/64 dev lo metric 77"))
		wl_die("ip addr/route add");
	put_sysctl("/proc/sys/net/ipv4/ip_default_ttl", "77");
	put_sysctl("/proc/sys/net/core/somaxconn", "321");
}

static int want(const char *var)
{
	const char *v = getenv(var);

	return v && *v;
}

static int want_nft(void)
{
	const char *v = getenv("WL_NFT");

	return v && *v;
}

static void nft_setup(void)
{
	if (system("nft add table inet crfs && "
		   "nft add chain inet crfs out '{ type filter hook output priority 0; }' && "
		   "nft add rule inet crfs out tcp dport 7004 drop"))
		wl_die("nft add");
}

static void check_nft(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORTF) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { s, POLLOUT, 0 };

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(s, (void *)&a, sizeof(a)) && errno != EINPROGRESS)
		wl_fail("netns.nft", "connect: %m");
	else if (poll(&p, 1, 500) != 0)
		wl_fail("netns.nft", "port %d answered: the drop rule is gone",
			PORTF);
	else
		wl_pass("netns.nft");
	close(s);
}

static int listen_on(int family, const char *addr, int port, int type);
static int has_addr(const char *want);

/* the test moves vc0 in and configures it: wait for its address */
static int veth_setup(void)
{
	int i, s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORTV) };

	inet_pton(AF_INET, "10.8.0.2", &a.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	for (i = 0; bind(s, (void *)&a, sizeof(a)); i++) {
		if (i == 200)
			wl_die("no 10.8.0.2 after 10 s");
		usleep(50000);
	}
	if (listen(s, 8))
		wl_die("listen on 10.8.0.2");
	return s;
}

static void check_veth(void)
{
	struct ifreq ifr = { .ifr_name = "vc0" };
	int s = socket(AF_INET, SOCK_DGRAM, 0), mark = wl_mark();

	if (ioctl(s, SIOCGIFFLAGS, &ifr) || !(ifr.ifr_flags & IFF_UP))
		wl_fail("netns.veth", "vc0 is missing or down");
	if (ioctl(s, SIOCGIFMTU, &ifr) || ifr.ifr_mtu != VETH_MTU)
		wl_fail("netns.veth", "vc0 mtu %d, want %d", ifr.ifr_mtu,
			VETH_MTU);
	if (!has_addr("10.8.0.2"))
		wl_fail("netns.veth", "10.8.0.2 is missing");
	close(s);
	wl_verdict("netns.veth", mark);
}

static int listen_on(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	int one = 1, s = socket(family, type, 0);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a4->sin_addr);
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a6->sin6_addr);
	}
	if (s < 0 || bind(s, (void *)&ss, sizeof(ss)) ||
	    (type == SOCK_STREAM && listen(s, 8)))
		wl_die("listen on %s port %d", addr, port);
	return s;
}

static int unix_addr(struct sockaddr_un *u)
{
	memset(u, 0, sizeof(*u));
	u->sun_family = AF_UNIX;
	memcpy(u->sun_path + 1, ABSTRACT, strlen(ABSTRACT));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ABSTRACT);
}

static int unix_listen(void)
{
	struct sockaddr_un u;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (void *)&u, unix_addr(&u)) || listen(s, 8))
		wl_die("abstract unix listener");
	return s;
}

static void check_lo(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (ioctl(s, SIOCGIFFLAGS, &ifr) || !(ifr.ifr_flags & IFF_UP))
		wl_fail("netns.lo_up", "lo is down");
	else
		wl_pass("netns.lo_up");
	if (ioctl(s, SIOCGIFMTU, &ifr) || ifr.ifr_mtu != MTU)
		wl_fail("netns.lo_mtu", "mtu %d, want %d", ifr.ifr_mtu, MTU);
	else
		wl_pass("netns.lo_mtu");
	close(s);
}

static int has_addr(const char *want)
{
	struct ifaddrs *ifa, *i;
	char buf[INET6_ADDRSTRLEN];
	int found = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		inet_ntop(i->ifa_addr->sa_family,
			  i->ifa_addr->sa_family == AF_INET ?
			  (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
			  (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			  buf, sizeof(buf));
		found |= !strcmp(buf, want);
	}
	freeifaddrs(ifa);
	return found;
}

/* a route exists if a UDP socket can be connected through it */
static int routed(int family, const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	int s = socket(family, SOCK_DGRAM, 0), ok;

	if (family == AF_INET) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(9);
		inet_pton(AF_INET, addr, &a4->sin_addr);
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(9);
		inet_pton(AF_INET6, addr, &a6->sin6_addr);
	}
	ok = !connect(s, (void *)&ss, sizeof(ss));
	close(s);
	return ok;
}

static void check_routes(void)
{
	int mark = wl_mark();

	if (!routed(AF_INET, "10.9.0.5"))
		wl_fail("netns.routes", "no route to 10.9.0.5: %m");
	if (!routed(AF_INET6, "fd09::5"))
		wl_fail("netns.routes", "no route to fd09::5: %m");
	wl_verdict("netns.routes", mark);
}

static void check_addrs_sysctls(void)
{
	static const char *const want[] = { "127.0.0.1", "::1", "10.7.0.1",
					    "fd00::7", "127.0.0.2" };
	int mark = wl_mark(), ttl = 0, s;
	socklen_t l = sizeof(ttl);
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_addr(want[i]))
			wl_fail("netns.addrs", "%s is missing", want[i]);
	wl_verdict("netns.addrs", mark);
	mark = wl_mark();
	if (get_sysctl("/proc/sys/net/ipv4/ip_default_ttl") != 77)
		wl_fail("netns.sysctl", "ip_default_ttl is %d",
			get_sysctl("/proc/sys/net/ipv4/ip_default_ttl"));
	if (get_sysctl("/proc/sys/net/core/somaxconn") != 321)
		wl_fail("netns.sysctl", "somaxconn is %d",
			get_sysctl("/proc/sys/net/core/somaxconn"));
	/* and the kernel uses it: a new socket's TTL */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (getsockopt(s, IPPROTO_IP, IP_TTL, &ttl, &l) || ttl != 77)
		wl_fail("netns.sysctl", "a new socket's TTL is %d", ttl);
	close(s);
	wl_verdict("netns.sysctl", mark);
}

static int connect_to(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	int s = socket(family, type, 0);

	if (family == AF_INET) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a4->sin_addr);
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a6->sin6_addr);
	}
	if (s < 0 || connect(s, (void *)&ss, sizeof(ss)) ||
	    write(s, "ping", 4) != 4)
		return -1;
	return s;
}

/* the client: every listener answers inside the namespace */
static int client(void)
{
	struct sockaddr_un u;
	int s, bad = 0;

	while (!go)
		pause();
	s = connect_to(AF_INET, "127.0.0.1", PORT4, SOCK_STREAM);
	bad |= s < 0;
	s = connect_to(AF_INET6, "::1", PORT6, SOCK_STREAM);
	bad |= (s < 0) << 1;
	s = connect_to(AF_INET, "10.7.0.1", PORTU, SOCK_DGRAM);
	bad |= (s < 0) << 2;
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s, (void *)&u, unix_addr(&u)) || write(s, "ping", 4) != 4)
		bad |= 8;
	sleep(1);	/* the server reads before we close */
	return bad;
}

static void serve(const char *name, int l, int stream)
{
	struct pollfd p = { l, POLLIN, 0 };
	char buf[8] = "";
	int c = l;

	if (poll(&p, 1, 5000) != 1) {
		wl_fail(name, "nobody came in 5 s");
		return;
	}
	if (stream)
		c = accept(l, NULL, NULL);
	p.fd = c;
	if (c < 0 || poll(&p, 1, 5000) != 1 || read(c, buf, 4) != 4 ||
	    memcmp(buf, "ping", 4))
		wl_fail(name, "no 'ping' from the client");
	else
		wl_pass(name);
	if (stream && c >= 0)
		close(c);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	int t4, t6, u, x, st, v = -1;
	pid_t kid;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	lo_setup();
	t4 = listen_on(AF_INET, "127.0.0.1", PORT4, SOCK_STREAM);
	t6 = listen_on(AF_INET6, "::1", PORT6, SOCK_STREAM);
	u = listen_on(AF_INET, "10.7.0.1", PORTU, SOCK_DGRAM);
	x = unix_listen();
	if (want_nft()) {
		listen_on(AF_INET, "127.0.0.1", PORTF, SOCK_STREAM);
		nft_setup();
	}
	if (want("WL_VETH"))
		v = veth_setup();
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid)
		exit(client());
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("netns.fd_table", &fdt0);
	check_lo();
	check_addrs_sysctls();
	check_routes();
	if (want_nft())
		check_nft();
	kill(kid, SIGUSR1);
	serve("netns.tcp4", t4, 1);
	serve("netns.tcp6", t6, 1);
	serve("netns.udp", u, 0);
	serve("netns.unix", x, 1);
	if (v >= 0) {
		check_veth();
		serve("netns.veth_tcp", v, 1);
	}
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("netns.client", "client status %#x", st);
	else
		wl_pass("netns.client");
	return wl_done();
}
