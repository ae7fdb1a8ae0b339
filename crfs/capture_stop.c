// SPDX-License-Identifier: MIT
/*
 * Job-control stops: a process stopped by SIGSTOP, SIGTSTP, SIGTTIN or
 * SIGTTOU is captured as stopped, with its stop signal and whether its
 * parent has collected the stop with waitpid(WUNTRACED) (the kernel's
 * group_exit_code; only the parent can ask, so we ask in the parent).  A
 * stop signal that arrives while we ask a task for its state stops it at
 * thaw (it is re-sent) and in the image.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kh.h"
#include "snapshot.h"

static struct proc_snap *proc_of(struct snapshot *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* child's pid in its parent's pid namespace, which its waitid takes */
static int pid_seen_by(pid_t parent, pid_t child, pid_t *out)
{
	pid_t pids[KH_NSPID_MAX];
	int n, ret = kh_ns_pids(parent, pids, KH_NSPID_MAX, &n);

	return ret ?: kh_ns_pid_at(child, n - 1, out);
}

/* Ask the parent (a process of the tree, captured before us). */
static int ask_parent(struct snapshot *s, pid_t parent, pid_t child)
{
	struct proc_snap *ps = proc_of(s, parent);
	struct kh_remote r;
	long scratch;
	int ret;

	if (!ps)
		return 0;	/* the root's parent: not ours to restore */
	/* in a tree of its own pid namespace, not ours (zdtm stopped*
	 * there: the freeze failed with ECHILD) */
	ret = pid_seen_by(parent, child, &child);
	ret = ret ?: kh_remote_open(&r, parent, 0);
	if (ret)
		return ret;
	scratch = kh_remote_syscall(&r, __NR_mmap, 0, 4096,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch < 0 && scratch > -4096) {
		ret = (int)scratch;
		goto out;
	}
	ret = kh_stop_collected(&r, child, scratch);
	kh_remote_syscall(&r, __NR_munmap, scratch, 4096, 0, 0, 0, 0);
out:
	if (r.pending_sig)
		capture_signal_arrived(s, ps, parent, r.pending_sig);
	return kh_remote_close(&r) ?: ret;
}

void capture_signal_arrived(struct snapshot *s, struct proc_snap *p,
			    pid_t pid, int sig)
{
	if (!p->pending_sig)
		p->pending_sig = sig;
	snapshot_report(s, "process %d: signal %d arrived during the freeze; thaw and try again",
			pid, sig);
}

/* Before anything resumes the task: is its group stopped, and seen so? */
int capture_stop(struct snapshot *s, pid_t pid, struct crfs_attr *a)
{
	int ret = kh_group_stop_sig(kh_via(pid));

	if (ret <= 0)
		return ret;
	a->stop_signal = ret;
	ret = ask_parent(s, a->ppid, pid);
	if (ret < 0)
		return ret;
	a->stop_waited = ret;
	return 0;
}

/*
 * A stop signal dequeued while we ran syscalls in the task (its default
 * action is to stop: SIGSTOP always, the others unless handled or
 * ignored).  The process counts as stopped by it; true if so.
 */
bool stop_arrived(struct snapshot *s, const struct crfs_sigaction *sa,
		  int sig)
{
	struct proc_snap *p = &s->procs[s->nprocs - 1];

	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
	    sig != SIGTTOU)
		return false;
	if (sig != SIGSTOP && sa[sig - 1].handler != (uint64_t)(uintptr_t)SIG_DFL)
		return false;
	if (!p->stop_arrived)
		p->stop_arrived = sig;
	return true;
}

/* After the threads: a process not stopped before may be now */
void stop_finish(struct snapshot *s, struct crfs_attr *a)
{
	struct proc_snap *p = &s->procs[s->nprocs - 1];

	if (!a->stop_signal)
		a->stop_signal = p->stop_arrived;
}
