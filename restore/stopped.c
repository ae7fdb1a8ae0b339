// SPDX-License-Identifier: MIT
/*
 * A process that was stopped by job control comes back stopped by the
 * same signal: queued while all its threads still sit in our ptrace
 * stops, it is the first thing they take once let go, before any user
 * code runs.  If its parent had collected that stop (waitpid WUNTRACED),
 * we collect the new one in the parent, before the parent is let go, so
 * its next waitpid finds nothing new, as it would have.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"

int stop_queue(pid_t pid, const struct proc_image *p)
{
	if (!p->attr.stop_signal)
		return 0;
	return kill(pid, p->attr.stop_signal) ? -errno : 0;
}

static bool all_stopped(pid_t pid)
{
	struct kh_stat st;
	pid_t *tids;
	int i, n;
	bool ok;

	if (kh_proc_tids(pid, &tids, &n))
		return false;
	for (i = 0, ok = n > 0; ok && i < n; i++)
		ok = !kh_proc_stat(tids[i], &st) && st.state == 'T';
	free(tids);
	return ok;
}

static bool wait_stopped(pid_t pid)
{
	int i;

	for (i = 0; i < 400; i++) {
		if (all_stopped(pid))
			return true;
		usleep(5000);
	}
	return false;
}

/* the parent's waitpid(WUNTRACED) once more, run in the parent */
static int collect(pid_t parent, pid_t vpid)
{
	struct kh_remote r;
	long got;
	int ret;

	ret = kh_remote_open(&r, parent, 0);
	if (ret)
		return ret;
	got = kh_remote_syscall(&r, __NR_wait4, vpid, 0, WUNTRACED | WNOHANG,
				0, 0, 0);
	/* the SIGCHLD of the stop it had been told of already goes too */
	if (r.pending_sig && r.pending_sig != SIGCHLD)
		syscall(SYS_tgkill, parent, parent, r.pending_sig);
	ret = kh_remote_close(&r);
	if (ret)
		return ret;
	return got == vpid ? 0 : got < 0 ? (int)got : -ECHILD;
}

/* p's pid as its parent sees it: at the parent's pid namespace level */
static pid_t seen_by(pid_t parent, const struct proc_image *p)
{
	pid_t pids[KH_NSPID_MAX];
	int n;

	if (kh_ns_pids(parent, pids, KH_NSPID_MAX, &n) || n > p->attr.nspid_n)
		return p->attr.vpid;
	return p->attr.nspid[n - 1];
}

/*
 * Once the process's threads are let go: it has stopped, and the stop is
 * collected if it had been.  parent: its parent's main thread, still ours
 * (0 for the root).
 */
int stop_settle(pid_t pid, const struct proc_image *p, pid_t parent,
		char *err, size_t errlen)
{
	int ret;

	if (!p->attr.stop_signal)
		return 0;
	if (!wait_stopped(pid)) {
		/* discarded: its group is orphaned here (not so before) */
		fprintf(stderr, "crfs-restore: process %d did not stop with signal %d (its process group is orphaned here); stopping it with SIGSTOP\n",
			p->pid, p->attr.stop_signal);
		if (kill(pid, SIGSTOP) || !wait_stopped(pid)) {
			snprintf(err, errlen, "process %d: cannot stop it again",
				 p->pid);
			return -EINVAL;
		}
	}
	if (!p->attr.stop_waited || !parent)
		return 0;
	ret = collect(parent, seen_by(parent, p));
	if (ret)
		snprintf(err, errlen, "process %d: its parent cannot collect its stop again: %s",
			 p->pid, strerror(-ret));
	return ret ? -EINVAL : 0;
}
