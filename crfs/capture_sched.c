// SPDX-License-Identifier: MIT
/*
 * A thread's scheduling attributes into task/TID/sched.  All of them are
 * per thread in the kernel and readable from outside, so nothing is asked
 * of the task itself.  What restore could not set back is refused.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include "kh.h"
#include "snapshot.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

int capture_sched(struct snapshot *s, pid_t pid, pid_t tid, const char *dir)
{
	struct crfs_sched sc;
	bool clamped;
	char path[96];
	int ret;

	ret = kh_sched_get(tid, &sc, &clamped);
	if (ret == -ESRCH)
		return ret;
	if (ret) {
		snapshot_report(s, "thread %d of process %d: cannot read its scheduling attributes: %d",
				tid, pid, ret);
		return 0;
	}
	if (sc.policy == SCHED_DEADLINE)
		snapshot_report(s, "thread %d of process %d: SCHED_DEADLINE is not supported yet",
				tid, pid);
	else if (sc.policy > SCHED_IDLE || sc.policy == 4)
		snapshot_report(s, "thread %d of process %d: scheduling policy %d is not supported",
				tid, pid, sc.policy);
	if (clamped)
		snapshot_report(s, "thread %d of process %d: utilization clamps (SCHED_FLAG_UTIL_CLAMP) are not supported yet",
				tid, pid);
	if (sc.policy > SCHED_IDLE || sc.policy == 4 || sc.ioprio_class > 3)
		return 0;	/* reported: the file could not say it */
	snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK, tid,
		 CRFS_F_SCHED);
	return RENDER(s, path, render_sched, &sc);
}
