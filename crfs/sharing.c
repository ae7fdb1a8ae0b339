// SPDX-License-Identifier: MIT
/*
 * What clone() left shared between processes of the tree that are not
 * threads of one another: a descriptor table (CLONE_FILES), cwd, root and
 * umask (CLONE_FS), signal handlers (CLONE_SIGHAND), memory (CLONE_VM).
 * kcmp() tells.  Restore re-creates a table or fs shared with the parent
 * by cloning the child with the same flag; any other sharing is refused by
 * name, as restoring each process with its own copy would be silently
 * wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <linux/kcmp.h>

#include "snapshot.h"
#include "kh.h"

void sharing_attr(struct crfs_attr *a)
{
	a->shares_files = kh_kcmp_same(a->pid, a->ppid, KCMP_FILES) == 1;
	a->shares_fs = kh_kcmp_same(a->pid, a->ppid, KCMP_FS) == 1;
}

static const struct {
	int type;
	const char *what;	/* what is shared */
	bool with_parent;	/* restore can share it with the parent */
} kinds[] = {
	{ KCMP_VM, "memory (CLONE_VM without CLONE_THREAD)", false },
	{ KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)", false },
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

/*
 * Process i against its parent and every other live process of the tree.
 * Processes sharing one table form chains of children cloned by their
 * parents; the head of each chain is the one not sharing with its parent.
 * Two heads sharing means two chains that restore cannot join.
 */
static void check_one(struct snapshot *s, const pid_t *procs,
		      const struct kh_stat *st, const bool (*up)[NKINDS],
		      int n, int i)
{
	pid_t pid = procs[i], ppid = st[i].ppid;
	size_t k;
	int q;

	for (k = 0; k < NKINDS; k++) {
		if (up[i][k] && index_of(procs, n, ppid) < 0) {
			snapshot_report(s, "process %d: shares its %s with its parent %d outside the tree (not supported)",
					pid, kinds[k].what, ppid);
			continue;
		}
		if (up[i][k] && !kinds[k].with_parent) {
			snapshot_report(s, "process %d: shares its %s with its parent %d (not supported yet)",
					pid, kinds[k].what, ppid);
			continue;
		}
		for (q = i + 1; q < n && !up[i][k]; q++) {
			if (st[q].state == 'Z' || up[q][k] ||
			    kh_kcmp_same(pid, procs[q], kinds[k].type) != 1)
				continue;
			snapshot_report(s, "process %d: shares its %s with process %d, which is not its parent (not supported yet)",
					pid, kinds[k].what, procs[q]);
			break;
		}
	}
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
		for (k = 0; k < NKINDS && st[i].state != 'Z'; k++)
			up[i][k] = kh_kcmp_same(procs[i], st[i].ppid,
						kinds[k].type) == 1;
	}
	for (i = 0; i < n; i++) {
		if (st[i].state == 'Z')
			continue;
		check_one(s, procs, st, (const bool (*)[NKINDS])up, n, i);
		check_children(s, procs, st, n, i);
	}
out:
	free(up);
	free(st);
}
