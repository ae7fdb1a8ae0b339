// SPDX-License-Identifier: MIT
/*
 * wl_threads - a process of 9 threads (main and 8 workers), each caught in
 * a different state, each with its own thread state, to be checkpointed,
 * killed and restored.
 *
 * usage: wl_threads [SLEEP [SLACK]]
 *
 *	SLEEP	length of the nanosleep worker's sleep, default 8 s
 *	SLACK	how much longer than SLEEP it may take in all, default 2.5 s
 *		(the test checkpoints a few seconds into the sleep, more than
 *		SLACK, so a sleep started over from scratch is caught)
 *
 * Workers (thread i, kind) and the state the checkpoint finds them in:
 *
 *	0 spin		user mode, spinning on a flag, r12-r15/xmm6/xmm7 live
 *	1 nanosleep	raw relative nanosleep(SLEEP) with a rem pointer
 *	2 condwait	pthread_cond_wait (futex), woken by main after restore
 *	3 mutex		pthread_mutex_lock on a mutex main holds
 *	4 poll		raw poll(NULL, 0, 30 s), woken by SIGUSR2 from main
 *	5 sigwait	raw rt_sigtimedwait on blocked SIGRTMIN+2, which main
 *			sends with pthread_sigqueue after the restore
 *	6 pause		raw pause, woken by SIGUSR2 from main
 *	7 futex		raw FUTEX_WAIT, woken by main with FUTEX_WAKE
 *
 * Main waits for SIGUSR1 in sigsuspend (the only thread that ever unblocks
 * SIGUSR1).  Before READY main waits until /proc shows every worker in its
 * syscall, and prints "# tid TID KIND" per worker for the test.
 *
 * Every worker, before waiting, sets and records its own:
 *  - blocked mask (differs per thread: SIGRTMIN+10+i, SIGRTMIN+20+i and a
 *    subset of SIGHUP/SIGWINCH/SIGURG chosen by i's bits);
 *  - sigaltstack (its own 64 KiB mapping);
 *  - TLS (__thread) value and buffer, from seed i;
 *  - two queued thread-directed signals SIGRTMIN+10+i (pthread_sigqueue,
 *    values V1(i), V2(i)) left pending;
 *  - fs base, robust list, clear_child_tid, rseq registration.
 * The raw-syscall workers keep r12-r15 and xmm6/xmm7 loaded across the
 * syscall (inline asm); condwait and mutex call the glibc function through
 * a trampoline that loads r12-r15 (callee-saved) before and stores them
 * after the call.
 *
 * After SIGUSR1 main wakes each worker as above (resending SIGUSR2 to poll
 * and pause every 200 ms until they finish) and joins them all with a 30 s
 * limit (pthread_join itself relies on the restored clear_child_tid).
 * Each worker then checks: tid, registers, how its wait ended (a syscall
 * may return EINTR once because of the freeze or the restore, where the
 * kernel does so too, and is then re-issued; anything else is a failure;
 * the nanosleep must return 0 after >= SLEEP and <= SLEEP + SLACK s),
 * TLS, fs base, blocked mask, sigaltstack (as recorded, and used: a
 * SIGUSR2 it sends itself must run on it), its pending signals (its own
 * two, in order, with their values, and none of the other threads'),
 * robust list, clear_child_tid, rseq.  Main prints them all as
 * "PASS t<i>.<kind>.<check>" or FAIL, then DONE.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include "wl_common.h"

#define NW		8
#define ALT_SIZE	(64ul << 10)
#define SEED_TLS	0x8100
#define SEED_REGS	0x8200	/* + 8 * i */
#define SEED_MEM	0x8300
#define MEM_SIZE	(4ul << 20)
#define SIG_WAIT	(SIGRTMIN + 2)
#define SIG_OWN(i)	(SIGRTMIN + 10 + (i))
#define SIG_MASK(i)	(SIGRTMIN + 20 + (i))
#define V1(i)		(0x7e0100 + (i))
#define V2(i)		(0x7e0200 + (i))
#define WAIT_VAL	0x5a5a17
#define MAXRES		40

enum kind { SPIN, NANOSLEEP, CONDWAIT, MUTEX, POLL, SIGWAIT, PAUSE, FUTEX };

static const char *const kind_name[NW] = {
	"spin", "nanosleep", "condwait", "mutex", "poll", "sigwait", "pause",
	"futex",
};

/* the syscall /proc/self/task/TID/syscall shows while the worker waits */
static const int kind_sys[NW] = {
	-1, SYS_nanosleep, SYS_futex, SYS_futex, SYS_poll, SYS_rt_sigtimedwait,
	SYS_pause, SYS_futex,
};

/* registers kept live across the wait */
struct rv {
	uint64_t g[4];		/* r12 r13 r14 r15 */
	uint8_t x[2][16];	/* xmm6 xmm7 */
};

struct result {
	char name[24];
	int ok;
	char detail[200];
};

static struct th {
	int idx;
	pthread_t pt;
	pid_t tid;
	atomic_int ready;
	/* recorded before the wait */
	unsigned long fsbase;
	stack_t ss;
	void *alt;
	long robust_ret;
	void *robust_head;
	size_t robust_len;
	long tidaddr_ret;
	int *tidaddr;
	int rseq;
	struct rv in, out;
	long ret;		/* of the wait */
	int eintr;		/* EINTR returns seen (then re-issued) */
	double elapsed;		/* nanosleep */
	int nres;
	struct result res[MAXRES];
} th[NW];

static double sleep_secs = 8, slack = 2.5;
static volatile int go;			/* spin: set by main after SIGUSR1 */
static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int woken;			/* condwait's predicate, under m1 */
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;	/* main holds it */
static atomic_int futex_word;
static atomic_int stop_poll, stop_pause;
static volatile sig_atomic_t got_usr1;

static __thread uint64_t tls_val;
static __thread uint64_t tls_buf[64];
static __thread int tls_idx = -1;
static __thread volatile int usr2_count, usr2_on_alt, usr2_ss_onstack;

/* through an opaque pointer: gcc -O1 folds loop bounds into the TLS offset
 * otherwise, which the linker cannot fit in 32 bits */
static uint64_t *tls_buf_ptr(void)
{
	uint64_t *p = tls_buf;

	asm("" : "+r"(p));
	return p;
}

/* --- results, recorded by each worker, printed by main ------------------- */

static void __attribute__((format(printf, 4, 5)))
res(struct th *t, const char *name, int ok, const char *fmt, ...)
{
	struct result *r;
	va_list ap;
	int i;

	/* one entry per name: a later failure overrides an earlier pass */
	for (i = 0; i < t->nres && strcmp(t->res[i].name, name); i++)
		;
	if (i == MAXRES)
		return;
	r = &t->res[i];
	if (i == t->nres) {
		t->nres++;
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->ok = 1;
	}
	if (ok || !r->ok)
		return;
	r->ok = 0;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* --- registers ----------------------------------------------------------- */

static void reg_expect(int i, struct rv *r)
{
	int k;

	for (k = 0; k < 4; k++)
		r->g[k] = wl_mix(SEED_REGS + 8 * i + k);
	wl_fill(r->x, sizeof(r->x), SEED_REGS + 8 * i + 4);
}

static void check_regs(struct th *t)
{
	static const char *const gname[4] = { "r12", "r13", "r14", "r15" };
	struct rv want;
	int k;

	reg_expect(t->idx, &want);
	res(t, "regs", 1, " ");
	for (k = 0; k < 4; k++)
		if (t->out.g[k] != want.g[k])
			res(t, "regs", 0, "%s is 0x%016llx, want 0x%016llx",
			    gname[k], (unsigned long long)t->out.g[k],
			    (unsigned long long)want.g[k]);
	if (t->idx == CONDWAIT || t->idx == MUTEX)
		return;	/* xmm are not preserved across a function call */
	for (k = 0; k < 2; k++)
		if (memcmp(t->out.x[k], want.x[k], 16))
			res(t, "regs", 0, "xmm%d is 0x%016llx%016llx, want 0x%016llx%016llx",
			    6 + k, (unsigned long long)((uint64_t *)t->out.x[k])[1],
			    (unsigned long long)((uint64_t *)t->out.x[k])[0],
			    (unsigned long long)((uint64_t *)want.x[k])[1],
			    (unsigned long long)((uint64_t *)want.x[k])[0]);
}

/* A raw syscall with r12-r15, xmm6 and xmm7 loaded from *in across it. */
static long sys_regs(long nr, long a1, long a2, long a3, long a4,
		     const struct rv *in, struct rv *out)
{
	register long r10 asm("r10") = a4;
	long ret;

	asm volatile(
		"mov	0(%[in]), %%r12\n\t"
		"mov	8(%[in]), %%r13\n\t"
		"mov	16(%[in]), %%r14\n\t"
		"mov	24(%[in]), %%r15\n\t"
		"movdqu	32(%[in]), %%xmm6\n\t"
		"movdqu	48(%[in]), %%xmm7\n\t"
		"syscall\n\t"
		"mov	%%r12, 0(%[out])\n\t"
		"mov	%%r13, 8(%[out])\n\t"
		"mov	%%r14, 16(%[out])\n\t"
		"mov	%%r15, 24(%[out])\n\t"
		"movdqu	%%xmm6, 32(%[out])\n\t"
		"movdqu	%%xmm7, 48(%[out])\n\t"
		: "=a"(ret), "+r"(r10)
		: "a"(nr), "D"(a1), "S"(a2), "d"(a3), [in] "r"(in),
		  [out] "r"(out)
		: "rcx", "r11", "r12", "r13", "r14", "r15", "xmm6", "xmm7",
		  "memory", "cc");
	return ret;
}

/* User-mode spin until go, with the same registers live. */
static void spin_regs(const struct rv *in, struct rv *out)
{
	asm volatile(
		"mov	0(%[in]), %%r12\n\t"
		"mov	8(%[in]), %%r13\n\t"
		"mov	16(%[in]), %%r14\n\t"
		"mov	24(%[in]), %%r15\n\t"
		"movdqu	32(%[in]), %%xmm6\n\t"
		"movdqu	48(%[in]), %%xmm7\n\t"
		"1:\n\t"
		"pause\n\t"
		"cmpl	$0, %[go]\n\t"
		"je	1b\n\t"
		"mov	%%r12, 0(%[out])\n\t"
		"mov	%%r13, 8(%[out])\n\t"
		"mov	%%r14, 16(%[out])\n\t"
		"mov	%%r15, 24(%[out])\n\t"
		"movdqu	%%xmm6, 32(%[out])\n\t"
		"movdqu	%%xmm7, 48(%[out])\n\t"
		:
		: [in] "r"(in), [out] "r"(out), [go] "m"(go)
		: "r12", "r13", "r14", "r15", "xmm6", "xmm7", "memory", "cc");
}

/*
 * long call_regs(long (*fn)(void *), void *arg, const struct rv *in,
 *		  struct rv *out): call fn(arg) with r12-r15 loaded from in,
 * store them to out afterwards.  They are callee-saved, so whatever fn
 * does (block in a futex, be frozen there) they must come back unchanged.
 */
long call_regs(long (*fn)(void *), void *arg, const struct rv *in,
	       struct rv *out);
asm(".text\n"
    ".globl call_regs\n"
    ".type call_regs, @function\n"
    "call_regs:\n\t"
    "push	%rbx\n\t"
    "push	%rbp\n\t"
    "push	%r12\n\t"
    "push	%r13\n\t"
    "push	%r14\n\t"
    "push	%r15\n\t"
    "sub	$8, %rsp\n\t"		/* 16-byte alignment for the call */
    "mov	%rdx, %rbx\n\t"
    "mov	%rcx, %rbp\n\t"
    "mov	%rdi, %rax\n\t"
    "mov	%rsi, %rdi\n\t"
    "mov	0(%rbx), %r12\n\t"
    "mov	8(%rbx), %r13\n\t"
    "mov	16(%rbx), %r14\n\t"
    "mov	24(%rbx), %r15\n\t"
    "call	*%rax\n\t"
    "mov	%r12, 0(%rbp)\n\t"
    "mov	%r13, 8(%rbp)\n\t"
    "mov	%r14, 16(%rbp)\n\t"
    "mov	%r15, 24(%rbp)\n\t"
    "add	$8, %rsp\n\t"
    "pop	%r15\n\t"
    "pop	%r14\n\t"
    "pop	%r13\n\t"
    "pop	%r12\n\t"
    "pop	%rbp\n\t"
    "pop	%rbx\n\t"
    "ret\n\t"
    ".size call_regs, .-call_regs\n");

static long do_condwait(void *arg)
{
	long r = 0;

	(void)arg;
	pthread_mutex_lock(&m1);
	while (!woken && !r)
		r = pthread_cond_wait(&cv, &m1);
	pthread_mutex_unlock(&m1);
	return r;
}

static long do_mutex(void *arg)
{
	long r = pthread_mutex_lock(&m2);

	(void)arg;
	if (!r)
		pthread_mutex_unlock(&m2);
	return r;
}

/* --- signals -------------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void on_usr2(int sig)
{
	char here;
	stack_t ss;
	struct th *t;

	(void)sig;
	usr2_count++;
	if (tls_idx < 0)
		return;
	t = &th[tls_idx];
	usr2_on_alt = (char *)&here >= (char *)t->alt &&
		      (char *)&here < (char *)t->alt + ALT_SIZE;
	if (!sigaltstack(NULL, &ss))
		usr2_ss_onstack = !!(ss.ss_flags & SS_ONSTACK);
}

static void mask_for(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIG_WAIT);
	sigaddset(set, SIG_OWN(i));
	sigaddset(set, SIG_MASK(i));
	if (i & 1)
		sigaddset(set, SIGHUP);
	if (i & 2)
		sigaddset(set, SIGWINCH);
	if (i & 4)
		sigaddset(set, SIGURG);
}

static uint64_t bits(const sigset_t *set)
{
	uint64_t m = 0;
	int s;

	for (s = 1; s <= 64; s++)
		if (sigismember(set, s) == 1)
			m |= 1ull << (s - 1);
	return m;
}

static int rseq_probe(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	long r;

	if (!__rseq_size)
		return -1;
	r = syscall(SYS_rseq, area, 32, 0, RSEQ_SIG);
	if (r == 0) {
		syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
		return 0;
	}
	return errno == EBUSY ? 1 : -errno;
}

/* --- the workers ---------------------------------------------------------- */

static void wait_state(struct th *t)
{
	struct timespec req, rem;
	siginfo_t si;
	uint64_t set;
	double t0;
	long r;
	int seen;

	switch (t->idx) {
	case SPIN:
		atomic_store(&t->ready, 1);
		spin_regs(&t->in, &t->out);
		t->ret = 0;
		break;
	case NANOSLEEP:
		req.tv_sec = (time_t)sleep_secs;
		req.tv_nsec = (long)((sleep_secs - req.tv_sec) * 1e9);
		t0 = wl_now(CLOCK_MONOTONIC);
		atomic_store(&t->ready, 1);
		t->ret = sys_regs(SYS_nanosleep, (long)&req, (long)&rem, 0, 0,
				  &t->in, &t->out);
		t->elapsed = wl_now(CLOCK_MONOTONIC) - t0;
		break;
	case CONDWAIT:
		atomic_store(&t->ready, 1);
		t->ret = call_regs(do_condwait, NULL, &t->in, &t->out);
		break;
	case MUTEX:
		atomic_store(&t->ready, 1);
		t->ret = call_regs(do_mutex, NULL, &t->in, &t->out);
		break;
	case POLL:
	case PAUSE:
		/* each return must be EINTR: a signal or a freeze/restore */
		atomic_store(&t->ready, 1);
		for (;;) {
			seen = usr2_count;
			if (t->idx == POLL)
				r = sys_regs(SYS_poll, 0, 0, 30000, 0, &t->in,
					     &t->out);
			else
				r = sys_regs(SYS_pause, 0, 0, 0, 0, &t->in,
					     &t->out);
			t->ret = r;
			if (r != -EINTR && !(t->idx == POLL && r == 0))
				break;
			check_regs(t);
			if (atomic_load(t->idx == POLL ? &stop_poll : &stop_pause))
				break;
			if (usr2_count == seen)
				t->eintr++;	/* interrupted by no signal */
		}
		break;
	case SIGWAIT:
		set = 1ull << (SIG_WAIT - 1);
		atomic_store(&t->ready, 1);
		memset(&si, 0, sizeof(si));
		for (;;) {
			r = sys_regs(SYS_rt_sigtimedwait, (long)&set, (long)&si,
				     0, 8, &t->in, &t->out);
			if (r != -EINTR)
				break;
			check_regs(t);
			t->eintr++;
		}
		t->ret = r;
		res(t, "sigwait", r == SIG_WAIT && si.si_code == SI_QUEUE &&
		    si.si_value.sival_int == WAIT_VAL && si.si_pid == getpid(),
		    "rt_sigtimedwait returned %ld, si_code %d value 0x%x pid %d, want %d, SI_QUEUE, 0x%x, %d",
		    r, si.si_code, si.si_value.sival_int, si.si_pid, SIG_WAIT,
		    WAIT_VAL, getpid());
		break;
	case FUTEX:
		atomic_store(&t->ready, 1);
		r = 0;
		while (!atomic_load(&futex_word)) {
			r = sys_regs(SYS_futex, (long)&futex_word,
				     FUTEX_WAIT_PRIVATE, 0, 0, &t->in, &t->out);
			if (r == -EINTR)
				t->eintr++;
			else if (r && r != -EAGAIN)
				break;
			check_regs(t);
		}
		t->ret = r;
		break;
	}
}

static void check_wait(struct th *t)
{
	switch (t->idx) {
	case SPIN:
		break;
	case NANOSLEEP:
		res(t, "nanosleep", t->ret == 0 && t->elapsed >= sleep_secs - 0.001 &&
		    t->elapsed <= sleep_secs + slack,
		    "returned %ld after %.3f s, want 0 after %.1f..%.1f s (EINTR: lost; longer: started over)",
		    t->ret, t->elapsed, sleep_secs, sleep_secs + slack);
		break;
	case CONDWAIT:
		res(t, "condwait", t->ret == 0 && woken,
		    "pthread_cond_wait loop returned %ld, woken %d", t->ret, woken);
		break;
	case MUTEX:
		res(t, "mutex", t->ret == 0, "pthread_mutex_lock returned %ld",
		    t->ret);
		break;
	case POLL:
		res(t, "poll", t->ret == -EINTR || t->ret == 0,
		    "poll returned %ld, want -EINTR (%d) or 0", t->ret, -EINTR);
		break;
	case PAUSE:
		res(t, "pause", t->ret == -EINTR && t->eintr == 0,
		    "pause returned %ld (want -EINTR = %d); returns without a signal: %d (want 0: pause must be re-issued after a restore)",
		    t->ret, -EINTR, t->eintr);
		break;
	case SIGWAIT:
		break;	/* checked in wait_state */
	case FUTEX:
		res(t, "futex", t->ret == 0 || t->ret == -EAGAIN,
		    "FUTEX_WAIT returned %ld", t->ret);
		break;
	}
}

static void check_thread(struct th *t)
{
	sigset_t want, cur, pend;
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	unsigned long fsbase = 0;
	void *head = NULL;
	size_t len = 0;
	int *tidaddr = NULL;
	char tname[17], twant[16];
	stack_t ss;
	long r;
	int i, k, n;

	check_regs(t);
	check_wait(t);

	res(t, "tid", gettid() == t->tid, "gettid %d, was %d", gettid(), t->tid);

	res(t, "tls", tls_idx == t->idx && tls_val == wl_mix(SEED_TLS + t->idx) &&
	    wl_check(tls_buf_ptr(), sizeof(tls_buf), SEED_TLS + 100 + t->idx) == (size_t)-1,
	    "tls index %d (want %d), value 0x%llx, buffer %s", tls_idx, t->idx,
	    (unsigned long long)tls_val,
	    wl_check(tls_buf_ptr(), sizeof(tls_buf), SEED_TLS + 100 + t->idx) == (size_t)-1 ? "ok" : "differs");
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fsbase);
	res(t, "fsbase", fsbase == t->fsbase && fsbase == (unsigned long)__builtin_thread_pointer(),
	    "fs base 0x%lx, was 0x%lx", fsbase, t->fsbase);

	mask_for(t->idx, &want);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	res(t, "mask", bits(&cur) == bits(&want), "blocked 0x%016llx, want 0x%016llx",
	    (unsigned long long)bits(&cur), (unsigned long long)bits(&want));

	memset(&ss, 0, sizeof(ss));
	sigaltstack(NULL, &ss);
	res(t, "altstack", ss.ss_sp == t->alt && ss.ss_size == ALT_SIZE &&
	    ss.ss_flags == 0, "sigaltstack sp %p size %zu flags %d, want %p %lu 0",
	    ss.ss_sp, ss.ss_size, ss.ss_flags, t->alt, ALT_SIZE);
	n = usr2_count;
	usr2_on_alt = 0;
	pthread_kill(pthread_self(), SIGUSR2);
	res(t, "altstack.used", usr2_count == n + 1 && usr2_on_alt && usr2_ss_onstack,
	    "SIGUSR2 handler ran %d times (want 1), on this thread's altstack %d, SS_ONSTACK %d",
	    usr2_count - n, usr2_on_alt, usr2_ss_onstack);

	/* pending: our own two queued signals, nobody else's */
	sigemptyset(&pend);
	sigpending(&pend);
	res(t, "pending", 1, " ");
	for (k = 0; k < NW; k++)
		if (sigismember(&pend, SIG_OWN(k)) != (k == t->idx))
			res(t, "pending", 0, "SIGRTMIN+%d (thread %d's) is %spending here",
			    10 + k, k, k == t->idx ? "not " : "");
	sigemptyset(&want);
	sigaddset(&want, SIG_OWN(t->idx));
	for (i = 0; i < 2; i++) {
		int v = i ? V2(t->idx) : V1(t->idx);

		memset(&si, 0, sizeof(si));
		r = sigtimedwait(&want, &si, &zero);
		if (r != SIG_OWN(t->idx) || si.si_code != SI_QUEUE ||
		    si.si_value.sival_int != v || si.si_pid != getpid())
			res(t, "pending", 0, "queued signal %d: got %ld code %d value 0x%x pid %d, want %d SI_QUEUE 0x%x %d",
			    i + 1, r, si.si_code, si.si_value.sival_int, si.si_pid,
			    SIG_OWN(t->idx), v, getpid());
	}
	r = sigtimedwait(&want, &si, &zero);
	if (r != -1)
		res(t, "pending", 0, "a third SIGRTMIN+%d was pending", 10 + t->idx);

	r = syscall(SYS_get_robust_list, 0, &head, &len);
	res(t, "robust_list", r == t->robust_ret && head == t->robust_head &&
	    len == t->robust_len, "get_robust_list %ld head %p len %zu, was %ld %p %zu",
	    r, head, len, t->robust_ret, t->robust_head, t->robust_len);
	r = prctl(PR_GET_TID_ADDRESS, &tidaddr);
	res(t, "tid_address", r == t->tidaddr_ret && tidaddr == t->tidaddr,
	    "PR_GET_TID_ADDRESS %ld %p, was %ld %p", r, (void *)tidaddr,
	    t->tidaddr_ret, (void *)t->tidaddr);
	k = rseq_probe();
	res(t, "rseq", k == t->rseq, "rseq probe %d, was %d (1 = registered)",
	    k, t->rseq);
	tname[0] = '\0';
	prctl(PR_GET_NAME, tname);
	snprintf(twant, sizeof(twant), "wl-w%d", t->idx);
	res(t, "name", !strcmp(tname, twant), "PR_GET_NAME '%s', was '%s'",
	    tname, twant);
}

static void *worker(void *arg)
{
	struct th *t = arg;
	char name[16];
	union sigval v;
	sigset_t set;
	stack_t ss;
	int i = t->idx;

	tls_idx = i;
	t->tid = gettid();
	snprintf(name, sizeof(name), "wl-w%d", i);
	prctl(PR_SET_NAME, name);	/* each thread its own name */
	mask_for(i, &set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	t->alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->alt == MAP_FAILED)
		wl_die("mmap altstack");
	ss.ss_sp = t->alt;
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		wl_die("sigaltstack");

	tls_val = wl_mix(SEED_TLS + i);
	wl_fill(tls_buf_ptr(), sizeof(tls_buf), SEED_TLS + 100 + i);

	v.sival_int = V1(i);
	if (pthread_sigqueue(pthread_self(), SIG_OWN(i), v))
		wl_die("pthread_sigqueue");
	v.sival_int = V2(i);
	if (pthread_sigqueue(pthread_self(), SIG_OWN(i), v))
		wl_die("pthread_sigqueue");

	syscall(SYS_arch_prctl, ARCH_GET_FS, &t->fsbase);
	t->robust_ret = syscall(SYS_get_robust_list, 0, &t->robust_head,
				&t->robust_len);
	t->tidaddr_ret = prctl(PR_GET_TID_ADDRESS, &t->tidaddr);
	t->rseq = rseq_probe();
	reg_expect(i, &t->in);

	wait_state(t);
	check_thread(t);
	return NULL;
}

/* --- main ----------------------------------------------------------------- */

/* the syscall number the thread is in, -2 if running, -3 if unknown */
static int in_syscall(pid_t tid)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -3;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -3;
	buf[n] = 0;
	if (!strncmp(buf, "running", 7))
		return -2;
	return atoi(buf);
}

static void wake_all(void)
{
	union sigval v;

	go = 1;
	pthread_mutex_lock(&m1);
	woken = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&m1);
	pthread_mutex_unlock(&m2);
	atomic_store(&futex_word, 1);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL);
	v.sival_int = WAIT_VAL;
	pthread_sigqueue(th[SIGWAIT].pt, SIG_WAIT, v);
	atomic_store(&stop_poll, 1);
	atomic_store(&stop_pause, 1);
	pthread_kill(th[POLL].pt, SIGUSR2);
	pthread_kill(th[PAUSE].pt, SIGUSR2);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t set, during, now, orig;
	unsigned char *mem;
	pid_t pid;
	int i, k, r, m;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		sleep_secs = atof(argv[1]);
	if (argc > 2)
		slack = atof(argv[2]);
	wl_own_session();
	pid = getpid();

	mem = malloc(MEM_SIZE);
	if (!mem)
		wl_die("malloc");
	wl_fill(mem, MEM_SIZE, SEED_MEM);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction");
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;	/* no SA_RESTART: wakes poll and pause */
	if (sigaction(SIGUSR2, &sa, NULL))
		wl_die("sigaction");

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIG_WAIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		wl_die("sigprocmask");
	sigprocmask(SIG_BLOCK, NULL, &orig);
	during = orig;
	sigdelset(&during, SIGUSR1);

	pthread_mutex_lock(&m2);
	for (i = 0; i < NW; i++) {
		th[i].idx = i;
		if (pthread_create(&th[i].pt, NULL, worker, &th[i]))
			wl_die("pthread_create");
	}
	/* every worker in its wait: ready, and in its syscall per /proc */
	for (i = 0; i < NW; i++) {
		for (k = 0; k < 10000; k++) {
			if (atomic_load(&th[i].ready) &&
			    (kind_sys[i] < 0 || in_syscall(th[i].tid) == kind_sys[i]))
				break;
			usleep(1000);
		}
		if (k == 10000)
			wl_die("worker %d (%s) not in its wait: syscall %d", i,
			       kind_name[i], in_syscall(th[i].tid));
		printf("# tid %d %s\n", th[i].tid, kind_name[i]);
	}
	wl_ready();

	while (!got_usr1)
		sigsuspend(&during);

	wake_all();
	for (i = 0; i < NW; i++) {
		double limit = wl_now(CLOCK_REALTIME) + 30;
		struct timespec ts;

		for (;;) {
			double t = wl_now(CLOCK_REALTIME) + 0.2;

			ts.tv_sec = (time_t)t;
			ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
			r = pthread_timedjoin_np(th[i].pt, NULL, &ts);
			if (r != ETIMEDOUT)
				break;
			if (wl_now(CLOCK_REALTIME) > limit)
				break;
			if (i == POLL || i == PAUSE)
				pthread_kill(th[i].pt, SIGUSR2);
		}
		if (r) {
			wl_fail("join", "thread %d (%s, tid %d) did not finish in 30 s: pthread_timedjoin_np %d, in syscall %d",
				i, kind_name[i], th[i].tid, r, in_syscall(th[i].tid));
			return wl_done();
		}
	}

	for (i = 0; i < NW; i++) {
		struct th *t = &th[i];

		for (k = 0; k < t->nres; k++) {
			char name[64];

			snprintf(name, sizeof(name), "t%d.%s.%s", i, kind_name[i],
				 t->res[k].name);
			if (t->res[k].ok)
				wl_pass(name);
			else
				wl_fail(name, "%s", t->res[k].detail);
		}
		if (t->eintr)
			printf("# t%d.%s: %d EINTR return(s), re-issued\n", i,
			       kind_name[i], t->eintr);
	}

	m = wl_mark();
	if (getpid() != pid || gettid() != pid)
		wl_fail("main.pid", "getpid %d gettid %d, was %d", getpid(),
			gettid(), pid);
	wl_verdict("main.pid", m);
	m = wl_mark();
	sigprocmask(SIG_BLOCK, NULL, &now);
	if (bits(&now) != bits(&orig))
		wl_fail("main.mask", "blocked 0x%llx, was 0x%llx",
			(unsigned long long)bits(&now), (unsigned long long)bits(&orig));
	wl_verdict("main.mask", m);
	m = wl_mark();
	if (wl_check(mem, MEM_SIZE, SEED_MEM) != (size_t)-1)
		wl_fail("main.mem", "heap differs at %zu", wl_check(mem, MEM_SIZE, SEED_MEM));
	wl_verdict("main.mem", m);
	return wl_done();
}
