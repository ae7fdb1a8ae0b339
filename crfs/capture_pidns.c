// SPDX-License-Identifier: MIT
/*
 * Nested pid namespaces.  Every process records its NSpid (its pid at our
 * level and at each below) and which pid namespace it is in; restore
 * creates each namespace again from its init, so every pid namespace of
 * the tree but ours must have its init in the tree, and a namespace's
 * parent must be its init's parent's (restore clones it there with
 * CLONE_NEWPID).  A process in a deeper namespace than its parent (it
 * was forked after a setns) is restored by a parent that enters it.
 */
#include <errno.h>
#include <stdlib.h>

#include "kh.h"
#include "snapshot.h"

struct pidns_proc {
	pid_t pid, ppid;
	pid_t nspid[KH_NSPID_MAX];
	int n;
	unsigned int ns, children;
	int children_err;	/* from pid_for_children */
	bool zombie;
};

int pidns_attr(pid_t pid, struct crfs_attr *a)
{
	int ret;

	ret = kh_ns_pids(pid, a->nspid, CRFS_NSPID_MAX, &a->nspid_n);
	ret = ret ?: kh_ns_ino(pid, "pid", &a->pidns);
	if (ret)
		return ret;
	/* a zombie has no pid_for_children; its children are none */
	if (a->zombie || kh_ns_ino(pid, "pid_for_children", &a->pidns_children))
		a->pidns_children = a->pidns;
	return 0;
}

int pidns_thread(pid_t tid, struct crfs_thread *th)
{
	return kh_ns_pids(tid, th->nstid, CRFS_NSPID_MAX, &th->nstid_n);
}

static int load(struct pidns_proc *p, pid_t pid)
{
	struct kh_stat st;
	int ret;

	p->pid = pid;
	ret = kh_proc_stat(pid, &st);
	ret = ret ?: kh_ns_pids(pid, p->nspid, KH_NSPID_MAX, &p->n);
	ret = ret ?: kh_ns_ino(pid, "pid", &p->ns);
	if (ret)
		return ret;
	p->ppid = st.ppid;
	p->zombie = st.state == 'Z';
	p->children_err = kh_ns_ino(pid, "pid_for_children", &p->children);
	return 0;
}

/* the process of the tree that is init (1) of pid namespace ns */
static struct pidns_proc *init_of(struct pidns_proc *t, int n, unsigned int ns)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].ns == ns && t[i].n > 1 && t[i].nspid[t[i].n - 1] == 1)
			return &t[i];
	return NULL;
}

static struct pidns_proc *find(struct pidns_proc *t, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].pid == pid)
			return &t[i];
	return NULL;
}

/* an init below the root: its namespace's parent is its parent's */
static void check_init(struct snapshot *s, struct pidns_proc *t, int n,
		       struct pidns_proc *p)
{
	struct pidns_proc *q = find(t, n, p->ppid);
	unsigned int parent;

	if (!q)
		return;
	if (kh_pidns_parent_ino(p->pid, &parent) || parent != q->ns)
		snapshot_report(s, "process %d: init of pid namespace pid:[%u], whose parent namespace is not its parent process's (it entered another with setns before it forked): not supported",
				p->pid, p->ns);
}

static void check_one(struct snapshot *s, struct pidns_proc *t, int n,
		      struct pidns_proc *p, bool root)
{
	if (p->n > 1 && !init_of(t, n, p->ns))
		snapshot_report(s, "process %d: in pid namespace pid:[%u], %d level(s) below ours, whose init is not in the tree: not supported",
				p->pid, p->ns, p->n - 1);
	else if (root && p->n > 2)
		snapshot_report(s, "process %d: the root is in a pid namespace %d levels below ours: only one level is supported for the root",
				p->pid, p->n - 1);
	else if (!root && p->n > 1 && p->nspid[p->n - 1] == 1)
		check_init(s, t, n, p);
	if (p->zombie)
		return;
	if (p->children_err == -ENOENT)
		snapshot_report(s, "process %d: unshared a pid namespace in which no process was created yet: not supported",
				p->pid);
	else if (!p->children_err && p->children != p->ns &&
		 !init_of(t, n, p->children))
		snapshot_report(s, "process %d: its children's pid namespace pid:[%u] (setns) has no init in the tree: not supported",
				p->pid, p->children);
}

void check_pidns(struct snapshot *s, const pid_t *procs, int n)
{
	struct pidns_proc *t = calloc(n ?: 1, sizeof(*t));
	int i;

	if (!t)
		return;
	for (i = 0; i < n; i++)
		if (load(&t[i], procs[i]))
			snapshot_report(s, "process %d: cannot read its pid namespace",
					procs[i]);
	for (i = 0; i < n; i++)
		if (t[i].n)
			check_one(s, t, n, &t[i], i == 0);
	free(t);
}
