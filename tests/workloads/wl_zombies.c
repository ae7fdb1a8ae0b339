// SPDX-License-Identifier: MIT
/*
 * wl_zombies - zombies of every kind, several per parent, and a process
 * group whose leader has exited (as a shell pipeline's when its first
 * command ended first).
 *
 * S, the process started, is a child subreaper outside the tree (see
 * wl_common.h).  The tree:
 *
 *	R	the root: setsid; waits in sigwait
 *	 e0 e3 e255	zombies that exited with 0, 3 and 255
 *	 kill term segv usr2 abrt	zombies killed by SIGKILL, SIGTERM,
 *			SIGSEGV (a real fault), SIGUSR2, SIGABRT (abort());
 *			RLIMIT_CORE is 0, so none dumped core
 *	 L	led process group L, exited, reaped by R
 *	 m	a zombie of R in group L (exit 5): the group has no leader
 *	 n	alive in group L; sigsuspend
 *	 B	alive; two zombies of its own: b9 (exit 9), bhup (SIGHUP)
 *
 * Every status is checked against the design at setup (waitid WNOWAIT),
 * so the test is about crfs.  On SIGUSR2 (after freeze and thaw) R checks
 * without reaping (state Z, parent, group, waitid WNOWAIT) and prints
 * "CHECKED thaw".  On SIGUSR1 (after the restore) R and B check again and
 * reap every zombie with waitpid(pid, WNOHANG), whose status must be the
 * one the kernel gave before, exactly; n checks its group; R reaps n and
 * B (exit 0) and finds no other child.  One write(2) per line.
 *
 * wl_zombies core DIR: R (in DIR) has one zombie only, killed by SIGSEGV
 * with a core dumped (its status has WCOREDUMP), which crfs must refuse;
 * "SKIP core" if this host's core_pattern made no dump.  On SIGUSR1 R
 * reaps it and checks the status.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "wl_common.h"

struct zombie {
	const char *name;
	int code;		/* exit code, or -signal */
	int core;		/* dumps core (WCOREDUMP) */
	pid_t pid;
	pid_t pgid;
};

static struct zombie r_zombies[] = {
	{ .name = "e0", .code = 0 }, { .name = "e3", .code = 3 }, { .name = "e255", .code = 255 }, { .name = "kill", .code = -SIGKILL },
	{ .name = "term", .code = -SIGTERM }, { .name = "segv", .code = -SIGSEGV }, { .name = "usr2", .code = -SIGUSR2 },
	{ .name = "abrt", .code = -SIGABRT }, { .name = "m", .code = 5 },
};
#define NR (sizeof(r_zombies) / sizeof(r_zombies[0]))
static struct zombie b_zombies[] = { { .name = "b9", .code = 9 }, { .name = "bhup", .code = -SIGHUP } };
#define NB (sizeof(b_zombies) / sizeof(b_zombies[0]))

static struct zombie core_zombie = { .name = "core", .code = -SIGSEGV,
				     .core = 1 };
static const char *core_dir;	/* "core" mode: where the dump goes */
static const char *me = "S";
static int nfail, npass;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) != n)
		_exit(3);
}

static void check(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int ok, const char *what, const char *fmt, ...)
{
	char detail[300];
	va_list ap;

	if (ok) {
		line("PASS %s.%s", me, what);
		npass++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	line("FAIL %s.%s: %s", me, what, detail);
	nfail++;
}

static void __attribute__((noreturn)) die(const char *what)
{
	line("FAIL setup: %s: %s: %s", me, what, strerror(errno));
	_exit(2);
}

static int want_status(const struct zombie *z)
{
	return z->code >= 0 ? z->code << 8 : -z->code | (z->core ? 0x80 : 0);
}

static void __attribute__((noreturn)) end_as(const struct zombie *z)
{
	struct rlimit none = { 0, 0 }, all_of_it = { RLIM_INFINITY, RLIM_INFINITY };
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);	/* R blocks USR2 */
	prctl(PR_SET_NAME, z->name);	/* ps shows it: restored too */
	setrlimit(RLIMIT_CORE, z->core ? &all_of_it : &none);
	if (z->code >= 0)
		_exit(z->code);
	if (z->code == -SIGSEGV)
		*(volatile int *)8 = 1;
	if (z->code == -SIGABRT)
		abort();
	signal(-z->code, SIG_DFL);
	raise(-z->code);
	_exit(99);
}

/* Forks z (into group pgid unless 0) and waits until it is a zombie. */
static void make_zombie(struct zombie *z, pid_t pgid)
{
	siginfo_t si;

	z->pid = fork();
	if (z->pid < 0)
		die("fork");
	if (z->pid == 0) {
		if (pgid && setpgid(0, pgid))
			_exit(98);
		end_as(z);
	}
	if (pgid)
		setpgid(z->pid, pgid);	/* EACCES once it ran: it did it */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, z->pid, &si, WEXITED | WNOWAIT))
		die("waitid");
	if (z->core && si.si_code == CLD_KILLED) {
		line("SKIP core: no core dumped on this host (core_pattern)");
		z->core = 0;
	} else if (z->code >= 0 ?
		   si.si_code != CLD_EXITED || si.si_status != z->code :
		   si.si_code != (z->core ? CLD_DUMPED : CLD_KILLED) ||
		   si.si_status != -z->code) {
		errno = 0;
		line("FAIL setup: %s ended with code %d status %d", z->name,
		     si.si_code, si.si_status);
		_exit(2);
	}
	z->pgid = getpgid(z->pid);
}

/* its state and parent, its name in comm (16 bytes) */
static char proc_state(pid_t pid, pid_t *ppid, char *comm)
{
	char path[64], buf[512], *p, *c, st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	c = strchr(buf, '(');
	if (!p || !c || sscanf(p + 1, " %c %d", &st, ppid) != 2)
		return 0;
	snprintf(comm, 16, "%.*s", (int)(p - c - 1), c + 1);
	return st;
}

/* Still the same zombie: state, parent, group, what waitid says */
static void peek(const struct zombie *z, const char *when)
{
	char what[64];
	pid_t ppid = 0;
	char comm[16] = "", st = proc_state(z->pid, &ppid, comm);
	siginfo_t si;
	int ok;

	snprintf(what, sizeof(what), "%s.%s.zombie", when, z->name);
	check(st == 'Z' && ppid == getpid() && getpgid(z->pid) == z->pgid &&
	      !strcmp(comm, z->name),
	      what, "pid %d: state '%c' ppid %d pgid %d name '%s', want 'Z' %d %d '%s'",
	      z->pid, st ? st : '?', ppid, getpgid(z->pid), comm, getpid(),
	      z->pgid, z->name);
	memset(&si, 0, sizeof(si));
	ok = !waitid(P_PID, z->pid, &si, WEXITED | WNOWAIT | WNOHANG);
	ok = ok && si.si_pid == z->pid &&
	     (z->code >= 0 ? si.si_code == CLD_EXITED && si.si_status == z->code :
	      si.si_code == (z->core ? CLD_DUMPED : CLD_KILLED) &&
	      si.si_status == -z->code);
	snprintf(what, sizeof(what), "%s.%s.waitid", when, z->name);
	check(ok, what, "pid %d: si_pid %d si_code %d si_status %d, want code %d",
	      z->pid, si.si_pid, si.si_code, si.si_status, z->code);
}

static void reap(const struct zombie *z)
{
	char what[64];
	int st = -1;
	pid_t r = waitpid(z->pid, &st, WNOHANG);

	snprintf(what, sizeof(what), "reap.%s", z->name);
	check(r == z->pid && st == want_status(z), what,
	      "waitpid(%d, WNOHANG) = %d, status 0x%x, want 0x%x", z->pid, r,
	      st, want_status(z));
}

static int wait_sig(const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig))
		;
	return sig;
}

static void __attribute__((noreturn)) role_n(pid_t pgid, const sigset_t *set)
{
	me = "n";
	if (setpgid(0, pgid) && getpgid(0) != pgid)
		die("setpgid");
	kill(getppid(), SIGRTMIN);
	wait_sig(set);
	check(getpgid(0) == pgid, "pgid", "is %d, want %d", getpgid(0), pgid);
	_exit(nfail ? 1 : 0);
}

static void __attribute__((noreturn)) role_b(const sigset_t *set)
{
	size_t i;

	me = "B";
	for (i = 0; i < NB; i++)
		make_zombie(&b_zombies[i], 0);
	kill(getppid(), SIGRTMIN);
	wait_sig(set);
	for (i = 0; i < NB; i++)
		peek(&b_zombies[i], "restore");
	for (i = 0; i < NB; i++)
		reap(&b_zombies[i]);
	_exit(nfail ? 1 : 0);
}

static pid_t spawn_ready(void (*fn)(pid_t, const sigset_t *), pid_t arg,
			 const sigset_t *set)
{
	sigset_t ready;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		fn(arg, set);
	sigemptyset(&ready);
	sigaddset(&ready, SIGRTMIN);
	if (sigwaitinfo(&ready, NULL) != SIGRTMIN)
		die("ready signal");
	return pid;
}

static void run_b(pid_t unused, const sigset_t *set)
{
	(void)unused;
	role_b(set);
}

static void check_child(pid_t pid, const char *name)
{
	char what[32];
	int st = -1;
	pid_t r = waitpid(pid, &st, 0);

	snprintf(what, sizeof(what), "child.%s", name);
	check(r == pid && st == 0, what, "waitpid(%d) = %d, status 0x%x", pid,
	      r, st);
}

static int role_r(void)
{
	pid_t l, n, b, r;
	sigset_t set;
	size_t i;
	int st;

	me = "R";
	if (setsid() < 0)
		die("setsid");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGRTMIN);
	for (i = 0; i + 1 < NR; i++)
		make_zombie(&r_zombies[i], 0);
	/* L leads a group, gets m and n into it, and goes */
	l = fork();
	if (l < 0)
		die("fork");
	if (l == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(l, l);
	make_zombie(&r_zombies[NR - 1], l);
	n = spawn_ready(role_n, l, &set);
	kill(l, SIGKILL);
	if (waitpid(l, &st, 0) != l)
		die("reaping L");
	b = spawn_ready(run_b, 0, &set);
	line("READY ROOT=%d", getpid());
	while (wait_sig(&set) == SIGUSR2) {
		for (i = 0; i < NR; i++)
			peek(&r_zombies[i], "thaw");
		line("CHECKED thaw");
	}
	kill(n, SIGUSR1);
	kill(b, SIGUSR1);
	for (i = 0; i < NR; i++)
		peek(&r_zombies[i], "restore");
	for (i = 0; i < NR; i++)
		reap(&r_zombies[i]);
	check_child(n, "n");
	check_child(b, "B");
	r = waitpid(-1, &st, WNOHANG);
	check(r < 0 && errno == ECHILD, "nomorechildren", "waitpid(-1) = %d", r);
	line("DONE pass=%d fail=%d", npass, nfail);
	return nfail ? 1 : 0;
}

static int role_core(void)
{
	sigset_t set;
	int sig;

	me = "R";
	if (setsid() < 0 || chdir(core_dir))
		die("setsid, chdir");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	make_zombie(&core_zombie, 0);
	line("READY ROOT=%d", getpid());
	while (sigwait(&set, &sig))
		;
	reap(&core_zombie);
	line("DONE pass=%d fail=%d", npass, nfail);
	return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
	int fd = open("/proc/self/fd/1", O_WRONLY | O_APPEND | O_CLOEXEC);

	/* everybody appends, one line per write */
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("reopening stdout with O_APPEND");
	close(fd);
	if (argc == 3 && !strcmp(argv[1], "core")) {
		core_dir = argv[2];
		return wl_under_subreaper(role_core);
	}
	return wl_under_subreaper(role_r);
}
