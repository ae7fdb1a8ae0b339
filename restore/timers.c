// SPDX-License-Identifier: MIT
/*
 * Interval timers and POSIX timers, armed again by the process itself
 * with the time they had left.  Its signals are blocked until the very
 * end of the restore, so an expiry on the way stays pending.
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

static void restore_posix(const struct crfs_timer *t, bool by_id, int err_fd)
{
	struct itimerspec its;
	int ret = create(t, by_id);

	if (ret)
		child_fail(err_fd, "POSIX timer %d: cannot create it: %s", t->id,
			   strerror(-ret));
	ns_to_ts(t->value_ns, &its.it_value);
	ns_to_ts(t->interval_ns, &its.it_interval);
	if (t->value_ns &&
	    syscall(SYS_timer_settime, t->id, 0, &its, NULL))
		child_fail(err_fd, "POSIX timer %d: timer_settime: %m", t->id);
}

/* a timer for another thread waits for the restorer, which makes it */
static void defer(struct proc_image *p, const struct crfs_timer *t,
		  struct helper_fds *h, bool by_id)
{
	size_t k;

	if (!by_id)
		child_fail(h->err_fd, "POSIX timer %d signals thread %d: this kernel cannot give a timer its id (PR_TIMER_CREATE_RESTORE_IDS)",
			   t->id, t->tid);
	for (k = 1; k < p->nthreads && p->threads[k].tid != t->tid; k++)
		;
	if (k == p->nthreads)
		child_fail(h->err_fd, "POSIX timer %d signals thread %d, which the image does not have",
			   t->id, t->tid);
	h->timers[h->ntimers] = t;
	h->timer_tids[h->ntimers++] = p->threads[k].vtid;
}

void restore_timers(struct proc_image *p, struct helper_fds *h)
{
	int err_fd = h->err_fd;
	struct itimerval itv;
	bool by_id;
	size_t i;

	h->timers = calloc(p->ntimers + 1, sizeof(*h->timers));
	h->timer_tids = calloc(p->ntimers + 1, sizeof(pid_t));
	if (!h->timers || !h->timer_tids)
		child_fail(err_fd, "out of memory");
	by_id = !prctl(PR_TIMER_CREATE_RESTORE_IDS,
		       PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0);
	for (i = 0; i < p->ntimers; i++) {
		const struct crfs_timer *t = &p->timers[i];

		if (t->posix && t->tid) {
			defer(p, t, h, by_id);
			continue;
		}
		if (t->posix) {
			restore_posix(t, by_id, err_fd);
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
	/* with timers left for the restorer, it turns this off */
	if (by_id && !h->ntimers)
		prctl(PR_TIMER_CREATE_RESTORE_IDS,
		      PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
}
