// SPDX-License-Identifier: MIT
/*
 * wl_pidns_nested - pid namespaces inside the tree (a container inside a
 * container).  The root R (in ours, under a subreaper: --subreaper; or init
 * of its own, under unshare --pid --fork) builds:
 *
 *	R ── A                    A in R's namespace
 *	  ├─ B = init of N2       unshare(CLONE_NEWPID), fork
 *	  │    └─ C (+ thread T)  pid 2 of N2
 *	  │         └─ D = init of N3 (unshare again)
 *	  │              └─ E     pid 2 of N3
 *	  ├─ F in N3              R did setns(pidfd of D), then forked
 *	  └─ G in N2              R did setns(pidfd of B), then forked;
 *	                          R's pid_for_children stays N2
 *
 * After SIGUSR1 every process (and T) checks its getpid(), getppid() and
 * NSpid from R's level down, as they were; R checks, with pidfds and
 * NS_GET_PARENT, which namespace each is in and how they nest, and that
 * its pid_for_children is N2.  Processes report with their exit status;
 * inits outlive their namespaces' other processes (R ends F and G first).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/nsfs.h>

#include "wl_common.h"

#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE			_IO(0xFF, 5)
#define PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE	_IO(0xFF, 6)
#endif

#define MAXLEV 33

struct me {
	const char *name;
	pid_t pid, ppid, tid;
	pid_t ns[MAXLEV];
	int n;
};

static volatile sig_atomic_t go;
static int root_level;	/* R's index in NSpid: the levels we compare */
static int report[2];	/* C, D, E, T tell R their pid at R's level */

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* a thread may sleep through a signal its sibling took: poll the flag */
static void wait_go(void)
{
	while (!go)
		usleep(5000);
}

static int read_nspid(pid_t *out)
{
	return wl_nspid(out, MAXLEV);
}

static void remember(struct me *m, const char *name)
{
	m->name = name;
	m->pid = getpid();
	m->ppid = getppid();
	m->tid = gettid();
	m->n = read_nspid(m->ns);
	if (m->n <= root_level)
		wl_die("%s: NSpid has %d levels", name, m->n);
}

/* 0 if m is as it was */
static int verify(const struct me *m)
{
	pid_t now[MAXLEV];
	int n = read_nspid(now), k, bad = 0;

	if (getpid() != m->pid || gettid() != m->tid) {
		printf("FAIL pidns.%s.pid: pid %d tid %d, want %d %d\n",
		       m->name, getpid(), gettid(), m->pid, m->tid);
		bad = 1;
	}
	if (m->ppid >= 0 && getppid() != m->ppid) {
		printf("FAIL pidns.%s.ppid: %d, want %d\n", m->name, getppid(),
		       m->ppid);
		bad = 1;
	}
	for (k = root_level; n == m->n && k < n; k++)
		if (now[k] != m->ns[k])
			break;
	if (n != m->n || k < n) {
		printf("FAIL pidns.%s.nspid: %d levels, level %d is %d, want %d levels, %d\n",
		       m->name, n, k, k < n ? now[k] : -1, m->n,
		       k < m->n ? m->ns[k] : -1);
		bad = 1;
	}
	if (!bad)
		printf("PASS pidns.%s\n", m->name);
	return bad;
}

static void tell(int idx, pid_t pid_at_root)
{
	int rec[2] = { idx, pid_at_root };

	if (write(report[1], rec, sizeof(rec)) != sizeof(rec))
		wl_die("report");
}

/* a leaf: remember, say so, wait, check */
static int leaf(const char *name, int idx)
{
	struct me m;

	remember(&m, name);
	if (idx >= 0)
		tell(idx, m.ns[root_level]);
	close(report[1]);
	wait_go();
	return verify(&m);
}

static pid_t spawn(int (*fn)(void))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (!pid) {
		close(report[0]);
		exit(fn());
	}
	return pid;
}

static int reap(pid_t pid, const char *name)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		printf("FAIL pidns.%s.exit: status %#x\n", name, st);
		return 1;
	}
	return 0;
}

static int do_e(void)
{
	return leaf("E", 2);
}

static int do_d(void)
{
	struct me m;
	pid_t e;
	int bad;

	remember(&m, "D");
	e = spawn(do_e);
	tell(1, m.ns[root_level]);
	close(report[1]);
	wait_go();
	bad = verify(&m);
	return reap(e, "E") | bad;
}

static struct me t_me;
static volatile int t_bad = -1, t_told;

static void *thread_t(void *arg)
{
	(void)arg;
	remember(&t_me, "T");
	tell(3, t_me.ns[root_level]);
	t_told = 1;
	wait_go();
	t_bad = verify(&t_me);
	return NULL;
}

static int do_c(void)
{
	pthread_t t;
	struct me m;
	pid_t d;
	int bad;

	remember(&m, "C");
	if (pthread_create(&t, NULL, thread_t, NULL))
		wl_die("pthread_create");
	if (unshare(CLONE_NEWPID))
		wl_die("unshare C");
	d = spawn(do_d);
	tell(0, m.ns[root_level]);
	/* no pipe stays open into the checkpoint */
	while (!t_told)
		usleep(1000);
	close(report[1]);
	wait_go();
	bad = verify(&m);
	pthread_join(t, NULL);
	return reap(d, "D") | bad | (t_bad != 0);
}

static int do_b(void)
{
	struct me m;
	pid_t c;
	int bad;

	remember(&m, "B");
	c = spawn(do_c);
	close(report[1]);
	wait_go();
	bad = verify(&m);
	return reap(c, "C") | bad;
}

static int do_a(void)
{
	return leaf("A", -1);
}

static int do_f(void)
{
	return leaf("F", -1);
}

static int do_g(void)
{
	return leaf("G", -1);
}

/* our children are born in pid's namespace (pid 0: our own) */
static void follow(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid ? pid : getpid(), 0);

	if (fd < 0 || setns(fd, CLONE_NEWPID))
		wl_die("setns to the pid namespace of %d", pid);
	close(fd);
}

static unsigned long ns_ino(pid_t pid, unsigned long req, bool parent)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), fd, up;
	struct stat st;

	if (pfd < 0)
		return 0;
	fd = ioctl(pfd, req, 0);
	close(pfd);
	if (fd < 0)
		return 0;
	if (parent) {
		up = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = up;
		if (fd < 0)
			return 0;
	}
	if (fstat(fd, &st))
		st.st_ino = 0;
	close(fd);
	return st.st_ino;
}

#define NS(pid)		ns_ino(pid, PIDFD_GET_PID_NAMESPACE, false)
#define PARENT(pid)	ns_ino(pid, PIDFD_GET_PID_NAMESPACE, true)

static void check_nesting(pid_t a, pid_t b, pid_t c, pid_t d, pid_t e,
			  pid_t f, pid_t g)
{
	unsigned long r = NS(getpid()), n2 = NS(b), n3 = NS(d);
	int mark = wl_mark();

	if (!r || !n2 || !n3 || r == n2 || n2 == n3 || r == n3)
		wl_fail("pidns.nesting", "namespaces R %lu N2 %lu N3 %lu", r,
			n2, n3);
	if (NS(a) != r)
		wl_fail("pidns.nesting", "A is not in R's namespace");
	if (PARENT(b) != r || NS(c) != n2 || NS(g) != n2)
		wl_fail("pidns.nesting", "N2's parent %lu (want %lu), C in %lu, G in %lu (want %lu)",
			PARENT(b), r, NS(c), NS(g), n2);
	if (PARENT(d) != n2 || NS(e) != n3 || NS(f) != n3)
		wl_fail("pidns.nesting", "N3's parent %lu (want %lu), E in %lu, F in %lu (want %lu)",
			PARENT(d), n2, NS(e), NS(f), n3);
	if (ns_ino(getpid(), PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE, false) != n2)
		wl_fail("pidns.nesting", "R's pid_for_children is not N2");
	wl_verdict("pidns.nesting", mark);
}

/* a pidfd of D, two levels down: its fdinfo NSpid, at our level, is d */
static void check_pidfd(int pfd, pid_t d)
{
	char path[64], line[512], *p, *end;
	int k = 0;
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pfd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			break;
	if (f)
		fclose(f);
	for (p = line + 6; f && k <= root_level; p = end, k++) {
		v = strtol(p, &end, 10);
		if (end == p) {
			v = -1;
			break;
		}
	}
	if (v == d)
		wl_pass("pidns.pidfd");
	else
		wl_fail("pidns.pidfd", "a pidfd of D (%d) reads pid %ld", d, v);
}

static int root(void)
{
	pid_t a, b, c, d, e, f, g, got[4] = { 0 };
	int rec[2], seen = 0, bad, pfd;
	struct me m;

	signal(SIGUSR1, on_usr1);
	root_level = read_nspid(m.ns) - 1;
	remember(&m, "R");
	m.ppid = -1;	/* a new parent restores us */
	if (pipe(report))
		wl_die("pipe");
	a = spawn(do_a);
	if (unshare(CLONE_NEWPID))
		wl_die("unshare");
	b = spawn(do_b);
	follow(0);
	close(report[1]);
	while (seen < 4 && read(report[0], rec, sizeof(rec)) == sizeof(rec))
		if (rec[0] >= 0 && rec[0] < 4 && !got[rec[0]] && rec[1] > 0) {
			got[rec[0]] = rec[1];
			seen++;
		}
	close(report[0]);
	if (seen < 4)
		wl_die("only %d of C, D, E, T reported", seen);
	c = got[0];
	d = got[1];
	e = got[2];
	pfd = (int)syscall(SYS_pidfd_open, d, 0);
	if (pfd < 0)
		wl_die("pidfd_open D");
	follow(d);
	f = spawn(do_f);
	follow(b);
	g = spawn(do_g);
	wl_ready();
	wait_go();
	bad = verify(&m);
	check_nesting(a, b, c, d, e, f, g);
	check_pidfd(pfd, d);
	kill(a, SIGUSR1);
	kill(f, SIGUSR1);
	kill(g, SIGUSR1);
	bad |= reap(a, "A") | reap(f, "F") | reap(g, "G");
	/* each waits for its children: inits end last */
	kill(e, SIGUSR1);
	kill(got[3], SIGUSR1);	/* T: C's thread, a tid at our level */
	kill(d, SIGUSR1);
	kill(c, SIGUSR1);
	kill(b, SIGUSR1);
	bad |= reap(b, "B");
	if (bad)
		wl_nfail++;
	else
		wl_pass("pidns.tree");
	return wl_done();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	if (argc > 1 && !strcmp(argv[1], "--subreaper"))
		return wl_under_subreaper(root);
	return root();
}
