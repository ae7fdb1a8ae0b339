// SPDX-License-Identifier: MIT
/*
 * What clone() left shared between processes of the tree that are not
 * threads of one another: a descriptor table (CLONE_FILES), cwd, root and
 * umask (CLONE_FS), signal handlers (CLONE_SIGHAND), memory (CLONE_VM).
 * kcmp() tells.  Restore re-creates a table, fs, handlers or memory shared
 * with the parent by cloning the child with the same flag (a child sharing
 * memory has more conditions: share_vm.c); any other sharing is refused by
 * name, as restoring each process with its own copy would be silently
 * wrong.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/kcmp.h>

#include "snapshot.h"
#include "kh.h"

void sharing_attr(struct crfs_attr *a)
{
	a->shares_files = kh_kcmp_same(a->pid, a->ppid, KCMP_FILES) == 1;
	a->shares_fs = kh_kcmp_same(a->pid, a->ppid, KCMP_FS) == 1;
	a->shares_vm = kh_kcmp_same(a->pid, a->ppid, KCMP_VM) == 1;
	a->shares_sighand = kh_kcmp_same(a->pid, a->ppid, KCMP_SIGHAND) == 1;
}

static const struct {
	int type;
	const char *what;	/* what is shared */
	bool with_parent;	/* restore can share it with the parent */
} kinds[] = {
	{ KCMP_VM, "memory (CLONE_VM without CLONE_THREAD)", true },
	{ KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)", true },
	{ KCMP_FILES, "descriptor table (CLONE_FILES)", true },
	{ KCMP_FS, "working directory, root and umask (CLONE_FS)", true },
};

static int index_of(const pid_t *procs, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (procs[i] == pid)
			return i;
	return -1;
}

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* a process against its parent */
static void check_parent(struct snapshot *s, const pid_t *procs,
			 const struct kh_stat *st, const bool (*up)[NKINDS],
			 int n, int i)
{
	size_t k;

	for (k = 0; k < NKINDS; k++) {
		if (!up[i][k])
			continue;
		if (index_of(procs, n, st[i].ppid) < 0)
			snapshot_report(s, "process %d: shares its %s with its parent %d outside the tree (not supported)",
					procs[i], kinds[k].what, st[i].ppid);
		else if (!kinds[k].with_parent)
			snapshot_report(s, "process %d: shares its %s with its parent %d (not supported yet)",
					procs[i], kinds[k].what, st[i].ppid);
	}
}

struct order {
	const pid_t *procs;
	int type;
};

static int cmp_shared(const void *x, const void *y, void *arg)
{
	const struct order *o = arg;
	int a = *(const int *)x, b = *(const int *)y;
	int r = kh_kcmp_order(o->procs[a], o->procs[b], o->type);

	return r == -2 ? (a > b) - (a < b) : r;
}

/*
 * Processes sharing one table form chains of children cloned by their
 * parents; the head of each chain is the one not sharing with its parent.
 * Two heads sharing means two chains that restore cannot join.  Sorted in
 * kcmp's order, heads sharing a table are neighbours.
 */
static void check_heads(struct snapshot *s, const pid_t *procs,
			const struct kh_stat *st, const bool (*up)[NKINDS],
			int n, size_t k)
{
	struct order o = { procs, kinds[k].type };
	int *h = malloc(n * sizeof(*h)), nh = 0, i;

	if (!h)
		return;
	for (i = 0; i < n; i++)
		if (st[i].state != 'Z' && !up[i][k])
			h[nh++] = i;
	qsort_r(h, nh, sizeof(*h), cmp_shared, &o);
	for (i = 1; i < nh; i++)
		if (kh_kcmp_same(procs[h[i]], procs[h[i - 1]], o.type) == 1)
			snapshot_report(s, "process %d: shares its %s with process %d, which is not its parent (not supported yet)",
					procs[h[i]], kinds[k].what, procs[h[i - 1]]);
	free(h);
}

/*
 * A child sharing its parent's table is cloned once the parent's
 * descriptors are in place, and the table restore works from is closed by
 * then: its own children can only be zombies or share that table too.
 */
static void check_children(struct snapshot *s, const pid_t *procs,
			   const struct kh_stat *st, int n, int i)
{
	int p = index_of(procs, n, st[i].ppid);

	if (p < 0 || st[i].state == 'Z' || st[p].state == 'Z' ||
	    kh_kcmp_same(procs[i], procs[p], KCMP_FILES) == 1 ||
	    kh_kcmp_same(procs[p], st[p].ppid, KCMP_FILES) != 1)
		return;
	snapshot_report(s, "process %d: its parent %d shares a descriptor table with its own parent, but it does not (not supported yet)",
			procs[i], procs[p]);
}

/*
 * restore forks every child with SIGCHLD: one cloned with another exit
 * signal (or none) would come back an ordinary child, seen by a plain
 * waitpid and signalling SIGCHLD.  A child sharing our memory says so
 * itself (check_vm_sharer).
 */
static void check_exit_signal(struct snapshot *s, const pid_t *procs,
			      const struct kh_stat *st, int n, int i)
{
	if (st[i].exit_signal == SIGCHLD ||
	    index_of(procs, n, st[i].ppid) < 0 ||
	    kh_kcmp_same(procs[i], st[i].ppid, KCMP_VM) == 1)
		return;
	snapshot_report(s, "process %d: its exit signal is %d, not SIGCHLD (a child made by clone with another exit signal; not supported yet)",
			procs[i], st[i].exit_signal);
}

void check_sharing(struct snapshot *s, const pid_t *procs, int n)
{
	struct kh_stat *st = calloc(n, sizeof(*st));
	bool (*up)[NKINDS] = calloc(n, sizeof(*up));
	size_t k;
	int i;

	if (!st || !up)
		goto out;
	for (i = 0; i < n; i++) {
		if (kh_proc_stat(procs[i], &st[i]))
			st[i].state = 'Z';
		else
			check_exit_signal(s, procs, st, n, i);
		for (k = 0; k < NKINDS && st[i].state != 'Z'; k++)
			up[i][k] = kh_kcmp_same(procs[i], st[i].ppid,
						kinds[k].type) == 1;
	}
	for (i = 0; i < n; i++) {
		if (st[i].state == 'Z')
			continue;
		check_parent(s, procs, st, (const bool (*)[NKINDS])up, n, i);
		check_children(s, procs, st, n, i);
	}
	for (k = 0; k < NKINDS; k++)
		check_heads(s, procs, st, (const bool (*)[NKINDS])up, n, k);
	for (i = 0; i < n; i++)
		if (st[i].state != 'Z' && up[i][0] &&
		    index_of(procs, n, st[i].ppid) >= 0)
			check_vm_sharer(s, procs, st, n, i);
out:
	free(up);
	free(st);
}
