// SPDX-License-Identifier: MIT
/*
 * wl_stopped - children stopped by job control, as a shell's jobs are.
 *
 * S, the process started, is a child subreaper outside the tree (see
 * wl_common.h).  R (setsid) has five children, each leading its own
 * process group (so SIGTSTP is not discarded as for an orphaned group),
 * each with a SIGCONT handler and its own memory pattern:
 *
 *	s1	stopped by SIGSTOP; R has collected the stop (WUNTRACED)
 *	s2	stopped by SIGTSTP; R has not collected it
 *	s3	two threads, stopped by SIGSTOP, not collected
 *	s4	running at READY; the test sends SIGSTOP while the tree is
 *		frozen, then thaws: s4 must stop then
 *	s5	running until the checkpoint; the test stops it with SIGSTOP,
 *		then sends it SIGTSTP, which waits in its queue until crfs
 *		runs syscalls in it at the freeze: a stop signal arriving
 *		during the freeze, which must not be refused
 *
 * SIGUSR2 (after freeze, SIGSTOP to s4, thaw): R checks without
 * collecting anything what waitid(WSTOPPED|WNOWAIT) says of s1-s4 and
 * prints "CHECKED thaw".  SIGUSR1 (after the restore, the test having
 * seen s1-s5 in state T): R checks each child's pending stop report (s1:
 * none; the others: their signal) and collects it, sends SIGCONT and
 * waits for it with WCONTINUED, then SIGUSR1: the child checks it saw
 * SIGCONT, its memory, its group, and exits 0, which R checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "wl_common.h"

#define NKIDS	5
#define SIZE	(1ul << 20)
#define SEED	0x5700

struct kid {
	const char *name;
	int stop_sig;		/* what stops it */
	int collected;		/* R collected the stop before READY */
	pid_t pid;
};

static struct kid kids[NKIDS] = {
	{ .name = "s1", .stop_sig = SIGSTOP, .collected = 1 },
	{ .name = "s2", .stop_sig = SIGTSTP },
	{ .name = "s3", .stop_sig = SIGSTOP },
	{ .name = "s4", .stop_sig = SIGSTOP },
	{ .name = "s5", .stop_sig = SIGSTOP },
};

static const char *me = "S";
static int nfail, npass;
static volatile sig_atomic_t got_cont, got_usr1;

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

static void on_sig(int sig)
{
	if (sig == SIGCONT)
		got_cont = 1;
	else
		got_usr1 = 1;
}

static void *spin_thread(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)arg;
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

static void __attribute__((noreturn)) kid_main(int i)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct sigaction sa;
	unsigned char *mem = malloc(SIZE);
	sigset_t none;
	pthread_t t;
	size_t off;
	int wait;

	me = kids[i].name;
	if (!mem)
		die("malloc");
	wl_fill(mem, SIZE, SEED + i);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGCONT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (setpgid(0, 0))
		die("setpgid");
	if (i == 2 && pthread_create(&t, NULL, spin_thread, NULL))
		die("pthread_create");
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	kill(getppid(), SIGRTMIN);
	while (!got_usr1)
		nanosleep(&ts, NULL);
	/* SIGCONT may be handled by the other thread (s3), after SIGUSR1
	 * was by this one: give it 5 s */
	for (wait = 0; !got_cont && wait < 250; wait++)
		nanosleep(&ts, NULL);
	check(got_cont, "sigcont", "the SIGCONT handler did not run");
	off = wl_check(mem, SIZE, SEED + i);
	check(off == (size_t)-1, "mem", "differs at offset %zu", off);
	check(getpgid(0) == getpid(), "pgid", "is %d, want %d", getpgid(0),
	      getpid());
	_exit(nfail ? 1 : 0);
}

/* what waitid(WSTOPPED|WNOWAIT|WNOHANG) says: the stop signal, or 0 */
static int stop_report(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT | WNOHANG))
		return -errno;
	return si.si_pid == pid && si.si_code == CLD_STOPPED ? si.si_status : 0;
}

static void check_reports(const char *when, int n)
{
	char what[64];
	int i, got, want;

	for (i = 0; i < n; i++) {
		want = kids[i].collected ? 0 : kids[i].stop_sig;
		got = stop_report(kids[i].pid);
		snprintf(what, sizeof(what), "%s.%s.report", when, kids[i].name);
		check(got == want, what, "pid %d: stop report %d, want %d",
		      kids[i].pid, got, want);
	}
}

static void finish_kid(struct kid *k)
{
	char what[64];
	int st = -1, want = k->collected ? 0 : k->stop_sig;
	pid_t r = waitpid(k->pid, &st, WUNTRACED | WNOHANG);

	snprintf(what, sizeof(what), "%s.collect", k->name);
	check(want ? r == k->pid && WIFSTOPPED(st) && WSTOPSIG(st) == want :
	      r == 0, what, "waitpid(WUNTRACED|WNOHANG) = %d, status 0x%x, want %s %d",
	      r, st, want ? "stopped by" : "nothing,", want);
	kill(k->pid, SIGCONT);
	st = -1;
	r = waitpid(k->pid, &st, WCONTINUED);
	snprintf(what, sizeof(what), "%s.continued", k->name);
	check(r == k->pid && WIFCONTINUED(st), what,
	      "waitpid(WCONTINUED) = %d, status 0x%x", r, st);
	kill(k->pid, SIGUSR1);
	st = -1;
	r = waitpid(k->pid, &st, 0);
	snprintf(what, sizeof(what), "%s.exit", k->name);
	check(r == k->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, what,
	      "waitpid = %d, status 0x%x, want exit 0", r, st);
}

static int role_r(void)
{
	sigset_t set, ready;
	siginfo_t si;
	int i, sig, st;

	me = "R";
	if (setsid() < 0)
		die("setsid");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigemptyset(&ready);
	sigaddset(&ready, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, &ready, NULL);
	for (i = 0; i < NKIDS; i++) {
		kids[i].pid = fork();
		if (kids[i].pid < 0)
			die("fork");
		if (!kids[i].pid)
			kid_main(i);
		setpgid(kids[i].pid, kids[i].pid);
		if (sigwaitinfo(&ready, NULL) != SIGRTMIN)
			die("ready signal");
		if (i > 2)
			continue;	/* s4 and s5 are stopped by the test */
		kill(kids[i].pid, kids[i].stop_sig);
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, kids[i].pid, &si, WSTOPPED | WNOWAIT) ||
		    si.si_status != kids[i].stop_sig)
			die("stopping a child");
		if (kids[i].collected &&
		    waitpid(kids[i].pid, &st, WUNTRACED) != kids[i].pid)
			die("collecting a stop");
	}
	line("KIDS %d %d %d %d %d", kids[0].pid, kids[1].pid, kids[2].pid,
	     kids[3].pid, kids[4].pid);
	line("READY ROOT=%d", getpid());
	while (sigwait(&set, &sig) || sig == SIGUSR2) {
		check_reports("thaw", 4);
		line("CHECKED thaw");
	}
	check_reports("restore", NKIDS);
	for (i = 0; i < NKIDS; i++)
		finish_kid(&kids[i]);
	line("DONE pass=%d fail=%d", npass, nfail);
	return nfail ? 1 : 0;
}

int main(void)
{
	int fd = open("/proc/self/fd/1", O_WRONLY | O_APPEND | O_CLOEXEC);

	/* everybody appends, one line per write */
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("reopening stdout with O_APPEND");
	close(fd);
	return wl_under_subreaper(role_r);
}
