// SPDX-License-Identifier: MIT
/*
 * wl_netdev: devices made inside the tree's own network namespace (run
 * under unshare --net): a veth pair e0/e1 with both ends inside, e0 at
 * index 50 (MTU 1400, a MAC of its own, promiscuous, addresses, a route
 * through it, per-device sysctls), e1 a port of br0 without ARP, left
 * down; a bridge br0 with STP timers and a priority of its own, and a
 * veth pair v0/v1 (v0 a port of br0, v1 with an address), and a macvlan
 * mv0 on v1 in private mode with a MAC and an address of its own.  (Our kernel
 * has no dummy driver: the dummy row of the table is not run here.)  After SIGUSR1 it checks each piece by
 * value (ioctl, /proc/sys, ip(8) output), then that ip(8) shows the same
 * devices, addresses and routes as before the checkpoint.
 */
#define _GNU_SOURCE
#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_net.h"

#include <sys/ioctl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if.h>

static const char setup[] =
	"set -e\n"
	"ip link set lo up\n"
	"ip link add e0 index 50 type veth peer name e1\n"
	"ip link set e0 mtu 1400 address 02:00:00:00:00:e0 promisc on\n"
	"echo 2 >/proc/sys/net/ipv4/conf/e0/rp_filter\n"
	"echo 33 >/proc/sys/net/ipv6/conf/e0/hop_limit\n"
	"echo 2 >/proc/sys/net/ipv4/conf/lo/arp_announce\n"
	"echo 4242 >/proc/sys/net/ipv4/conf/default/medium_id\n"
	"ip link set e0 up\n"
	"ip addr add 10.50.0.1/24 dev e0\n"
	"ip addr add fd50::1/64 dev e0 nodad\n"
	"ip route add 10.70.0.0/16 via 10.50.0.2 dev e0 metric 5\n"
	"ip link add br0 type bridge stp_state 0 forward_delay 500 hello_time 300 priority 1000\n"
	"ip link add v0 type veth peer name v1\n"
	"ip link set v0 master br0\n"
	"ip link set v1 mtu 1450 address 02:00:00:00:00:b1\n"
	"ip link set e1 arp off master br0\n"
	"echo 1 >/proc/sys/net/ipv4/conf/br0/forwarding\n"
	"ip link set v0 up\n"
	"ip link set v1 up\n"
	"ip link set br0 up\n"
	"ip addr add 10.60.0.1/24 dev br0\n"
	"ip addr add 10.60.0.2/24 dev v1\n"
	"ip link add mv0 link v1 address 02:00:00:00:00:c1 type macvlan mode private\n"
	"ip link set mv0 up\n"
	"ip addr add 10.60.0.3/24 dev mv0\n";

/*
 * what ip(8) shows, less what changes by itself (timers, carrier, DAD,
 * the order of IPv6 routes of equal metric: that in which devices came up)
 */
static const char state_cmd[] =
	"{ ip -o link show; ip -o addr show; ip route show; ip -6 route show | sort;"
	"  ip -d -o link show type bridge; } | sed -E "
	"'s/ state [A-Z]+//; s/(LOWER_UP|NO-CARRIER),?//g; s/,>/>/;"
	" s/ [a-z_]*timer +[0-9.]+//g; s/ tentative//; s/\\\\ +/ /g'";

static char *run(const char *cmd)
{
	static char out[65536];
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		wl_die("popen");
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	if (pclose(f))
		out[0] = '\0';
	return strdup(out);
}

static int ioc(int s, unsigned long req, const char *dev, struct ifreq *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ifr_name, sizeof(r->ifr_name), "%s", dev);
	return ioctl(s, req, r);
}

/* name, index (0: any), mtu, MAC's last byte, flags that must be set */
struct want {
	const char *name;
	unsigned int index, mtu, mac5;
	int flags, unset;
};

static const struct want wants[] = {
	{ "e0", 50, 1400, 0xe0, IFF_UP | IFF_PROMISC, 0 },
	{ "v1", 0, 1450, 0xb1, IFF_UP, 0 },
	{ "v0", 0, 1500, 0, IFF_UP, 0 },
	{ "br0", 0, 1500, 0, IFF_UP, 0 },
	{ "e1", 0, 1500, 0, IFF_NOARP, IFF_UP },
	{ "mv0", 0, 1450, 0xc1, IFF_UP, 0 },
};

static void check_devs(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), mark = wl_mark();
	const struct want *w;
	struct ifreq r;
	size_t i;

	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		w = &wants[i];
		if (!if_nametoindex(w->name) ||
		    (w->index && if_nametoindex(w->name) != w->index)) {
			wl_fail("netdev.links", "%s: index %u, want %u", w->name,
				if_nametoindex(w->name), w->index);
			continue;
		}
		if (ioc(s, SIOCGIFMTU, w->name, &r) || (unsigned)r.ifr_mtu != w->mtu)
			wl_fail("netdev.links", "%s: mtu %d, want %u", w->name,
				r.ifr_mtu, w->mtu);
		if (w->mac5 && (ioc(s, SIOCGIFHWADDR, w->name, &r) ||
				(unsigned char)r.ifr_hwaddr.sa_data[5] != w->mac5))
			wl_fail("netdev.links", "%s: MAC ends %02x, want %02x",
				w->name, (unsigned char)r.ifr_hwaddr.sa_data[5],
				w->mac5);
		if (ioc(s, SIOCGIFFLAGS, w->name, &r) ||
		    (r.ifr_flags & w->flags) != w->flags ||
		    r.ifr_flags & w->unset)
			wl_fail("netdev.links", "%s: flags %#x", w->name,
				r.ifr_flags);
	}
	close(s);
	wl_verdict("netdev.links", mark);
}

static void expect(const char *name, const char *cmd, const char *text)
{
	char *out = run(cmd);

	if (!strstr(out, text))
		wl_fail(name, "'%s' lacks '%s': %s", cmd, text, out);
	else
		wl_pass(name);
	free(out);
}

static void check_sysctl(const char *key, const char *want)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s", key);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f) || strtol(buf, NULL, 10) !=
						   strtol(want, NULL, 10))
		wl_fail("netdev.sysctl", "%s is '%s', want %s", key, buf, want);
	else
		wl_pass("netdev.sysctl");
	if (f)
		fclose(f);
}

/* a datagram to br0's address from v1's: both must be there and up */
static void check_udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[8] = "";

	inet_pton(AF_INET, "10.60.0.1", &a.sin_addr);
	inet_pton(AF_INET, "10.60.0.2", &b.sin_addr);
	if (bind(r, (void *)&a, sizeof(a)) || bind(s, (void *)&b, sizeof(b)) ||
	    getsockname(r, (void *)&a, &(socklen_t){ sizeof(a) }) ||
	    sendto(s, "ping", 4, 0, (void *)&a, sizeof(a)) != 4 ||
	    recv(r, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4))
		wl_fail("netdev.udp", "no datagram 10.60.0.2 -> 10.60.0.1: %m");
	else
		wl_pass("netdev.udp");
	close(r);
	close(s);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(void)
{
	char *before, *after;
	int st, i;

	wl_own_session();
	wl_usr1_setup();
	st = system(setup);
	if (st)
		wl_die("the setup script: status %#x", st);
	before = run(state_cmd);
	if (!before[0])
		wl_die("ip(8) shows nothing");
	wl_fdt_take(&fdt0);
	wl_ready();
	wl_wait_usr1();
	wl_fdt_check("netdev.fd_table", &fdt0);
	check_devs();
	check_sysctl("ipv4/conf/e0/rp_filter", "2");
	check_sysctl("ipv6/conf/e0/hop_limit", "33");
	check_sysctl("ipv4/conf/br0/forwarding", "1");
	check_sysctl("ipv4/conf/lo/arp_announce", "2");
	check_sysctl("ipv4/conf/default/medium_id", "4242");
	expect("netdev.master", "ip -o link show dev v0", "master br0");
	expect("netdev.master", "ip -o link show dev e1", "master br0");
	expect("netdev.bridge", "ip -d -o link show dev br0",
	       "forward_delay 500 hello_time 300");
	expect("netdev.bridge", "ip -d -o link show dev br0", "priority 1000");
	expect("netdev.peer", "ip -o link show dev v1", "v1@v0");
	expect("netdev.macvlan", "ip -d -o link show dev mv0", "macvlan mode private");
	expect("netdev.macvlan", "ip -o link show dev mv0", "mv0@v1");
	expect("netdev.addrs", "ip -o addr show dev e0", "fd50::1/64");
	expect("netdev.route", "ip route show 10.70.0.0/16",
	       "via 10.50.0.2 dev e0 metric 5");
	check_udp();
	/* carrier changes reach routes (linkdown) a moment later: 10 s */
	after = run(state_cmd);
	for (i = 0; i < 100 && strcmp(before, after); i++) {
		free(after);
		usleep(100 * 1000);
		after = run(state_cmd);
	}
	if (strcmp(before, after))
		wl_fail("netdev.same", "ip(8) shows\n%s\nwas\n%s", after, before);
	else
		wl_pass("netdev.same");
	return wl_done();
}
