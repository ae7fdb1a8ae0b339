/* SPDX-License-Identifier: MIT */
/*
 * Per-thread prctl state, one value per thread: the main thread has a NUMA
 * policy MPOL_PREFERRED on node 0, a second thread MPOL_BIND|
 * MPOL_F_STATIC_NODES on node 0 and the TSC mode PR_TSC_SIGSEGV (it never
 * reads the clock: the vDSO would fault), a third MPOL_INTERLEAVE and the
 * default TSC mode; the process has memory-deny-write-execute.  After
 * SIGUSR1 each thread checks its own, and the process checks that
 * mprotect(PROT_EXEC) of a writable page is refused.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "wl_common.h"

#define MPOL_PREFERRED_ 1
#define MPOL_BIND_ 2
#define MPOL_INTERLEAVE_ 3
#define MPOL_F_STATIC_NODES_ (1 << 15)
#define PR_SET_MDWE_ 65
#define PR_GET_MDWE_ 66

struct want {
	const char *name;
	int mode, tsc;
	pthread_t t;
	volatile int go, ready;
};

static struct want threads[2] = {
	{ .name = "prctl.thread1", .mode = MPOL_BIND_ | MPOL_F_STATIC_NODES_,
	  .tsc = PR_TSC_SIGSEGV },
	{ .name = "prctl.thread2", .mode = MPOL_INTERLEAVE_,
	  .tsc = PR_TSC_ENABLE },
};

static void set_policy(int mode)
{
	unsigned long mask = 1;

	if (syscall(SYS_set_mempolicy, mode, &mask, 65))
		wl_die("set_mempolicy");
}

static void check_policy(const char *name, int mode, int tsc)
{
	unsigned long mask = 0;
	int got = -1, t = -1;

	syscall(SYS_get_mempolicy, &got, &mask, 64, NULL, 0);
	prctl(PR_GET_TSC, &t, 0, 0, 0);
	if (got != mode || mask != 1)
		wl_fail(name, "NUMA policy %#x mask %#lx, want %#x 0x1", got,
			mask, mode);
	else if (t != tsc)
		wl_fail(name, "TSC mode %d, want %d", t, tsc);
	else
		wl_pass(name);
}

/* no clock reads here: with PR_TSC_SIGSEGV the vDSO's rdtsc faults */
static void *thread(void *arg)
{
	struct want *w = arg;

	set_policy(w->mode);
	if (prctl(PR_SET_TSC, w->tsc, 0, 0, 0))
		wl_die("PR_SET_TSC");
	w->ready = 1;
	while (!w->go)
		syscall(SYS_sched_yield);
	check_policy(w->name, w->mode, w->tsc);
	return NULL;
}

static void check_mdwe(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int v = prctl(PR_GET_MDWE_, 0, 0, 0, 0);

	if (v != 1)
		wl_fail("prctl.mdwe", "PR_GET_MDWE says %d, want 1", v);
	else if (p == MAP_FAILED || !mprotect(p, pg, PROT_READ | PROT_EXEC))
		wl_fail("prctl.mdwe", "a writable page became executable");
	else
		wl_pass("prctl.mdwe");
}

int main(void)
{
	sigset_t set;
	int i, sig, m;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	set_policy(MPOL_PREFERRED_);
	for (i = 0; i < 2; i++)
		if (pthread_create(&threads[i].t, NULL, thread, &threads[i]))
			wl_die("pthread_create");
	for (i = 0; i < 2; i++)
		while (!threads[i].ready)
			usleep(1000);
	if (prctl(PR_SET_MDWE_, 1, 0, 0, 0))
		wl_die("PR_SET_MDWE");
	wl_ready();
	sigwait(&set, &sig);
	m = wl_mark();
	check_policy("prctl.main", MPOL_PREFERRED_, PR_TSC_ENABLE);
	for (i = 0; i < 2; i++) {
		threads[i].go = 1;
		pthread_join(threads[i].t, NULL);
	}
	check_mdwe();
	wl_verdict("prctl", m);
	return wl_done();
}
