// SPDX-License-Identifier: MIT
/*
 * wl_netns_sub - processes of the tree in network namespaces of their own
 * (zdtm netns_sub, netns_sub_sysctl).  The root forks:
 *   a: unshare(CLONE_NEWNET), lo up with 10.61.0.1/24 and a route to
 *      10.62.0.0/16, ip_default_ttl 61; it forks g, which stays in a's;
 *   c: unshare(CLONE_NEWNET), lo down, ip_default_ttl 62, somaxconn 99;
 *   b: stays in the root's.
 * After SIGUSR1 the root checks who shares a namespace with whom, then
 * each process checks its own namespace's state.
 * "sock": a also holds a UDP socket made in its namespace; "veth": a also
 * has a veth pair in its namespace (both refused by name).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ifaddrs.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wl_common.h"
#include "wl_net.h"

static int ready[2];
static const char *mode = "";

static void put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		wl_die(path);
	close(fd);
}

static int get(const char *path)
{
	char b[32] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, b, sizeof(b) - 1) <= 0)
		wl_die(path);
	close(fd);
	return atoi(b);
}

static bool lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	bool up = !ioctl(s, SIOCGIFFLAGS, &ifr) && ifr.ifr_flags & IFF_UP;

	close(s);
	return up;
}

static bool has_addr(const char *want)
{
	struct ifaddrs *ifa, *i;
	char txt[INET_ADDRSTRLEN];
	bool found = false;

	if (getifaddrs(&ifa))
		wl_die("getifaddrs");
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			      txt, sizeof(txt)) && !strcmp(txt, want))
			found = true;
	freeifaddrs(ifa);
	return found;
}

static void expect(bool ok, const char *name, const char *detail)
{
	if (ok)
		wl_pass(name);
	else
		wl_fail(name, "%s", detail);
}

static void check_int(const char *name, const char *path, int want)
{
	int got = get(path);

	if (got == want)
		wl_pass(name);
	else
		wl_fail(name, "%s is %d, want %d", path, got, want);
}

/* a child's verdict is its exit status; the root says DONE */
static int child_done(void)
{
	fflush(stdout);
	return wl_nfail ? 1 : 0;
}

static void signalled(void)
{
	if (write(ready[1], "r", 1) != 1)
		wl_die("write ready");
	close(ready[1]);
	wl_wait_usr1();
}

static int run_g(void)
{
	signalled();
	check_int("g.ttl", "/proc/sys/net/ipv4/ip_default_ttl", 61);
	expect(has_addr("10.61.0.1"), "g.addr", "10.61.0.1 missing");
	return child_done();
}

static int run_a(void)
{
	int sk = -1, st;
	pid_t g;

	wl_own_net();
	if (system("ip addr add 10.61.0.1/24 dev lo") ||
	    system("ip route add 10.62.0.0/16 dev lo"))
		wl_die("ip addr/route add");
	if (!strcmp(mode, "veth") &&
	    system("ip link add sv0 type veth peer name sv1"))
		wl_die("ip link add veth");
	if (!strcmp(mode, "sock") && (sk = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		wl_die("socket");
	put("/proc/sys/net/ipv4/ip_default_ttl", "61");
	fflush(stdout);
	g = fork();
	if (g < 0)
		wl_die("fork g");
	if (!g)
		exit(run_g());
	signalled();
	kill(g, SIGUSR1);
	expect(lo_up(), "a.lo_up", "lo is down");
	expect(has_addr("10.61.0.1"), "a.addr", "10.61.0.1 missing");
	expect(!system("ip route show 10.62.0.0/16 | grep -q 'dev lo'"),
	       "a.route", "no route to 10.62.0.0/16 on lo");
	check_int("a.ttl", "/proc/sys/net/ipv4/ip_default_ttl", 61);
	if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("a.g", "g failed (status %#x)", st);
	(void)sk;
	return child_done();
}

static int run_c(void)
{
	if (unshare(CLONE_NEWNET))
		wl_die("unshare(CLONE_NEWNET)");
	put("/proc/sys/net/ipv4/ip_default_ttl", "62");
	put("/proc/sys/net/core/somaxconn", "99");
	signalled();
	expect(!lo_up(), "c.lo_down", "lo is up");
	expect(!has_addr("10.61.0.1"), "c.no_addr", "a's 10.61.0.1 is here");
	check_int("c.ttl", "/proc/sys/net/ipv4/ip_default_ttl", 62);
	check_int("c.somaxconn", "/proc/sys/net/core/somaxconn", 99);
	return child_done();
}

static int run_b(void)
{
	signalled();
	expect(!has_addr("10.61.0.1"), "b.no_addr", "a's 10.61.0.1 is here");
	check_int("b.ttl", "/proc/sys/net/ipv4/ip_default_ttl", 64);
	return child_done();
}

static pid_t spawn(int (*fn)(void))
{
	pid_t p;

	fflush(stdout);
	p = fork();
	if (p < 0)
		wl_die("fork");
	if (!p) {
		close(ready[0]);
		exit(fn());
	}
	return p;
}

static char *ns_of(pid_t pid)
{
	static char buf[4][64];
	static int n;
	char path[64], *b = buf[n++ % 4];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	len = readlink(path, b, 63);
	b[len < 0 ? 0 : len] = 0;
	return b;
}

static void same(const char *name, pid_t x, pid_t y, bool want)
{
	char *nx = ns_of(x), *ny = ns_of(y);

	if (!strcmp(nx, ny) == want && nx[0])
		wl_pass(name);
	else
		wl_fail(name, "%d in %s, %d in %s", x, nx, y, ny);
}

int main(int argc, char **argv)
{
	pid_t kids[3], g;
	int i, st;
	char c;

	if (argc > 1)
		mode = argv[1];
	wl_own_session();
	wl_usr1_setup();
	if (pipe(ready))
		wl_die("pipe");
	kids[0] = spawn(run_a);
	kids[1] = spawn(run_b);
	kids[2] = spawn(run_c);
	close(ready[1]);
	for (i = 0; i < 4; i++)
		if (read(ready[0], &c, 1) != 1)
			wl_die("a child died before it was ready");
	close(ready[0]);
	wl_ready();
	wl_wait_usr1();
	g = 0;
	{
		char path[64], *line = NULL;
		size_t cap = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 kids[0], kids[0]);
		f = fopen(path, "r");
		if (f && getline(&line, &cap, f) > 0)
			g = atoi(line);
		if (f)
			fclose(f);
		free(line);
	}
	same("ns.a_own", kids[0], getpid(), false);
	same("ns.c_own", kids[2], getpid(), false);
	same("ns.a_not_c", kids[0], kids[2], false);
	same("ns.b_root", kids[1], getpid(), true);
	if (g > 0)
		same("ns.g_a", g, kids[0], true);
	else
		wl_fail("ns.g_a", "a has no child");
	for (i = 0; i < 3; i++)
		kill(kids[i], SIGUSR1);
	for (i = 0; i < 3; i++)
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			wl_fail("children", "child %d failed (status %#x)",
				kids[i], st);
	return wl_done();
}
