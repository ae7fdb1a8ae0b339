// SPDX-License-Identifier: MIT
/*
 * wl_vmshare - children that share their parent's memory without being its
 * threads: A with CLONE_VM | CLONE_SIGHAND, B with CLONE_VM alone (its own
 * handlers), D with CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_FS and
 * a thread T of its own, checkpointed, killed and restored (or frozen and
 * thawed).
 *
 * usage: wl_vmshare		the sharing test
 *	  wl_vmshare kid	A has a child of its own: for the refusal
 *
 * Before READY: B fills a private anonymous region (no MAP_SHARED: only a
 * shared mm makes R see it); A sets a handler for SIGUSR2 (R's too, one
 * table); B sets one for SIGURG (its own); R then sets one for SIGWINCH,
 * which B's table must not have.  After SIGUSR1, through plain globals:
 * R checks with kcmp that the three still share one mm and A R's handler
 * table, and B not; B's region; it writes a token each child must see and
 * answer; A sets a SIGHUP handler R must see; B changes SIGURG, which R
 * must not see, and checks its own SIGURG and SIGWINCH.  R raises SIGUSR2
 * and A's handler must run.  D blocked SIGPROF, which R sent it before
 * READY: once D unblocks it, the handler must run in D; T answers the
 * token too; D still shares R's table and fs (kcmp).  R prints every
 * verdict; the children report
 * through globals, so lines never interleave.  The tree runs under a
 * subreaper (wl_under_subreaper); R prints "READY ROOT=<pid>".
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "wl_common.h"

#define REGION (256 * 4096)
#define SEED 0x5eed

static volatile int step;	/* protocol position, futex word */
static volatile int token, a_reply, b_reply, t_reply;
static volatile int a_ok, b_ok, d_ok;	/* the children's verdicts */
static char a_msg[128], b_msg[128];
static volatile sig_atomic_t prof_runs;
static volatile pid_t t_tid;	/* D's thread */
static char *region;		/* private, written by B */
static volatile sig_atomic_t usr2_runs, go;
static char stack_a[64 * 1024] __attribute__((aligned(16)));
static char stack_b[64 * 1024] __attribute__((aligned(16)));
static char stack_g[16 * 1024] __attribute__((aligned(16)));
static char stack_d[64 * 1024] __attribute__((aligned(16)));
static char stack_thr[64 * 1024] __attribute__((aligned(16)));

static void on_usr1(int sig) { (void)sig; go = 1; }
static void on_usr2(int sig) { (void)sig; usr2_runs++; }
static void on_urg(int sig) { (void)sig; }
static void on_urg2(int sig) { (void)sig; }
static void on_winch(int sig) { (void)sig; }
static void on_hup(int sig) { (void)sig; }
static void on_prof(int sig) { (void)sig; prof_runs++; }

static void set_step(int n)
{
	step = n;
	syscall(SYS_futex, &step, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
}

/* until step reaches n; 20 s at most */
static bool wait_step(int n)
{
	struct timespec t = { 0, 100 * 1000 * 1000 };
	int i, s;

	for (i = 0; i < 200 && (s = step) < n; i++)
		syscall(SYS_futex, &step, FUTEX_WAIT, s, &t, NULL, 0);
	return step >= n;
}

static void *handler_of(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa))
		return (void *)-1;
	return (void *)sa.sa_handler;
}

static int set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	return sigaction(sig, &sa, NULL);
}

/* children: raw calls only where glibc would touch R's thread state */
static int a_main(void *arg)
{
	(void)arg;
	if (set_handler(SIGUSR2, on_usr2))
		_exit(3);
	set_step(1);
	if (!wait_step(4))
		_exit(4);
	a_reply = token + 1;
	if (set_handler(SIGHUP, on_hup))
		snprintf(a_msg, sizeof(a_msg), "sigaction SIGHUP failed");
	else
		a_ok = 1;
	set_step(5);
	for (;;)
		syscall(SYS_pause);
}

static int b_main(void *arg)
{
	(void)arg;
	wl_fill(region, REGION, SEED);
	if (set_handler(SIGURG, on_urg))
		_exit(3);
	set_step(2);
	if (!wait_step(5))
		_exit(4);
	b_reply = token + 2;
	if (handler_of(SIGURG) != (void *)on_urg)
		snprintf(b_msg, sizeof(b_msg), "its SIGURG handler is %p, not %p",
			 handler_of(SIGURG), (void *)on_urg);
	else if (handler_of(SIGWINCH) != (void *)SIG_DFL)
		snprintf(b_msg, sizeof(b_msg), "its SIGWINCH is %p: R's table",
			 handler_of(SIGWINCH));
	else if (set_handler(SIGURG, on_urg2))
		snprintf(b_msg, sizeof(b_msg), "sigaction SIGURG failed");
	else
		b_ok = 1;
	set_step(6);
	for (;;)
		syscall(SYS_pause);
}

/* T, D's thread: answers the token after B */
static int t_main(void *arg)
{
	(void)arg;
	if (!wait_step(6))
		syscall(SYS_exit, 4);
	t_reply = token + 3;
	set_step(7);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/* D: SIGPROF blocked (and then sent by R); a thread T */
static int d_main(void *arg)
{
	uint64_t prof = 1ULL << (SIGPROF - 1);

	(void)arg;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &prof, NULL, 8);
	t_tid = clone(t_main, stack_thr + sizeof(stack_thr), CLONE_VM |
		      CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		      CLONE_SYSVSEM, NULL);
	if (t_tid < 0)
		_exit(3);
	set_step(3);
	if (!wait_step(7))
		_exit(4);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &prof, NULL, 8);
	d_ok = prof_runs == 1;
	set_step(8);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

static int grandchild(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/* A, for the refusal: a child of its own, then it waits */
static int kid_main(void *arg)
{
	(void)arg;
	if (clone(grandchild, stack_g + sizeof(stack_g), SIGCHLD, NULL) < 0)
		_exit(3);
	set_step(1);
	for (;;)
		syscall(SYS_pause);
}

static pid_t spawn(int (*fn)(void *), char *stack, size_t size, int flags)
{
	pid_t pid = clone(fn, stack + size, flags | SIGCHLD, NULL);

	if (pid < 0)
		wl_die("clone 0x%x", flags);
	return pid;
}

static bool same(pid_t a, pid_t b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0) == 0;
}

static void check_sharing(pid_t a, pid_t b, pid_t d)
{
	pid_t me = getpid();
	int mark = wl_mark();

	if (same(me, a, KCMP_VM) && same(me, b, KCMP_VM))
		wl_pass("vmshare.kcmp.vm");
	else
		wl_fail("vmshare.kcmp.vm", "A shares: %d, B shares: %d",
			same(me, a, KCMP_VM), same(me, b, KCMP_VM));
	if (same(me, a, KCMP_SIGHAND) && !same(me, b, KCMP_SIGHAND))
		wl_pass("vmshare.kcmp.sighand");
	else
		wl_fail("vmshare.kcmp.sighand", "A shares: %d (want 1), B: %d (want 0)",
			same(me, a, KCMP_SIGHAND), same(me, b, KCMP_SIGHAND));
	if (!same(me, d, KCMP_VM) || !same(me, d, KCMP_SIGHAND))
		wl_fail("vmshare.d", "D shares no longer our memory or handlers");
	if (!same(me, d, KCMP_FILES) || !same(me, d, KCMP_FS))
		wl_fail("vmshare.d", "D shares no longer our table or fs");
	if (same(me, a, KCMP_FILES) || same(me, b, KCMP_FS))
		wl_fail("vmshare.d", "A or B share our table or fs");
	wl_verdict("vmshare.d", mark);
}

/* D's thread T is there, D's blocked SIGPROF was pending and ran */
static void check_d(pid_t d)
{
	char path[64];
	int mark = wl_mark();

	snprintf(path, sizeof(path), "/proc/%d/task/%d", d, t_tid);
	if (access(path, F_OK))
		wl_fail("vmshare.d.thread", "no %s", path);
	wl_verdict("vmshare.d.thread", mark);
	if (d_ok)
		wl_pass("vmshare.d.pending");
	else
		wl_fail("vmshare.d.pending", "SIGPROF ran %d times in D",
			(int)prof_runs);
}

static void check_memory(void)
{
	size_t off = wl_check(region, REGION, SEED);

	if (off == (size_t)-1)
		wl_pass("vmshare.memory.child_wrote");
	else
		wl_fail("vmshare.memory.child_wrote", "B's bytes differ at +%zu",
			off);
	token = 1000 + getpid();
	set_step(4);
	if (!wait_step(8)) {
		wl_fail("vmshare.memory.token", "children at step %d, not 8",
			step);
		return;
	}
	if (a_reply == token + 1 && b_reply == token + 2 &&
	    t_reply == token + 3)
		wl_pass("vmshare.memory.token");
	else
		wl_fail("vmshare.memory.token", "replies %d %d %d to %d",
			a_reply, b_reply, t_reply, token);
}

static void check_handlers(void)
{
	int mark = wl_mark();

	if (handler_of(SIGUSR2) != (void *)on_usr2)
		wl_fail("vmshare.sighand", "A's SIGUSR2 handler not ours");
	if (!a_ok)
		wl_fail("vmshare.sighand", "in A: %s", a_msg);
	else if (handler_of(SIGHUP) != (void *)on_hup)
		wl_fail("vmshare.sighand", "A's new SIGHUP handler not ours");
	raise(SIGUSR2);
	if (usr2_runs != 1)
		wl_fail("vmshare.sighand", "SIGUSR2 ran A's handler %d times",
			(int)usr2_runs);
	wl_verdict("vmshare.sighand", mark);
	mark = wl_mark();
	if (!b_ok)
		wl_fail("vmshare.own_handlers", "in B: %s", b_msg);
	if (handler_of(SIGURG) != (void *)SIG_DFL)
		wl_fail("vmshare.own_handlers", "B's SIGURG handler is ours");
	if (handler_of(SIGWINCH) != (void *)on_winch)
		wl_fail("vmshare.own_handlers", "our SIGWINCH handler is lost");
	wl_verdict("vmshare.own_handlers", mark);
}

static void wait_go(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

static void ready(void)
{
	printf("READY ROOT=%d\n", getpid());
	fflush(stdout);
}

static bool kid_mode;

static int root(void)
{
	sigset_t usr1;
	pid_t a, b, d;

	wl_own_session();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	set_handler(SIGUSR1, on_usr1);
	if (kid_mode) {
		spawn(kid_main, stack_a, sizeof(stack_a), CLONE_VM);
		if (!wait_step(1))
			wl_die("A not ready");
		ready();
		wait_go();
		return 0;
	}
	region = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		wl_die("mmap");
	a = spawn(a_main, stack_a, sizeof(stack_a), CLONE_VM | CLONE_SIGHAND);
	if (!wait_step(1))
		wl_die("A not ready");
	b = spawn(b_main, stack_b, sizeof(stack_b), CLONE_VM);
	if (!wait_step(2))
		wl_die("B not ready");
	set_handler(SIGPROF, on_prof);
	d = spawn(d_main, stack_d, sizeof(stack_d), CLONE_VM | CLONE_SIGHAND |
		  CLONE_FILES | CLONE_FS);
	if (!wait_step(3))
		wl_die("D not ready");
	kill(d, SIGPROF);
	set_handler(SIGWINCH, on_winch);
	ready();
	wait_go();
	check_sharing(a, b, d);
	check_memory();
	check_handlers();
	check_d(d);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	kill(d, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	waitpid(d, NULL, 0);
	return wl_done();
}

int main(int argc, char **argv)
{
	kid_mode = argc > 1 && !strcmp(argv[1], "kid");
	return wl_under_subreaper(root);
}
