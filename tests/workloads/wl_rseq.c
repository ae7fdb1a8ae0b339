/* SPDX-License-Identifier: MIT */
/*
 * Restartable sequences (zdtm transition/rseq01): the main thread and a
 * worker each run, over and over, an rseq critical section of a few
 * milliseconds through the rseq area glibc registered for it.  The last
 * thing a section does, its commit, stores what rseq_cs held at its end.
 * The kernel aborts a section whose thread was preempted or stopped (to
 * the abort handler, rseq_cs cleared); one that ends normally must still
 * see its own descriptor there.  A section that ended normally with
 * rseq_cs cleared ran unguarded: the freeze's own syscalls in a thread
 * stopped inside a section did that before crfs aborted the section
 * itself.  On SIGUSR1 each thread must have had no unguarded section, be
 * registered still (a second registration says EBUSY), have a CPU number
 * in its area, and have gone on running sections and aborting since the
 * thaw or restore.  Usage: wl_rseq [DIR].
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include "wl_common.h"

#define SPINS 400000UL	/* a section of ~0.2 ms: a freeze finds it there */

struct thr {
	struct rseq *rs;
	atomic_ulong done, aborts, unguarded;
	unsigned long done0, aborts0;
};

static struct thr thr[2];
static atomic_int stop;

/*
 * One section: 1 if it ended normally (*seen: rseq_cs at its end), 0 if it
 * was aborted.  The descriptor and labels are this function's alone, so it
 * must not be inlined.
 */
static __attribute__((noinline)) int section(struct rseq *rs, uint64_t *seen)
{
	__asm__ __volatile__ goto(
		".pushsection wl_rseq_cs, \"aw\"\n\t"
		".balign 32\n\t"
		"wl_rseq_desc:\n\t"
		".long 0, 0\n\t"		/* version, flags */
		".quad 1f, (2f - 1f), 4f\n\t"	/* start, length, abort */
		".popsection\n\t"
		"leaq wl_rseq_desc(%%rip), %%rax\n\t"
		"movq %%rax, %[cs]\n\t"
		"1:\n\t"
		"movq %[n], %%rcx\n\t"
		"5:\n\t"
		"decq %%rcx\n\t"
		"jnz 5b\n\t"
		"movq %[cs], %%rax\n\t"
		"movq %%rax, (%[seen])\n\t"	/* the commit */
		"2:\n\t"
		".pushsection wl_rseq_abort, \"ax\"\n\t"
		".byte 0x0f, 0xb9, 0x3d\n\t"	/* ud1 whose operand is the */
		".long 0x53053053\n\t"		/* signature, RSEQ_SIG */
		"4:\n\t"
		"jmp %l[aborted]\n\t"
		".popsection\n\t"
		:
		: [cs] "m" (rs->rseq_cs), [n] "i" (SPINS),
		  [seen] "r" (seen)
		: "memory", "cc", "rax", "rcx"
		: aborted);
	return 1;
aborted:
	return 0;
}

static struct rseq *my_area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

/* one section of thread t, counted */
static void one(struct thr *t)
{
	extern const char wl_rseq_desc[];
	uint64_t seen = 1;

	if (!section(t->rs, &seen))
		atomic_fetch_add(&t->aborts, 1);
	else if (seen != (uint64_t)(uintptr_t)wl_rseq_desc)
		atomic_fetch_add(&t->unguarded, 1);
	else
		atomic_fetch_add(&t->done, 1);
}

static void *run(void *arg)
{
	struct thr *t = arg;

	t->rs = my_area();
	while (!atomic_load(&stop))
		one(t);
	return NULL;
}

static volatile sig_atomic_t usr1;

static void on_usr1(int s)
{
	(void)s;
	usr1 = 1;
}

static void check(int i)
{
	struct thr *t = &thr[i];
	unsigned long ran = t->done + t->aborts - t->done0 - t->aborts0;
	char name[32];
	int m = wl_mark();

	snprintf(name, sizeof(name), "rseq.thread%d", i);
	if (t->unguarded)
		wl_fail(name, "%lu sections ended normally with rseq_cs cleared (done %lu, aborted %lu)",
			(unsigned long)t->unguarded, (unsigned long)t->done,
			(unsigned long)t->aborts);
	if (!ran)
		wl_fail(name, "ran no section since SIGUSR1");
	if ((int32_t)t->rs->cpu_id < 0)
		wl_fail(name, "cpu_id is %d", (int32_t)t->rs->cpu_id);
	wl_verdict(name, m);
}

static void check_registered(void)
{
	long r = syscall(SYS_rseq, thr[0].rs,
			 __rseq_size < 32 ? 32 : __rseq_size, 0, RSEQ_SIG);

	if (r == 0 || errno != EBUSY)
		wl_fail("rseq.registered", "a second registration said %ld (errno %d)",
			r, errno);
	else
		wl_pass("rseq.registered");
}

int main(void)
{
	struct timespec ms = { 0, 1000 * 1000 };
	pthread_t w;
	int i;

	wl_own_session();
	signal(SIGUSR1, on_usr1);
	if (!__rseq_size)
		wl_die("glibc registered no rseq area (glibc.pthread.rseq=0?)");
	thr[0].rs = my_area();
	if (pthread_create(&w, NULL, run, &thr[1]))
		wl_die("pthread_create");
	while (!thr[1].done)	/* a section can end at all */
		nanosleep(&ms, NULL);
	wl_ready();
	while (!usr1)
		one(&thr[0]);
	/* both go on for a while after the thaw or restore */
	for (i = 0; i < 2; i++) {
		thr[i].done0 = thr[i].done;
		thr[i].aborts0 = thr[i].aborts;
	}
	for (i = 0; i < 300; i++) {
		one(&thr[0]);
		nanosleep(&ms, NULL);
	}
	atomic_store(&stop, 1);
	pthread_join(w, NULL);
	check(0);
	check(1);
	check_registered();
	return wl_done();
}
