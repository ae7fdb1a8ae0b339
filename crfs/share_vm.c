// SPDX-License-Identifier: MIT
/*
 * A child sharing its parent's memory (CLONE_VM without CLONE_THREAD) is
 * made again by its parent's restorer, with clone3 into the restored
 * memory (restore/share_vm.c).  There it sets its threads, signals,
 * credentials, limits and handlers of its own, but it cannot fork, open
 * files, change directory, session or group: what it would get from its
 * parent there must already be its own, or be shared (CLONE_FILES,
 * CLONE_FS).  Anything else is refused here, by name.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>

#include "snapshot.h"
#include "kh.h"

#define WHAT "shares its memory (CLONE_VM) with its parent"

static int load_attr(struct snapshot *s, pid_t pid, struct crfs_attr *a)
{
	const struct entry *e;
	struct crfs_text t;
	char path[64], err[256];

	snprintf(path, sizeof(path), "%d/%s", pid, CRFS_F_ATTR);
	e = snapshot_find(s, path, NULL);
	if (!e)
		return -ENOENT;
	text_init(&t, path, e->data, e->len, err, sizeof(err));
	return parse_attr(&t, a);
}

static void free_attr(struct crfs_attr *a)
{
	free(a->exe);
	free(a->cwd);
	free(a->root);
}

static bool has_timers(struct snapshot *s, pid_t pid)
{
	char path[64];
	const struct entry *e;

	snprintf(path, sizeof(path), "%d/%s", pid, CRFS_F_TIMERS);
	e = snapshot_find(s, path, NULL);
	return e && e->len;
}

static const struct proc_snap *proc_of(struct snapshot *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/*
 * A lock it took (fdinfo names the taker): it cannot take it again at
 * restore, but a POSIX lock in a table it shares is its parent's too.
 */
static bool holds_locks(struct snapshot *s, pid_t me, bool shares_files)
{
	const struct proc_snap *x = proc_of(s, me);
	char kind[16];
	const char *p;
	size_t i;
	int pid;

	for (i = 0; x && i < x->nfds; i++)
		for (p = s->fds[x->fds_at + i].info;
		     p && (p = strstr(p, "lock:\t")); p += 6)
			if (sscanf(p + 6, "%*d: %15s %*s %*s %d", kind,
				   &pid) == 2 && pid == me &&
			    !(shares_files && !strcmp(kind, "POSIX")))
				return true;
	return false;
}

static const char *flags_line(const char *info)
{
	const char *f = info ? strstr(info, "flags:") : NULL;

	return f ? f : "";
}

/* the same fds, to the same descriptions, with the same flags */
static bool same_fds(struct snapshot *s, pid_t a, pid_t b)
{
	const struct proc_snap *x = proc_of(s, a), *y = proc_of(s, b);
	size_t i;

	if (!x || !y || x->nfds != y->nfds)
		return false;
	for (i = 0; i < x->nfds; i++) {
		const struct kh_fd *f = &s->fds[x->fds_at + i];
		const struct kh_fd *g = &s->fds[y->fds_at + i];
		size_t lf = strcspn(flags_line(f->info), "\n");

		if (f->fd != g->fd || kh_kcmp_file(f, g) ||
		    strncmp(flags_line(f->info), flags_line(g->info), lf + 1))
			return false;
	}
	return true;
}

/* the kid is cloned into its parent's cgroups: its own must be those */
static bool same_cgroups(pid_t a, pid_t b)
{
	char path[64], *x = NULL, *y = NULL;
	bool same;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", kh_via(a));
	if (kh_read_file(path, &x, NULL))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", kh_via(b));
	same = !kh_read_file(path, &y, NULL) && !strcmp(x, y);
	free(x);
	free(y);
	return same;
}

static const char *differs(const struct crfs_attr *c,
			   const struct crfs_attr *p)
{
	if (c->sid != p->sid || c->pgid != p->pgid)
		return "its session or process group differs from its parent's";
	if (c->personality != p->personality)
		return "its personality differs from its parent's";
	/* per task, and the kid takes its parent's */
	if (c->loginuid != p->loginuid || c->mce_kill != p->mce_kill)
		return "its audit login uid or machine-check kill policy differs from its parent's";
	if (p->no_new_privs && !c->no_new_privs)
		return "its parent has no_new_privs and it has not";
	if (!c->shares_fs && (strcmp(c->cwd, p->cwd) ||
			      strcmp(c->root, p->root) || c->umask != p->umask))
		return "its working directory, root or umask differs from its parent's and is not shared (CLONE_FS)";
	return NULL;
}

void check_vm_sharer(struct snapshot *s, const pid_t *procs,
		     const struct kh_stat *st, int n, int i)
{
	struct crfs_attr c, p;
	const char *why;
	pid_t me = procs[i], parent = st[i].ppid;
	int k;

	for (k = 0; k < n; k++)
		if (st[k].ppid == me)
			snapshot_report(s, "process %d: " WHAT " %d and has a child %d of its own (not supported yet)",
					me, parent, procs[k]);
	if (st[i].exit_signal != SIGCHLD)
		snapshot_report(s, "process %d: " WHAT " %d and its exit signal is %d, not SIGCHLD (not supported yet)",
				me, parent, st[i].exit_signal);
	if (has_timers(s, me))
		snapshot_report(s, "process %d: " WHAT " %d and has timers of its own (not supported yet)",
				me, parent);
	if (load_attr(s, me, &c))
		return;		/* capture failed and said why */
	if (load_attr(s, parent, &p))
		goto out_c;
	why = differs(&c, &p);
	if (!why && !same_cgroups(me, parent))
		why = "its cgroups differ from its parent's";
	if (why)
		snapshot_report(s, "process %d: " WHAT " %d, but %s (not supported yet)",
				me, parent, why);
	if (holds_locks(s, me, c.shares_files))
		snapshot_report(s, "process %d: " WHAT " %d and holds a file lock it took itself (not supported yet)",
				me, parent);
	if (!c.shares_files && !same_fds(s, me, parent))
		snapshot_report(s, "process %d: " WHAT " %d, but its descriptor table differs from its parent's and is not shared (CLONE_FILES) (not supported yet)",
				me, parent);
	if (p.shares_vm)
		snapshot_report(s, "process %d: " WHAT " %d, which shares its own with its parent (not supported yet)",
				me, parent);
	free_attr(&p);
out_c:
	free_attr(&c);
}
