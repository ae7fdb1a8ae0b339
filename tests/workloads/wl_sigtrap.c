// SPDX-License-Identifier: MIT
/*
 * wl_sigtrap - SIGTRAP's action, mask bit and pending state, which a
 * freeze's single-stepped syscalls could change (the kernel resets the
 * action of a forced SIGTRAP that is blocked or ignored to SIG_DFL).
 *
 * usage: wl_sigtrap ign|blocked|pending|thread|ownqueue
 *
 *	ign	SIGTRAP ignored (SIG_IGN, SA_RESTART)
 *	blocked	a handler (SA_SIGINFO), SIGTRAP blocked
 *	pending	a handler, SIGTRAP blocked and pending (raised, si_code
 *		SI_TKILL), SIGUSR2 pending too
 *	thread	SIGTRAP pending in a second thread's own queue (SIGUSR2
 *		not), the main thread with nothing pending
 *	ownqueue  a second thread's own queue holds SIGUSR2 (tgkill:
 *		SI_TKILL) and SIGRTMIN three times: sigqueued with 1,
 *		tgkill'd (SI_TKILL), sigqueued with 2; after SIGUSR1 the
 *		thread takes them with sigwaitinfo, in that order
 *
 * READY, then it waits in sigsuspend (only SIGUSR1 let in).  On SIGUSR1
 * it checks that the action, flags, mask and pending set are as made,
 * then that a SIGTRAP it raises is ignored (ign) or reaches its handler
 * once when let in (blocked: raised then let in; pending: the one
 * pending, with its si_code).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "wl_common.h"

static volatile int traps, trap_code, go, trap_tid;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	traps++;
	trap_code = si->si_code;
	trap_tid = gettid();
}

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void check_action(int ign)
{
	struct sigaction sa;

	if (sigaction(SIGTRAP, NULL, &sa))
		wl_die("sigaction");
	if (ign && (sa.sa_handler != SIG_IGN || !(sa.sa_flags & SA_RESTART)))
		wl_fail("sigtrap.action", "handler %p flags %#x, want SIG_IGN, SA_RESTART",
			(void *)sa.sa_handler, sa.sa_flags);
	else if (!ign && (sa.sa_sigaction != on_trap ||
			  !(sa.sa_flags & SA_SIGINFO)))
		wl_fail("sigtrap.action", "handler %p flags %#x, want on_trap, SA_SIGINFO",
			(void *)sa.sa_handler, sa.sa_flags);
	else
		wl_pass("sigtrap.action");
}

/* pending 2: SIGTRAP pending, SIGUSR2 not */
static void check_sets(int blocked, int pending)
{
	int usr2 = pending == 1;
	sigset_t m, p;

	if (sigprocmask(SIG_BLOCK, NULL, &m) || sigpending(&p))
		wl_die("sigprocmask");
	if (sigismember(&m, SIGTRAP) != blocked || !sigismember(&m, SIGUSR2) ||
	    sigismember(&p, SIGTRAP) != !!pending ||
	    sigismember(&p, SIGUSR2) != usr2)
		wl_fail("sigtrap.sets", "SIGTRAP blocked %d pending %d, SIGUSR2 blocked %d pending %d; want %d %d 1 %d",
			sigismember(&m, SIGTRAP), sigismember(&p, SIGTRAP),
			sigismember(&m, SIGUSR2), sigismember(&p, SIGUSR2),
			blocked, !!pending, usr2);
	else
		wl_pass("sigtrap.sets");
}

/* the checks of a mode, in the thread whose queue holds the signals */
static void after_go(int ign, int pend)
{
	sigset_t b;

	check_action(ign);
	check_sets(!ign, pend);
	if (!pend && raise(SIGTRAP))
		wl_die("raise SIGTRAP");
	if (!ign) {
		sigemptyset(&b);
		sigaddset(&b, SIGTRAP);
		sigprocmask(SIG_UNBLOCK, &b, NULL);
	}
	if (ign ? traps != 0 :
	    traps != 1 || trap_code != SI_TKILL || trap_tid != gettid())
		wl_fail("sigtrap.raised", "the handler ran %d times, si_code %d, in %d (want %d)",
			traps, trap_code, trap_tid, gettid());
	else
		wl_pass("sigtrap.raised");
}

static volatile int thread_ready, thread_done;

/* the si_code sigtimedwait shows for a tgkill: glibc folds the kernel's
 * SI_TKILL into SI_USER there (the queue itself holds SI_TKILL) */
static int tkill_code(void)
{
	struct timespec now = { 0, 0 };
	siginfo_t si;
	sigset_t b;

	sigemptyset(&b);
	sigaddset(&b, SIGUSR2);
	if (syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2) ||
	    sigtimedwait(&b, &si, &now) != SIGUSR2)
		wl_die("tgkill SIGUSR2");
	return si.si_code;
}

/* the ownqueue thread's queue, taken in order after the go */
static void own_queue(void)
{
	const int tk = tkill_code();
	const int want_code[] = { tk, SI_QUEUE, tk, SI_QUEUE };
	static const int want_val[] = { 0, 1, 0, 2 };
	union sigval v1 = { .sival_int = 1 }, v2 = { .sival_int = 2 };
	struct timespec now = { 0, 0 };
	siginfo_t si;
	sigset_t b;
	int i, sig;

	if (syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2) ||
	    pthread_sigqueue(pthread_self(), SIGRTMIN, v1) ||
	    syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN) ||
	    pthread_sigqueue(pthread_self(), SIGRTMIN, v2))
		wl_die("queue in the thread");
	thread_ready = 1;
	while (!go)
		usleep(1000);
	sigemptyset(&b);
	sigaddset(&b, SIGUSR2);
	sigaddset(&b, SIGRTMIN);
	for (i = 0; i < 4; i++) {
		sig = sigtimedwait(&b, &si, &now);
		if (sig != (i ? SIGRTMIN : SIGUSR2) || si.si_code != want_code[i] ||
		    (want_code[i] == SI_QUEUE && si.si_value.sival_int != want_val[i])) {
			wl_fail("sigtrap.ownqueue", "signal %d of the thread's queue: %d, si_code %d, value %d",
				i, sig, sig > 0 ? si.si_code : 0,
				sig > 0 ? si.si_value.sival_int : 0);
			return;
		}
	}
	if (sigtimedwait(&b, &si, &now) > 0)
		wl_fail("sigtrap.ownqueue", "a fifth signal in the thread's queue");
	else
		wl_pass("sigtrap.ownqueue");
}

static void *pending_thread(void *arg)
{
	if (arg) {
		own_queue();
		thread_done = 1;
		return NULL;
	}
	if (raise(SIGTRAP))
		wl_die("raise in the thread");
	thread_ready = 1;
	while (!go)
		usleep(1000);
	after_go(0, 2);
	thread_done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int thr = !strcmp(mode, "thread"), own = !strcmp(mode, "ownqueue");
	int ign = !strcmp(mode, "ign"), pend = !strcmp(mode, "pending");
	struct sigaction sa = { 0 };
	sigset_t b, wait;
	pthread_t t;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!ign && !pend && !thr && !own && strcmp(mode, "blocked")) {
		fprintf(stderr, "usage: %s ign|blocked|pending|thread|ownqueue\n", argv[0]);
		return 2;
	}
	sigemptyset(&b);
	sigaddset(&b, SIGUSR1);
	sigaddset(&b, SIGUSR2);
	if (!ign)
		sigaddset(&b, SIGTRAP);
	if (sigprocmask(SIG_BLOCK, &b, NULL))
		wl_die("sigprocmask");
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction SIGUSR1");
	if (ign) {
		sa.sa_handler = SIG_IGN;
		sa.sa_flags = SA_RESTART;
	} else {
		sa.sa_sigaction = on_trap;
		sa.sa_flags = SA_SIGINFO;
	}
	if (sigaction(SIGTRAP, &sa, NULL))
		wl_die("sigaction SIGTRAP");
	if (pend && (raise(SIGTRAP) || raise(SIGUSR2)))
		wl_die("raise");
	/* the thread inherits the mask: SIGUSR1 comes to the main thread */
	if (own) {	/* the thread inherits the mask: SIGRTMIN blocked too */
		sigemptyset(&b);
		sigaddset(&b, SIGRTMIN);
		sigprocmask(SIG_BLOCK, &b, NULL);
	}
	if ((thr || own) && pthread_create(&t, NULL, pending_thread,
					   own ? &t : NULL))
		wl_die("pthread_create");
	while ((thr || own) && !thread_ready)
		usleep(1000);
	sigfillset(&wait);
	sigdelset(&wait, SIGUSR1);
	wl_ready();
	while (!go)
		sigsuspend(&wait);
	if (!thr && !own) {
		after_go(ign, pend);
		return wl_done();
	}
	/* nothing of the thread's queue shows in the main thread's */
	check_sets(1, 0);
	pthread_join(t, NULL);
	if (!thread_done)
		wl_fail("sigtrap.thread", "the thread did not end its checks");
	return wl_done();
}
