// SPDX-License-Identifier: MIT
/*
 * Interval timers and POSIX timers, armed again by the process itself
 * with the time they had left.  Its signals are blocked until the very
 * end of the restore, so an expiry on the way stays pending.  Those that
 * count CPU time are armed by the restorer as its last step: the
 * restore's own CPU time is the process's too.
 */
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "restore.h"
#include "restorer.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#define PR_TIMER_CREATE_RESTORE_IDS_OFF	0
#endif

static void to_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = ns / 1000000000ULL;
	tv->tv_usec = (ns % 1000000000ULL) / 1000;
}

static int create(const struct crfs_timer *t, bool by_id)
{
	struct sigevent sev;
	int id = t->id, tries;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = t->notify;
	sev.sigev_signo = t->signo;
	sev.sigev_value.sival_ptr = (void *)t->sigval;
	if (t->notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = syscall(SYS_gettid);
	/* the kernel takes the id we ask for, or hands out the next one */
	if (by_id)
		return syscall(SYS_timer_create, t->clock, &sev, &id) ? -errno :
		       id == t->id ? 0 : -EEXIST;
	for (tries = 0; tries < 65536; tries++) {
		if (syscall(SYS_timer_create, t->clock, &sev, &id))
			return -errno;
		if (id == t->id)
			return 0;
		syscall(SYS_timer_delete, id);
		if (id > t->id)
			break;
	}
	return -EEXIST;
}

/* made here; armed here too unless it counts CPU time (the restorer's) */
static void restore_posix(const struct crfs_timer *t, bool by_id, int err_fd)
{
	struct itimerspec its;
	int ret = create(t, by_id);

	if (ret)
		child_fail(err_fd, "POSIX timer %d: cannot create it: %s", t->id,
			   strerror(-ret));
	ns_to_ts(t->value_ns, &its.it_value);
	ns_to_ts(t->interval_ns, &its.it_interval);
	if (t->value_ns && t->clock >= 0 &&
	    syscall(SYS_timer_settime, t->id, 0, &its, NULL))
		child_fail(err_fd, "POSIX timer %d: timer_settime: %m", t->id);
}

/* p's thread of tid (the image's), or 0 */
static const struct crfs_thread *thread_of(const struct proc_image *p,
					     pid_t tid)
{
	size_t k;

	for (k = 1; k < p->nthreads; k++)
		if (p->threads[k].tid == tid)
			return &p->threads[k];
	return NULL;
}

/*
 * The clock a timer is made on: a thread's own CPU clock counts the thread
 * that makes it, so one of another thread's is asked for by that thread's
 * id, as the kernel's MAKE_THREAD_CPUCLOCK(tid, which) does.
 */
int timer_clock(const struct proc_image *p, const struct crfs_timer *t)
{
	const struct crfs_thread *th;

	if (!t->posix || !crfs_own_thread_clock(t->clock) || !t->cpu_tid ||
	    !(th = thread_of(p, t->cpu_tid)))
		return t->clock;
	/* SCHED, PROF or VIRT as it was; 3 is SCHED's */
	return (int)(((unsigned int)~th->vtid << 3) | 4 |
		     (t->clock < 0 ? t->clock & 3 : 2));
}

/* for the restorer: the slot of t */
static void hand_on(struct helper_fds *h, const struct crfs_timer *t,
		    pid_t tid)
{
	h->timers[h->ntimers] = t;
	h->timer_tids[h->ntimers++] = tid;
}

/*
 * A timer that signals another thread, or counts its CPU time, waits for
 * the restorer, which makes it once the threads are there.
 */
static void defer(struct proc_image *p, const struct crfs_timer *t,
		  struct helper_fds *h, bool by_id)
{
	const struct crfs_thread *th = NULL;

	if (!by_id)
		child_fail(h->err_fd, "POSIX timer %d signals or counts thread %d: this kernel cannot give a timer its id (PR_TIMER_CREATE_RESTORE_IDS)",
			   t->id, t->tid ?: t->cpu_tid);
	if (t->tid && !(th = thread_of(p, t->tid)))
		child_fail(h->err_fd, "POSIX timer %d signals thread %d, which the image does not have",
			   t->id, t->tid);
	if (t->cpu_tid && !thread_of(p, t->cpu_tid))
		child_fail(h->err_fd, "POSIX timer %d counts the CPU time of thread %d, which the image does not have",
			   t->id, t->cpu_tid);
	hand_on(h, t, th ? th->vtid : 0);
}

/* the restorer can make timers with their ids: set by restore_timers */
static bool fire_ok;

static bool is_timer_info(const struct crfs_pending *s, const struct crfs_timer *t)
{
	int32_t code, id;

	memcpy(&code, s->info + 8, sizeof(code));	/* si_code */
	memcpy(&id, s->info + 16, sizeof(id));		/* si_timerid */
	return s->signo == t->signo && code == SI_TIMER && id == t->id;
}

static bool in_queue(const struct crfs_pending *s, size_t n,
		     const struct crfs_timer *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_timer_info(&s[i], t))
			return true;
	return false;
}

/*
 * t's own signal waits in one of p's queues: the restorer makes t expire
 * again (fire_timers) instead of queueing a copy, which the kernel would
 * not know as t's and queue another beside.  Timers of the CPU clocks
 * expire at a tick, not at once: their signal is copied as before.
 */
bool timer_signal_pending(const struct proc_image *p,
			  const struct crfs_timer *t)
{
	size_t i;

	if (!fire_ok || !t->posix || t->clock < 0 || t->cpu_tid ||
	    (t->notify & ~SIGEV_THREAD_ID) != SIGEV_SIGNAL)
		return false;
	if (in_queue(p->shared_sigs, p->nshared_sigs, t))
		return true;
	for (i = 0; i < p->nthreads; i++)
		if (in_queue(p->threads[i].pending, p->threads[i].npending, t))
			return true;
	return false;
}

/* s is the signal of a timer that queues it again itself */
bool timer_fires_for(const struct proc_image *p, const struct crfs_pending *s)
{
	size_t i;

	for (i = 0; i < p->ntimers; i++)
		if (is_timer_info(s, &p->timers[i]) &&
		    timer_signal_pending(p, &p->timers[i]))
			return true;
	return false;
}

/* RST_TIMER_*: what the restorer does with t (restore_timers hands it on) */
int timer_kind(const struct proc_image *p, const struct crfs_timer *t)
{
	if (!t->posix)
		return t->id == ITIMER_REAL ? -1 : RST_TIMER_ITIMER;
	if (t->tid || t->cpu_tid || timer_signal_pending(p, t))
		return RST_TIMER_MAKE;
	return t->clock < 0 ? RST_TIMER_ARM : -1;
}

void restore_timers(struct proc_image *p, struct helper_fds *h)
{
	int err_fd = h->err_fd;
	struct itimerval itv;
	bool by_id, makes = false;
	size_t i;

	h->timers = calloc(p->ntimers + 1, sizeof(*h->timers));
	h->timer_tids = calloc(p->ntimers + 1, sizeof(pid_t));
	if (!h->timers || !h->timer_tids)
		child_fail(err_fd, "out of memory");
	by_id = !prctl(PR_TIMER_CREATE_RESTORE_IDS,
		       PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0);
	fire_ok = by_id;
	for (i = 0; i < p->ntimers; i++) {
		const struct crfs_timer *t = &p->timers[i];

		/* the restorer makes it, after it drained its queue */
		if (!t->tid && timer_signal_pending(p, t)) {
			hand_on(h, t, p->threads[0].vtid);
			makes = true;
			continue;
		}

		if (t->posix && (t->tid || t->cpu_tid)) {
			defer(p, t, h, by_id);
			makes = true;
			continue;
		}
		if (t->posix) {
			restore_posix(t, by_id, err_fd);
			if (timer_kind(p, t) == RST_TIMER_ARM)
				hand_on(h, t, 0);
			continue;
		}
		if (timer_kind(p, t) == RST_TIMER_ITIMER) {
			hand_on(h, t, 0);
			continue;
		}
		to_tv(t->value_ns, &itv.it_value);
		to_tv(t->interval_ns, &itv.it_interval);
		if (!itv.it_value.tv_sec && !itv.it_value.tv_usec)
			itv.it_value.tv_usec = 1;	/* due already */
		if (setitimer(t->id, &itv, NULL))
			child_fail(err_fd, "interval timer %d: setitimer: %m",
				   t->id);
	}
	/* with timers left for the restorer to make, it turns this off */
	if (by_id && !makes)
		prctl(PR_TIMER_CREATE_RESTORE_IDS,
		      PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
}
