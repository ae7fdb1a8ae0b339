// SPDX-License-Identifier: MIT
/*
 * A copy-on-write twin of a stopped process, for post-dump: the process
 * forks (a clone run inside it) a child that never runs.  The child's
 * memory is the parent's at that instant and stays so while the parent
 * runs on; only the pages the parent writes meanwhile cost memory.  The
 * clone shares the descriptor table (CLONE_FILES), so the twin holds no
 * file open of its own (a pipe still sees EOF, a lock still goes), and has
 * no exit signal, so the parent gets no SIGCHLD and a plain wait() does
 * not see it.  PTRACE_O_TRACECLONE makes it ours from its first instant:
 * it starts in a ptrace stop and is never resumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"

#define BASE_OPTS (PTRACE_O_TRACESYSGOOD)
#define CLONE_OPTS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | \
		    PTRACE_O_TRACEVFORK)

/* as seize() in ptrace.c: seccomp suspended where we may */
static int set_options(pid_t tid, long extra)
{
	if (!ptrace(PTRACE_SETOPTIONS, tid, 0,
		    BASE_OPTS | PTRACE_O_SUSPEND_SECCOMP | extra))
		return 0;
	if (!ptrace(PTRACE_SETOPTIONS, tid, 0, BASE_OPTS | extra))
		return 0;
	return -errno;
}

static bool listed(const pid_t *l, int n, pid_t p)
{
	while (n--)
		if (l[n] == p)
			return true;
	return false;
}

/* the child that is not in before: the tree is stopped, nobody else forks */
static pid_t new_child(pid_t pid, const pid_t *before, int nb)
{
	pid_t *after, found = 0;
	int na, i;

	if (kh_proc_children(pid, &after, &na))
		return 0;
	for (i = 0; i < na && !found; i++)
		if (!listed(before, nb, after[i]))
			found = after[i];
	free(after);
	return found;
}

int kh_snap_fork(pid_t pid, pid_t *twin, pid_t *vtwin)
{
	struct kh_remote r;
	pid_t *before = NULL;
	int nb = 0, st, ret;
	long got;

	pid = kh_via(pid);	/* its leader may have exited */
	ret = kh_proc_children(pid, &before, &nb);
	ret = ret ?: set_options(pid, CLONE_OPTS);
	ret = ret ?: kh_remote_open(&r, pid, 0);
	if (ret)
		goto out;
	got = kh_remote_syscall(&r, SYS_clone, CLONE_FILES, 0, 0, 0, 0, 0);
	ret = kh_remote_close(&r);
	set_options(pid, 0);
	if (got < 0) {
		ret = got;
		goto out;
	}
	*vtwin = got;
	*twin = new_child(pid, before, nb);
	if (!*twin) {
		ret = -ESRCH;
		goto out;
	}
	/* its first stop (PTRACE_EVENT_STOP): from here it only waits; if
	 * the daemon dies it must die too, not run the parent's code */
	ret = kh_wait_stop(*twin, &st);
	if (!ret && ptrace(PTRACE_SETOPTIONS, *twin, 0, PTRACE_O_EXITKILL) < 0)
		ret = -errno;
out:
	free(before);
	return ret;
}

static pid_t parent_of(pid_t pid)
{
	struct kh_stat st;

	return kh_proc_stat(pid, &st) ? 0 : st.ppid;
}

/*
 * Its parent collects the twin's exit (our waitpid as tracer leaves a
 * zombie for the real parent): a wait4() run inside the parent for a
 * moment.  A parent that died meanwhile gave it to its reaper.
 */
static int reap_in(pid_t parent, pid_t vtwin)
{
	struct kh_remote r;
	long got;
	int ret;

	ret = kh_seize(parent);
	if (ret)
		return ret;
	ret = kh_remote_open(&r, parent, 0);
	if (!ret) {
		got = kh_remote_syscall(&r, SYS_wait4, vtwin, 0,
					__WALL | WNOHANG, 0, 0, 0);
		ret = kh_remote_close(&r);
		ret = ret ?: (got < 0 ? got : 0);
	}
	kh_detach(parent, ret ? 0 : r.pending_sig);
	return ret;
}

int kh_snap_drop(pid_t twin, pid_t parent, pid_t vtwin)
{
	bool ours;
	int st;

	ours = parent_of(twin) == parent;
	kill(twin, SIGKILL);
	while (waitpid(twin, &st, __WALL) >= 0 &&
	       !(WIFEXITED(st) || WIFSIGNALED(st)))
		;
	if (!ours || kh_task_gone(kh_via(parent)) || parent_of(twin) != parent)
		return 0;
	return reap_in(parent, vtwin);
}

/* the twin's pages no longer shared with its parent: what it costs */
long kh_private_kb(pid_t pid)
{
	char path[64], *buf, *p;
	long kb = 0, v;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", kh_via(pid));
	if (kh_read_file(path, &buf, NULL))
		return -1;
	for (p = buf; (p = strstr(p, "Private_")); p++)
		if (sscanf(p, "Private_%*[A-Za-z]: %ld", &v) == 1)
			kb += v;
	free(buf);
	return kb;
}
