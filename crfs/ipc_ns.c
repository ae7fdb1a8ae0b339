// SPDX-License-Identifier: MIT
/*
 * A tree in an IPC namespace of its own (unshare --ipc): every process of
 * the tree must be in its root's, and then every object of that namespace
 * is the container's.  The freezing thread joins the namespace (setns
 * changes only the calling thread) to list the objects and read the
 * namespace's limits (its /proc/sys/kernel/{shm,msg,sem}* are the
 * caller's), and goes back to ours after.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/ipc.h"
#include "kh.h"
#include "snapshot.h"

bool in_root_ipc_ns(pid_t root, const char *theirs)
{
	char *rootns;
	bool same;

	if (kh_proc_link(root, "ns/ipc", &rootns))
		return false;
	same = !strcmp(rootns, theirs);
	free(rootns);
	return same;
}

static int save_limits(struct snapshot *s)
{
	const struct crfs_ipc_limit *l;
	struct crfs_ipc_ns ns;
	int i, ret = 0;

	for (i = 0; !ret && i < CRFS_IPC_NLIMITS; i++) {
		l = &crfs_ipc_limits[i];
		ret = kh_ipc_sysctl_get(l->sysctl, l->field, &ns.limit[i]);
	}
	/* before any SysV object's (ipc_sysv.c adds it only once): with
	 * none, as when the namespace only has POSIX message queues, the
	 * image would list ipc/ns and show no ipc/ */
	ret = ret ?: snapshot_add(s, CRFS_D_IPC, E_DIR, NULL, 0, -1);
	return ret ?: RENDER(s, CRFS_F_IPC_NS, render_ipc_ns, &ns);
}

/* every process in the root's namespace, or the tree would be split */
static bool all_in_root_ns(struct snapshot *s, const pid_t *procs, int n,
			   const char *rootns)
{
	char *ns;
	bool ok = true;
	int i;

	for (i = 0; i < n; i++) {
		if (kh_proc_link(procs[i], "ns/ipc", &ns))
			continue;	/* a zombie has none */
		if (strcmp(ns, rootns)) {
			snapshot_report(s, "process %d: in IPC namespace %s, not its root's %s (not supported)",
					procs[i], ns, rootns);
			ok = false;
		}
		free(ns);
	}
	return ok;
}

/*
 * Joins the root's IPC namespace if it is not ours: *back is then our own
 * to return to (ipc_ns_leave), else -1.
 */
int ipc_ns_enter(struct snapshot *s, pid_t root, const pid_t *procs, int n,
		 int *back)
{
	char path[64], *mine = NULL, *theirs = NULL;
	int fd = -1, ret;

	*back = -1;
	ret = kh_proc_link(getpid(), "ns/ipc", &mine);
	ret = ret ?: kh_proc_link(root, "ns/ipc", &theirs);
	if (ret || !strcmp(mine, theirs) ||
	    !all_in_root_ns(s, procs, n, theirs))
		goto out;
	*back = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", kh_via(root));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*back < 0 || fd < 0 || setns(fd, CLONE_NEWIPC)) {
		ret = -errno;
		goto out;
	}
	ret = save_limits(s);
out:
	if (fd >= 0)
		close(fd);
	if (ret && *back >= 0)
		ipc_ns_leave(*back);
	if (ret)
		*back = -1;
	free(mine);
	free(theirs);
	return ret;
}

void ipc_ns_leave(int back)
{
	if (back < 0)
		return;
	/* staying in the tree's namespace would confuse every later freeze */
	if (setns(back, CLONE_NEWIPC))
		abort();
	close(back);
}
