// SPDX-License-Identifier: MIT
/*
 * A thread's seccomp state, captured while it is stopped: strict mode, or
 * its filter chain with each filter's flags.  Written only for threads
 * that use seccomp, as PID/task/TID/seccomp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kh.h"
#include "snapshot.h"

/*
 * A filter that hands syscalls to a supervisor holds a listener we cannot
 * give back (it may be outside the tree): the syscall would fail instead.
 */
static bool notifies_user(const struct crfs_seccomp_filter *f)
{
	uint32_t i;

	for (i = 0; i < f->len; i++)
		if (f->insns[i].code == (BPF_RET | BPF_K) &&
		    (f->insns[i].k & SECCOMP_RET_ACTION_FULL) ==
		    SECCOMP_RET_USER_NOTIF)
			return true;
	return false;
}

int capture_seccomp(struct snapshot *s, pid_t pid, pid_t tid,
		    const char *path)
{
	struct crfs_thread th = { .tid = tid };
	int nfilters, ret;
	size_t i;

	ret = kh_seccomp_mode(pid, tid, &th.seccomp_mode, &nfilters);
	if (ret || th.seccomp_mode == SECCOMP_MODE_DISABLED)
		return ret;
	if (th.seccomp_mode == SECCOMP_MODE_FILTER) {
		ret = kh_seccomp_filters(tid, &th.filters, &nfilters);
		if (ret)
			return ret;
		th.nfilters = nfilters;
	}
	for (i = 0; i < th.nfilters; i++)
		if (notifies_user(&th.filters[i]))
			snapshot_report(s, "process %d thread %d: seccomp filter %zu returns SECCOMP_RET_USER_NOTIF: user-space notification is not supported",
					pid, tid, i);
	ret = RENDER(s, path, render_seccomp, &th);
	free_seccomp(&th);
	return ret;
}
