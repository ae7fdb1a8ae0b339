// SPDX-License-Identifier: MIT
/*
 * wl_nsfd - namespace files held open.  W (outside the tree) opens its own
 * namespaces of every kind (the daemon's: net uts ipc pid mnt cgroup user
 * time), then unshares net, uts, ipc and pid and forks R, the tree's root
 * and init of the new pid namespace, which inherits those descriptors.
 * R opens its own net, uts, ipc and pid namespace files (one with
 * O_CLOEXEC) and forks C, which unshares a pid namespace again and forks D
 * (init of N2).  R opens N2 too (C's pid_for_children, through a pidfd);
 * D opens its own.
 *
 * After SIGUSR1 each process checks, by inode numbers (fstat), that every
 * descriptor it holds names the namespace it should: the daemon's ones
 * those W saw (the test also checks them from outside), the tree's ones
 * its own /proc/thread-self/ns/KIND; R's N2 is C's pid_for_children and
 * a child of R's; D's inherited fd of R's pid namespace, out of its reach
 * otherwise, translates D's pid into the one D has at R's level.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/nsfs.h>

#include "wl_common.h"
#include "wl_fdtable.h"

#ifndef PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE
#define PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE	_IO(0xFF, 6)
#endif
#ifndef NS_GET_PID_IN_PIDNS
#define NS_GET_PID_IN_PIDNS	_IOR(0xb7, 0x8, int)
#endif

#define NKINDS 8
static const char *const kinds[NKINDS] = {
	"net", "uts", "ipc", "pid", "mnt", "cgroup", "user", "time",
};
#define NOWN 4		/* the first four: R has its own */

/* the daemon's namespaces as W saw them (/proc/1 is no reference: its
 * namespaces may not be ours to read) */
static unsigned long host_ino[NKINDS];
static int host_fd[NKINDS], tree_fd[NOWN], n2_fd = -1, self_fd = -1;
static int ready[2];
static volatile sig_atomic_t go;
static const char *who = "W";

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static unsigned long ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static unsigned long own_ino(const char *kind)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/thread-self/ns/%s", kind);
	return stat(path, &st) ? 0 : st.st_ino;
}

static int open_ns(const char *kind, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/thread-self/ns/%s", kind);
	fd = open(path, O_RDONLY | flags);
	if (fd < 0)
		wl_die("%s: open %s", who, path);
	return fd;
}

static void expect(const char *what, unsigned long got, unsigned long want)
{
	char name[64];

	snprintf(name, sizeof(name), "nsfd.%s.%s", who, what);
	if (got && got == want)
		wl_pass(name);
	else
		wl_fail(name, "inode %lu, want %lu", got, want);
}

/* NSpid of ours, from the end: 0 our own pid, 1 at our parent level */
static pid_t nspid_up(int up)
{
	pid_t v[40];
	int n = wl_nspid(v, 40);

	return up < n ? v[n - 1 - up] : -1;
}

/* what every process holds: the daemon's namespaces and R's own */
static void check_common(void)
{
	char what[32];
	int k;

	for (k = 0; k < NKINDS; k++) {
		snprintf(what, sizeof(what), "host_%s", kinds[k]);
		expect(what, ino_of_fd(host_fd[k]),
		       k < NOWN ? host_ino[k] : own_ino(kinds[k]));
		if (k < NOWN && host_ino[k] == own_ino(kinds[k]))
			wl_fail(what, "%s: R's namespace is the daemon's", who);
	}
	for (k = 0; k < NOWN - 1; k++) {
		snprintf(what, sizeof(what), "tree_%s", kinds[k]);
		expect(what, ino_of_fd(tree_fd[k]), own_ino(kinds[k]));
	}
	if (fcntl(tree_fd[1], F_GETFD) != FD_CLOEXEC)
		wl_fail("nsfd.cloexec", "%s: FD_CLOEXEC of fd %d lost", who,
			tree_fd[1]);
}

static int do_d(void)
{
	pid_t got, want;

	who = "D";
	self_fd = open_ns("pid", 0);
	close(ready[1]);
	while (!go)
		pause();
	check_common();
	expect("own_pid", ino_of_fd(self_fd), own_ino("pid"));
	/* R's pid namespace, out of our reach but through the fd */
	got = ioctl(tree_fd[3], NS_GET_PID_IN_PIDNS, getpid());
	want = nspid_up(1);
	if (got > 0 && got == want && got != getpid())
		wl_pass("nsfd.D.tree_pid");
	else
		wl_fail("nsfd.D.tree_pid", "our pid in it is %d, want %d", got,
			want);
	return wl_done();
}

static int do_c(void)
{
	pid_t d;
	int st;

	who = "C";
	if (unshare(CLONE_NEWPID))
		wl_die("C: unshare");
	fflush(stdout);
	d = fork();
	if (d < 0)
		wl_die("C: fork");
	if (!d)
		exit(do_d());
	close(ready[1]);
	while (!go)
		pause();
	kill(d, SIGUSR1);
	check_common();
	expect("tree_pid", ino_of_fd(tree_fd[3]), own_ino("pid"));
	if (waitpid(d, &st, 0) != d || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("nsfd.D", "status %#x", st);
	return wl_done();
}

static unsigned long children_ns_of(pid_t pid)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), fd;
	unsigned long ino;

	fd = pfd < 0 ? -1 : ioctl(pfd, PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE, 0);
	if (pfd >= 0)
		close(pfd);
	ino = fd < 0 ? 0 : ino_of_fd(fd);
	if (fd >= 0)
		close(fd);
	return ino;
}

static unsigned long parent_ino(int fd)
{
	int p = ioctl(fd, NS_GET_PARENT);
	unsigned long ino = p < 0 ? 0 : ino_of_fd(p);

	if (p >= 0)
		close(p);
	return ino;
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

static int do_r(void)
{
	pid_t c;
	char buf;
	int k, pfd, st;

	who = "R";
	if (sethostname("nsfd", 4))
		wl_die("R: sethostname");
	for (k = 0; k < NOWN; k++)
		tree_fd[k] = open_ns(kinds[k], k == 1 ? O_CLOEXEC : 0);
	fflush(stdout);
	c = fork();
	if (c < 0)
		wl_die("R: fork");
	if (!c)
		exit(do_c());
	close(ready[1]);
	/* EOF once C and D are set up */
	if (read(ready[0], &buf, 1) != 0)
		wl_die("R: ready pipe");
	close(ready[0]);
	pfd = (int)syscall(SYS_pidfd_open, c, 0);
	n2_fd = pfd < 0 ? -1 :
		ioctl(pfd, PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE, 0);
	if (n2_fd < 0)
		wl_die("R: C's pid_for_children");
	close(pfd);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		pause();
	wl_fdt_check("nsfd.fd_table", &fdt0);
	check_common();
	expect("tree_pid", ino_of_fd(tree_fd[3]), own_ino("pid"));
	expect("n2_parent", parent_ino(n2_fd), own_ino("pid"));
	expect("n2", ino_of_fd(n2_fd), children_ns_of(c));
	kill(c, SIGUSR1);
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("nsfd.C", "status %#x", st);
	return wl_done();
}

int main(void)
{
	pid_t r;
	int k, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	for (k = 0; k < NKINDS; k++) {
		host_fd[k] = open_ns(kinds[k], 0);
		host_ino[k] = ino_of_fd(host_fd[k]);
	}
	if (pipe(ready))
		wl_die("pipe");
	if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID))
		wl_die("unshare");
	fflush(stdout);
	r = fork();
	if (r < 0)
		wl_die("fork");
	if (!r)
		exit(do_r());
	close(ready[0]);
	close(ready[1]);
	if (waitpid(r, &st, 0) != r)
		wl_die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
