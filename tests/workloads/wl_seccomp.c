// SPDX-License-Identifier: MIT
/*
 * wl_seccomp - processes and threads in seccomp strict mode and with BPF
 * filters, to be frozen, thawed, checkpointed, killed and restored.
 *
 * usage: wl_seccomp			the workload (W below)
 *	  wl_seccomp notif		one process whose filter returns
 *					SECCOMP_RET_USER_NOTIF for getppid
 *					(listener closed: ENOSYS), which crfs
 *					refuses; after SIGUSR1 it checks that
 *					getppid still fails so
 *	  wl_seccomp inspect PID...	print every thread's seccomp state as
 *					the kernel shows a tracer (mode, and
 *					each filter's flags, length and
 *					hash), for the test to compare
 *
 * W is a child subreaper outside the tree; it forks the root R and exits
 * with R's status (see wl_common.h).  The tree:
 *
 *	R	no_new_privs; threads and filters below; waits in sigsuspend
 *	 S	single-threaded, strict mode, blocked in read() on a pipe
 *	 S2	main thread without seccomp, its thread X in strict mode,
 *		blocked in read() on a pipe; main waits in sigsuspend
 *	 K	forked after R installed F_T and F1: inherits them, adds F_K;
 *		waits in sigsuspend
 *
 * Filters (each makes one syscall fail with its own errno):
 *	F_T	sigaltstack -> EXDEV	installed by thread TS with
 *					SECCOMP_FILTER_FLAG_TSYNC: R's main
 *					thread gets it too.  The restorer
 *					calls sigaltstack for every thread:
 *					filters must not apply to it.
 *	F1	getpriority -> ENOTBLK	R's main thread, SECCOMP_FILTER_FLAG_LOG
 *	F2	getsid -> ETXTBSY	thread TA's own
 *	F3	getpgid -> EMLINK	thread TB's own
 *	F_K	getpgid -> ENOEXEC	K's own
 *
 * Chains, oldest first: main [F_T F1], TS [F_T], TA [F_T F1 F2],
 * TB [F_T F1 F3], TC [F_T F1] (created after F1, nothing of its own),
 * TD [F_T F1 F2] (created by TA after F2), K [F_T F1 F_K]; S, X strict;
 * S2's main none.
 *
 * After SIGUSR1 (sent to R after the restore; R passes it on to S2 and K):
 *  - every thread of R checks the four syscalls' results and its mode and
 *    filter count in /proc/self/task/TID/status;
 *  - sharing: once TB is gone, TA installs an allow-all filter with TSYNC,
 *    which succeeds only if main's, TS's, TC's and TD's chains are
 *    ancestors of TA's, i.e. the same filters in the kernel, not copies;
 *  - K checks its syscalls, mode and count (exit status: failed checks);
 *  - S is told over its pipe to check its memory (no syscall needed) and
 *    answer; then to make a forbidden syscall: R must see it die of
 *    SIGKILL;
 *  - S2 does the same with X, and checks that its main thread is not in
 *    strict mode and that X (only X) died.
 * R prints every verdict, then DONE.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>

#include "wl_common.h"

#define SEED_S	0x5ecc0001
#define SEED_X	0x5ecc0002
#define PAT_LEN	(64 << 10)

enum { TS, TA, TB, TC, TD, NT };
static const char *const tname[NT + 1] = { "ts", "ta", "tb", "tc", "td",
					   "main" };

/* errno of each probe (0: it succeeded), and /proc's view of the thread */
enum { P_SIGALTSTACK, P_GETPRIORITY, P_GETSID, P_GETPGID, NPROBE };
static const char *const pname[NPROBE] = { "sigaltstack", "getpriority",
					   "getsid", "getpgid" };
static const int want_err[NT + 1][NPROBE] = {
	[TS] = { EXDEV, 0, 0, 0 },
	[TA] = { EXDEV, ENOTBLK, ETXTBSY, 0 },
	[TB] = { EXDEV, ENOTBLK, 0, EMLINK },
	[TC] = { EXDEV, ENOTBLK, 0, 0 },
	[TD] = { EXDEV, ENOTBLK, ETXTBSY, 0 },
	[NT] = { EXDEV, ENOTBLK, 0, 0 },
};
static const int want_filters[NT + 1] = { 1, 3, 3, 2, 3, 2 };

struct result {
	int err[NPROBE];
	int mode, nfilters;
	long tsync;		/* TA: the allow-all TSYNC's return: 0, -errno
				 * or the tid of a thread it cannot sync */
};

static struct result res[NT + 1];
static pid_t ttid[NT];
static pthread_t th[NT];
static int go[NT][2], done[2];
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* --- filters ------------------------------------------------------------- */

static long install(int nr, int err, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };

	if (nr < 0)	/* allow everything */
		p = (struct sock_fprog){ 1, &f[3] };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

static void strict(void)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL))
		wl_die("seccomp strict");
}

/* --- checks -------------------------------------------------------------- */

static int probe(long ret)
{
	return ret < 0 ? errno : 0;
}

static void status_of(pid_t tid, int *mode, int *n)
{
	char path[64], buf[4096], *p;
	int fd;
	ssize_t len;

	*mode = *n = -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY);
	len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';
	if ((p = strstr(buf, "\nSeccomp:")))
		*mode = atoi(p + 9);
	if ((p = strstr(buf, "\nSeccomp_filters:")))
		*n = atoi(p + 17);
}

static void check_self(struct result *r)
{
	stack_t ss;

	r->err[P_SIGALTSTACK] = probe(syscall(SYS_sigaltstack, NULL, &ss));
	r->err[P_GETPRIORITY] = probe(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	r->err[P_GETSID] = probe(syscall(SYS_getsid, 0));
	r->err[P_GETPGID] = probe(syscall(SYS_getpgid, 0));
	status_of(syscall(SYS_gettid), &r->mode, &r->nfilters);
}

static void judge(int i)
{
	const struct result *r = &res[i];
	char name[64];
	int k;

	for (k = 0; k < NPROBE; k++) {
		snprintf(name, sizeof(name), "%s.%s", tname[i], pname[k]);
		if (r->err[k] == want_err[i][k])
			wl_pass(name);
		else
			wl_fail(name, "errno %d, want %d", r->err[k],
				want_err[i][k]);
	}
	snprintf(name, sizeof(name), "%s.filters", tname[i]);
	if (r->mode == 2 && r->nfilters == want_filters[i])
		wl_pass(name);
	else
		wl_fail(name, "mode %d with %d filters, want 2 with %d",
			r->mode, r->nfilters, want_filters[i]);
}

/* --- R's threads ---------------------------------------------------------- */

static char wait_go(int i)
{
	char c = 0;

	while (read(go[i][0], &c, 1) < 0 && errno == EINTR)
		;
	return c;
}

static void say_done(int i)
{
	char c = (char)i;

	if (write(done[1], &c, 1) != 1)
		wl_die("write done");
}

static void wait_done(void)
{
	char c;

	while (read(done[0], &c, 1) < 0 && errno == EINTR)
		;
}

static void tell(int i, char c)
{
	if (write(go[i][1], &c, 1) != 1)
		wl_die("write go");
}

static void *thread_main(void *arg)
{
	int i = (int)(long)arg;
	long ret = 0;

	ttid[i] = syscall(SYS_gettid);
	if (i == TS)
		ret = install(SYS_sigaltstack, EXDEV, SECCOMP_FILTER_FLAG_TSYNC);
	else if (i == TA)
		ret = install(SYS_getsid, ETXTBSY, 0);
	else if (i == TB)
		ret = install(SYS_getpgid, EMLINK, 0);
	if (ret)
		wl_die("thread %s: seccomp", tname[i]);
	/* TD gets TA's whole chain, which the main thread does not have */
	if (i == TA && pthread_create(&th[TD], NULL, thread_main,
				      (void *)(long)TD))
		wl_die("pthread_create td");
	say_done(i);
	wait_go(i);			/* checkpoint and restore here */
	check_self(&res[i]);
	say_done(i);
	if (i == TB)
		return NULL;
	if (wait_go(i) == 't') {
		ret = install(-1, 0, SECCOMP_FILTER_FLAG_TSYNC);
		res[i].tsync = ret < 0 ? -errno : ret;
	}
	say_done(i);
	wait_go(i);
	return NULL;
}

/* --- the strict ones ------------------------------------------------------ */

/* Only read, write, exit and rt_sigreturn from here on */
static __attribute__((noreturn)) void strict_loop(int cmd, int rep,
						  const void *pat,
						  uint64_t seed)
{
	char c;

	for (;;) {
		switch (syscall(SYS_read, cmd, &c, 1)) {
		case 1:
			break;
		case -1:
			if (errno == EINTR)
				continue;
			/* fall through */
		default:	/* R is gone: exit is allowed, exit_group not */
			syscall(SYS_exit, 1);
		}
		if (c == 'v') {
			c = wl_check(pat, PAT_LEN, seed) == (size_t)-1 ? 'y' : 'n';
		} else {
			syscall(SYS_getpid);	/* forbidden: SIGKILL */
			c = 'S';		/* survived: not strict */
		}
		syscall(SYS_write, rep, &c, 1);
	}
}

static int s_cmd[2], s_rep[2], x_cmd[2], x_rep[2];

static void child_pipes(int cmd[2], int rep[2])
{
	if (pipe(cmd) || pipe(rep))
		wl_die("pipe");
}

static pid_t fork_strict(void)
{
	static char pat[PAT_LEN] __attribute__((aligned(8)));
	pid_t pid;
	char c = 'r';

	child_pipes(s_cmd, s_rep);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (pid) {
		close(s_cmd[0]);
		close(s_rep[1]);
		return pid;
	}
	close(s_cmd[1]);
	close(s_rep[0]);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a failed test leaves none */
	wl_fill(pat, PAT_LEN, SEED_S);
	strict();
	syscall(SYS_write, s_rep[1], &c, 1);
	strict_loop(s_cmd[0], s_rep[1], pat, SEED_S);
}

static void *x_main(void *arg)
{
	static char pat[PAT_LEN] __attribute__((aligned(8)));
	char c = 'r';

	(void)arg;
	wl_fill(pat, PAT_LEN, SEED_X);
	strict();
	syscall(SYS_write, x_rep[1], &c, 1);
	strict_loop(x_cmd[0], x_rep[1], pat, SEED_X);
}

/* one byte from fd within ms, or 0 */
static char answer(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c = 0;

	if (poll(&p, 1, ms) == 1 && read(fd, &c, 1) != 1)
		c = 0;
	return c;
}

static bool task_gone(pid_t tid, int ms)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	for (; ms > 0; ms -= 10) {
		if (access(path, F_OK))
			return true;
		usleep(10000);
	}
	return false;
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!got_usr1)
		sigsuspend(&none);
}

/* the one task of ours that is not the main thread */
static pid_t other_tid(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	pid_t tid = 0;

	while (d && (de = readdir(d)))
		if (atoi(de->d_name) > 0 && atoi(de->d_name) != getpid())
			tid = atoi(de->d_name);
	if (d)
		closedir(d);
	return tid;
}

/* S2: exit status bit n set: check n failed */
static int s2_main(void)
{
	pthread_t x;
	int mode, n, bad = 0;
	pid_t xtid;

	child_pipes(x_cmd, x_rep);
	if (pthread_create(&x, NULL, x_main, NULL))
		wl_die("pthread_create x");
	if (answer(x_rep[0], 5000) != 'r')
		wl_die("x not ready");
	xtid = other_tid();
	if (!xtid)
		wl_die("x tid");
	/* ready: tell R through our exit-less channel, SIGRTMIN+1 */
	kill(getppid(), SIGRTMIN + 1);
	wait_usr1();
	if (write(x_cmd[1], "v", 1) != 1 || answer(x_rep[0], 3000) != 'y')
		bad |= 1;
	status_of(getpid(), &mode, &n);
	if (mode != 0)
		bad |= 2;
	status_of(xtid, &mode, &n);
	if (mode != 1)
		bad |= 4;
	if (write(x_cmd[1], "k", 1) != 1 || !task_gone(xtid, 3000))
		bad |= 8;
	return bad;
}

/* K: exit status bit n set: check n failed */
static int k_main(void)
{
	struct result r = { 0 };
	int bad = 0;

	if (install(SYS_getpgid, ENOEXEC, 0))
		wl_die("K: seccomp");
	kill(getppid(), SIGRTMIN + 1);
	wait_usr1();
	check_self(&r);
	if (r.err[P_SIGALTSTACK] != EXDEV)
		bad |= 1;
	if (r.err[P_GETPRIORITY] != ENOTBLK)
		bad |= 2;
	if (r.err[P_GETPGID] != ENOEXEC)
		bad |= 4;
	if (r.err[P_GETSID] != 0)
		bad |= 8;
	if (r.mode != 2 || r.nfilters != 3)
		bad |= 16;
	return bad;
}

static pid_t fork_child(int (*fn)(void))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork");
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a failed test leaves none */
		_exit(fn());
	}
	return pid;
}

/* waits for a child's SIGRTMIN+1 (blocked): it is ready */
static void wait_ready_sig(void)
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN + 1);
	while (sigwaitinfo(&one, NULL) < 0)
		;
}

static int reap(pid_t pid, int ms)
{
	int st;

	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void judge_bits(const char *who, int st, const char *const *names,
		       int n)
{
	char name[64];
	int k;

	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "%s.%s", who, names[k]);
		if (!WIFEXITED(st))
			wl_fail(name, "%s ended with status 0x%x", who, st);
		else if (WEXITSTATUS(st) & (1 << k))
			wl_fail(name, "failed");
		else
			wl_pass(name);
	}
}

static void check_strict_child(pid_t s)
{
	int st;

	if (write(s_cmd[1], "v", 1) == 1 && answer(s_rep[0], 3000) == 'y')
		wl_pass("s.memory");
	else
		wl_fail("s.memory", "no 'y' from the strict process");
	if (write(s_cmd[1], "k", 1) != 1)
		wl_fail("s.killed", "cannot write to it");
	st = reap(s, 3000);
	if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		wl_pass("s.killed");
	else
		wl_fail("s.killed", "status 0x%x, want killed by SIGKILL", st);
}

static void check_threads(void)
{
	int i;

	check_self(&res[NT]);
	judge(NT);
	for (i = 0; i < NT; i++) {
		tell(i, 'c');
		wait_done();
		judge(i);
	}
	/* TB's own filter is no ancestor of TA's chain: it must be gone */
	if (!task_gone(ttid[TB], 5000))
		wl_fail("tsync.shared", "thread tb did not go away");
	tell(TA, 't');
	wait_done();
	if (res[TA].tsync == 0)
		wl_pass("tsync.shared");
	else if (res[TA].tsync > 0)
		wl_fail("tsync.shared", "TSYNC from ta fails on thread %ld: its chain is not one with ta's",
			res[TA].tsync);
	else
		wl_fail("tsync.shared", "TSYNC from ta: %s",
			strerror(-res[TA].tsync));
	tell(TS, '-');
	tell(TC, '-');
	tell(TD, '-');
	wait_done();
	wait_done();
	wait_done();
	for (i = 0; i < NT; i++)
		if (i != TB)
			tell(i, 'x');
}

static int root(void)
{
	static const char *const s2n[] = { "memory", "main_not_strict",
					   "x_strict", "x_killed" };
	static const char *const kn[] = { "sigaltstack", "getpriority",
					  "getpgid", "getsid", "filters" };
	sigset_t one;
	pid_t s, s2, k;
	int i, st;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	sigaddset(&one, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &one, NULL);
	s = fork_strict();
	if (answer(s_rep[0], 5000) != 'r')
		wl_die("strict child not ready");
	s2 = fork_child(s2_main);
	wait_ready_sig();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || pipe(done))
		wl_die("no_new_privs");
	for (i = 0; i < NT; i++)
		if (pipe(go[i]))
			wl_die("pipe");
	for (i = 0; i < TD; i++) {
		if (i == TA && install(SYS_getpriority, ENOTBLK,
				       SECCOMP_FILTER_FLAG_LOG))
			wl_die("seccomp F1");
		if (pthread_create(&th[i], NULL, thread_main, (void *)(long)i))
			wl_die("pthread_create");
		wait_done();
		if (i == TA)	/* and TD */
			wait_done();
	}
	k = fork_child(k_main);
	wait_ready_sig();
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
	wait_usr1();
	kill(s2, SIGUSR1);
	kill(k, SIGUSR1);
	check_threads();
	for (i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	check_strict_child(s);
	st = reap(s2, 10000);
	judge_bits("s2", st, s2n, 4);
	st = reap(k, 10000);
	judge_bits("k", st, kn, 5);
	return wl_done();
}

/* --- a filter crfs refuses --------------------------------------------- */

static int notif(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };
	sigset_t one;
	int lfd;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	sigprocmask(SIG_BLOCK, &one, NULL);
	lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		      SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
	if (lfd < 0)
		wl_die("seccomp user notif");
	close(lfd);	/* nobody listens: the syscall fails with ENOSYS */
	wl_ready();
	wait_usr1();
	if (syscall(SYS_getppid) < 0 && errno == ENOSYS)
		wl_pass("notif.enosys");
	else
		wl_fail("notif.enosys", "getppid: errno %d", errno);
	return wl_done();
}

/* --- inspect ------------------------------------------------------------- */

static int stop_task(pid_t tid)
{
	int st;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) || ptrace(PTRACE_INTERRUPT, tid, 0, 0))
		return -1;
	for (;;) {
		if (waitpid(tid, &st, __WALL) < 0 || !WIFSTOPPED(st))
			return -1;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(st));
	}
}

static void inspect_task(pid_t pid, pid_t tid)
{
	struct sock_filter prog[4096];
	struct seccomp_metadata md;
	char path[64], buf[4096], *p;
	int fd, mode = -1, n = 0, i;
	long len;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	fd = open(path, O_RDONLY);
	r = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[r > 0 ? r : 0] = '\0';
	if ((p = strstr(buf, "\nSeccomp:")))
		mode = atoi(p + 9);
	if ((p = strstr(buf, "\nSeccomp_filters:")))
		n = atoi(p + 17);
	printf("%d/%d mode %d filters %d", pid, tid, mode, n);
	if (n && stop_task(tid)) {
		printf(" cannot stop: %s\n", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {	/* 0: the oldest */
		md = (struct seccomp_metadata){ .filter_off = i };
		len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, prog);
		if (len <= 0 || ptrace(PTRACE_SECCOMP_GET_METADATA, tid,
				       sizeof(md), &md) < 0) {
			printf(" [error %s]", strerror(errno));
			continue;
		}
		printf(" [flags 0x%llx len %ld hash %016lx]",
		       (unsigned long long)md.flags, len,
		       wl_fnv(prog, len * sizeof(prog[0])));
	}
	printf("\n");
	if (n)
		ptrace(PTRACE_DETACH, tid, 0, 0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int inspect(int argc, char **argv)
{
	struct dirent *de;
	char path[64];
	pid_t tids[256];
	int i, k, n;
	DIR *d;

	for (i = 0; i < argc; i++) {
		snprintf(path, sizeof(path), "/proc/%s/task", argv[i]);
		d = opendir(path);
		if (!d)
			continue;
		for (n = 0; n < 256 && (de = readdir(d));)
			if (atoi(de->d_name) > 0)
				tids[n++] = atoi(de->d_name);
		closedir(d);
		qsort(tids, n, sizeof(tids[0]), cmp_int);
		for (k = 0; k < n; k++)
			inspect_task(atoi(argv[i]), tids[k]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return inspect(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "notif"))
		return notif();
	return wl_under_subreaper(root);
}
