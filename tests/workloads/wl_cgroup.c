// SPDX-License-Identifier: MIT
/*
 * wl_cgroup [--ns] DIR...: a tree in cgroups of its own.  The test puts us
 * in our cgroups; with --ns we unshare a cgroup namespace there.  A child
 * joins the cgroup DIR (a directory of a cgroup file system, given for
 * each hierarchy) itself.  Both note /proc/self/cgroup (as our namespace
 * shows it), and after SIGUSR1 check that it reads the same, and that the
 * cgroup namespace is still one of our own (--ns: every path reads "/" or
 * lies below it, where the host's would be longer).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "wl_common.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void read_cgroups(char *buf, size_t len)
{
	int fd = open("/proc/self/cgroup", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		wl_die("open /proc/self/cgroup");
	n = read(fd, buf, len - 1);
	if (n <= 0)
		wl_die("read /proc/self/cgroup");
	buf[n] = '\0';
	close(fd);
}

static void join(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		wl_die("join %s", dir);
	close(fd);
}

static int same(const char *who, const char *before, const char *after)
{
	if (!strcmp(before, after))
		return 0;
	printf("FAIL cgroup.%s: /proc/self/cgroup was\n%sand is\n%s", who,
	       before, after);
	fflush(stdout);
	return 1;
}

/* in our namespace every cgroup of the root reads "/", the child's "/k" */
static int ns_view(const char *who, const char *now, int child)
{
	const char *line;
	int bad = 0;

	for (line = now; !child && *line; line = strchr(line, '\n') + 1)
		if (strncmp(strchr(line, '\n') - 2, ":/", 2))
			bad = 1;
	if (child && !strstr(now, ":/k\n"))
		bad = 1;
	if (bad)
		printf("FAIL cgroup.%s.ns: not our namespace's view:\n%s", who,
		       now);
	return bad;
}

static int check(const char *who, const char *before, int ns, int child)
{
	char now[4096];
	int bad;

	read_cgroups(now, sizeof(now));
	bad = same(who, before, now);
	if (ns)
		bad |= ns_view(who, now, child);
	fflush(stdout);
	return bad;
}

int main(int argc, char **argv)
{
	char mine[4096], kids[4096];
	int ns = argc > 1 && !strcmp(argv[1], "--ns"), i, st, p[2];
	pid_t kid;
	char c;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	if (ns && unshare(CLONE_NEWCGROUP))
		wl_die("unshare(CLONE_NEWCGROUP)");
	if (pipe(p))
		wl_die("pipe");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (!kid) {
		close(p[0]);
		for (i = 1 + ns; i < argc; i++)
			join(argv[i]);
		read_cgroups(kids, sizeof(kids));
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		while (!go)
			pause();
		exit(check("child", kids, ns, 1));
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		wl_die("child did not join its cgroups");
	close(p[0]);
	read_cgroups(mine, sizeof(mine));
	wl_ready();
	while (!go)
		pause();
	if (check("root", mine, ns, 0))
		wl_nfail++;
	else
		wl_pass("cgroup.root");
	kill(kid, SIGUSR1);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("cgroup.child", "child status %#x", st);
	else
		wl_pass("cgroup.child");
	return wl_done();
}
