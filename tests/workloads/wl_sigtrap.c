// SPDX-License-Identifier: MIT
/*
 * wl_sigtrap - SIGTRAP's action, mask bit and pending state, which a
 * freeze's single-stepped syscalls could change (the kernel resets the
 * action of a forced SIGTRAP that is blocked or ignored to SIG_DFL).
 *
 * usage: wl_sigtrap ign|blocked|pending|thread|usr2thread
 *
 *	ign	SIGTRAP ignored (SIG_IGN, SA_RESTART)
 *	blocked	a handler (SA_SIGINFO), SIGTRAP blocked
 *	pending	a handler, SIGTRAP blocked and pending (raised, si_code
 *		SI_TKILL), SIGUSR2 pending too
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

static void *pending_thread(void *arg)
{
	if (arg) {	/* usr2thread */
		if (raise(SIGUSR2))
			wl_die("raise SIGUSR2 in the thread");
		thread_ready = 1;
		while (!go)
			usleep(1000);
		return NULL;
	}
	/* SIGTRAP only: restore cannot queue a thread other than the main
	 * one a signal raise(3) sent (SI_TKILL), but for SIGTRAP */
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
	int thr = !strcmp(mode, "thread"), usr2 = !strcmp(mode, "usr2thread");
	int ign = !strcmp(mode, "ign"), pend = !strcmp(mode, "pending");
	struct sigaction sa = { 0 };
	sigset_t b, wait;
	pthread_t t;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!ign && !pend && !thr && !usr2 && strcmp(mode, "blocked")) {
		fprintf(stderr, "usage: %s ign|blocked|pending|thread|usr2thread\n", argv[0]);
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
	if ((thr || usr2) && pthread_create(&t, NULL, pending_thread,
					    usr2 ? &t : NULL))
		wl_die("pthread_create");
	while ((thr || usr2) && !thread_ready)
		usleep(1000);
	sigfillset(&wait);
	sigdelset(&wait, SIGUSR1);
	wl_ready();
	while (!go)
		sigsuspend(&wait);
	if (usr2) {	/* the thread ended; what it left pending goes too */
		pthread_join(t, NULL);
		wl_pass("sigtrap.usr2thread");
		return wl_done();
	}
	if (!thr) {
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
