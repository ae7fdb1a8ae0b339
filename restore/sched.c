// SPDX-License-Identifier: MIT
/*
 * Scheduling attributes go back from outside, by tid, once every thread
 * sits at its last stop before the detach: an RT policy set any earlier
 * could starve the rest of the restore on a busy host.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kh.h"
#include "restore.h"

int restore_sched(pid_t tid, const struct crfs_thread *th, char *err,
		  size_t errlen)
{
	const char *step;
	int ret;

	if (!th->sched)
		return 0;
	ret = kh_sched_set(tid, th->sched, &step);
	if (!ret)
		return 0;
	if (ret == -ENXIO)
		snprintf(err, errlen, "thread %d: %s: some of its CPUs are not available on this host",
			 th->tid, step);
	else
		snprintf(err, errlen, "thread %d: %s: %s", th->tid, step,
			 strerror(-ret));
	return -EINVAL;
}
