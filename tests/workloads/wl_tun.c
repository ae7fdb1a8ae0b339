// SPDX-License-Identifier: MIT
/*
 * wl_tun: /dev/net/tun descriptors, in the daemon's network namespace or
 * (WL_TUN_NS=1, run under unshare --net) in the tree's own: one never
 * attached, one attached to a tun device (no packet info), two queues of
 * a multi-queue device with the second detached, a persistent device no
 * descriptor holds, and a tap whose MAC is checked.  Names carry PREFIX
 * (argv[1]) so that runs beside each other do not meet.  After SIGUSR1
 * each descriptor is checked as zdtm's tun test does; in the tree's own
 * namespace the tun device is up with an address too (no IPv6: its router
 * solicitations would wait in the queue, which is refused), and a datagram
 * routed through it is read back from its descriptor.
 */
#define _GNU_SOURCE
#include "wl_common.h"
#include "wl_fdtable.h"
#include "wl_net.h"

#include <fcntl.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>

static char names[4][IFNAMSIZ];	/* tun, multi-queue, persistent, tap */

static int attach(int fd, const char *name, int flags)
{
	struct ifreq r = { .ifr_flags = flags };

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	return ioctl(fd, TUNSETIFF, &r);
}

static int open_tun(const char *name, int flags)
{
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0 || attach(fd, name, flags))
		wl_die("attach %s", name);
	return fd;
}

static int set_queue(int fd, int flags)
{
	struct ifreq r = { .ifr_flags = flags };

	return ioctl(fd, TUNSETQUEUE, &r);
}

static void check_tun(const char *what, int fd, const char *name, int flags)
{
	struct ifreq r = { 0 };

	if (ioctl(fd, TUNGETIFF, &r))
		wl_fail(what, "TUNGETIFF: %m");
	else if (strcmp(r.ifr_name, name) || (r.ifr_flags & flags) != flags)
		wl_fail(what, "attached to %s flags %#x, want %s %#x",
			r.ifr_name, r.ifr_flags, name, flags);
	else
		wl_pass(what);
}

static int mac_of(int fd, unsigned char *mac)
{
	struct ifreq r = { 0 };

	if (ioctl(fd, SIOCGIFHWADDR, &r))
		return -1;
	memcpy(mac, r.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* a datagram to 10.80.0.2 goes out of the tun device: we read it */
static void check_packet(int fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char buf[2048];
	ssize_t n;
	int i;

	inet_pton(AF_INET, "10.80.0.2", &a.sin_addr);
	if (sendto(s, "ping", 4, 0, (void *)&a, sizeof(a)) != 4) {
		wl_fail("tun.packet", "sendto 10.80.0.2: %m");
		return;
	}
	close(s);
	/* anything else the kernel sends may come first: up to 20 packets */
	for (i = 0; i < 20 && poll(&p, 1, 5000) == 1; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 32 && buf[0] == 0x45 && buf[9] == IPPROTO_UDP &&
		    !memcmp(buf + 28, "ping", 4)) {
			wl_pass("tun.packet");
			return;
		}
	}
	wl_fail("tun.packet", "the datagram did not come out of %s", names[0]);
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	const char *pfx = argc > 1 ? argv[1] : "wt";
	static const char *const sfx[4] = { "t0", "mq", "p0", "tap" };
	unsigned char mac[6], mac2[6];
	const char *nsv = getenv("WL_TUN_NS");
	int fds[5], p, i, ns = nsv && *nsv;
	char cmd[256];
	unsigned int index0;

	wl_usr1_setup();
	for (i = 0; i < 4; i++)
		snprintf(names[i], sizeof(names[i]), "%s%s", pfx, sfx[i]);
	fds[0] = open("/dev/net/tun", O_RDWR);
	if (fds[0] < 0)
		wl_die("open /dev/net/tun");
	fds[1] = open_tun(names[0], IFF_TUN | IFF_NO_PI);
	fds[2] = open_tun(names[1], IFF_TUN | IFF_MULTI_QUEUE);
	fds[3] = open_tun(names[1], IFF_TUN | IFF_MULTI_QUEUE);
	if (set_queue(fds[3], IFF_DETACH_QUEUE))
		wl_die("detach a queue of %s", names[1]);
	p = open_tun(names[2], IFF_TUN);
	if (ioctl(p, TUNSETPERSIST, 1))
		wl_die("TUNSETPERSIST %s", names[2]);
	close(p);
	fds[4] = open_tun(names[3], IFF_TAP);
	if (mac_of(fds[4], mac))
		wl_die("SIOCGIFHWADDR %s", names[3]);
	if (ns) {
		snprintf(cmd, sizeof(cmd),
			 "ip link set lo up && echo 1 >/proc/sys/net/ipv6/conf/%s/disable_ipv6 && ip link set %s up && ip addr add 10.80.0.1/24 dev %s",
			 names[0], names[0], names[0]);
		if (system(cmd))
			wl_die("%s", cmd);
	}
	index0 = if_nametoindex(names[0]);
	wl_fdt_take(&fdt0);
	wl_ready();
	wl_wait_usr1();
wl_fdt_check("tun.fd_table", &fdt0);

	/* never attached: it may attach, to a device of its own */
	snprintf(cmd, sizeof(cmd), "%sx3", pfx);
	if (attach(fds[0], cmd, IFF_TUN))
		wl_fail("tun.unattached", "TUNSETIFF %s: %m", cmd);
	else
		wl_pass("tun.unattached");
	check_tun("tun.tun", fds[1], names[0], IFF_TUN | IFF_NO_PI);
	if (if_nametoindex(names[0]) != index0)
		wl_fail("tun.index", "%s index %u, was %u", names[0],
			if_nametoindex(names[0]), index0);
	check_tun("tun.mq", fds[2], names[1], IFF_TUN | IFF_MULTI_QUEUE);
	if (set_queue(fds[2], IFF_DETACH_QUEUE))
		wl_fail("tun.mq_attached", "detach: %m");
	else
		wl_pass("tun.mq_attached");
	if (set_queue(fds[3], IFF_ATTACH_QUEUE))
		wl_fail("tun.mq_detached", "attach: %m");
	else
		wl_pass("tun.mq_detached");
	p = open("/dev/net/tun", O_RDWR);
	if (attach(p, names[2], IFF_TUN | IFF_TUN_EXCL) == 0)
		wl_fail("tun.persist", "%s was gone", names[2]);
	else if (attach(p, names[2], IFF_TUN) || ioctl(p, TUNSETPERSIST, 0))
		wl_fail("tun.persist", "attach %s: %m", names[2]);
	else
		wl_pass("tun.persist");
	close(p);
	check_tun("tun.tap", fds[4], names[3], IFF_TAP);
	if (mac_of(fds[4], mac2) || memcmp(mac, mac2, 6))
		wl_fail("tun.tap_mac", "the MAC of %s changed", names[3]);
	else
		wl_pass("tun.tap_mac");
	if (ns)
		check_packet(fds[1]);
	return wl_done();
}
