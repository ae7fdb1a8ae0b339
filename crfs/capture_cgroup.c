// SPDX-License-Identifier: MIT
/*
 * The tree's cgroups: in every hierarchy where some process of the tree
 * (or the root's cgroup namespace) is somewhere else than the daemon,
 * the cgroup of each process and the limits of each cgroup between them
 * and the daemon's, saved to the container's cgroup file.  A hierarchy
 * where the whole tree is where we are is left out: restore keeps the
 * tree where crfs-restore runs, as it always did.  What restore would not
 * make again exactly is reported by name.
 */
#include <errno.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/array.h"
#include "crfs/cgroup.h"
#include "kh_cgroup.h"
#include "kh_ns.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Control files crfs does not restore, with the value that needs none
 * (what a new cgroup starts with).  Any other value is refused.
 */
static const struct {
	const char *pattern;
	const char *fresh;
} unsaved[] = {
	{ "cgroup.type", "domain" },		/* threaded cgroups */
	{ "cgroup.freeze", "0" },
	{ "cgroup.max.depth", "max" },
	{ "cgroup.max.descendants", "max" },
	{ "memory.oom.group", "0" },
	{ "memory.swap.high", "max" },
	{ "memory.zswap.max", "max" },
	{ "cpu.idle", "0" },
	{ "cpu.max.burst", "0" },
	{ "cpu.uclamp.min", "0.00" },
	{ "cpu.uclamp.max", "max" },
	{ "io.max", "" },
	{ "io.weight", "default 100" },
	{ "hugetlb.*.rsvd.max", "max" },
	{ "hugetlb.*.max", "max" },
	{ "cpuset.cpus.partition", "member" },
	/* v1 */
	{ "freezer.state", "THAWED" },
	{ "memory.memsw.limit_in_bytes", "9223372036854771712" },
	{ "memory.kmem.limit_in_bytes", "9223372036854771712" },
	{ "memory.kmem.tcp.limit_in_bytes", "9223372036854771712" },
	{ "hugetlb.*.limit_in_bytes", "9223372036854771712" },
	{ "blkio.throttle.*_device", "" },
	{ "cpu.rt_runtime_us", "0" },
	{ "cpu.cfs_burst_us", "0" },
	{ "net_cls.classid", "0" },
};

/*
 * v1 controllers whose settings the tables above cover; devices only in
 * its deny-by-default mode (check_devices).
 */
static const char *const v1_known[] = {
	"cpu", "cpuacct", "cpuset", "memory", "freezer", "blkio", "pids",
	"hugetlb", "net_cls", "perf_event", "devices",
};

struct cg_ctx {
	struct snapshot *s;
	pid_t root;
	struct kh_cg_mount *m;
	size_t nm;
	struct kh_cg *mine;		/* the daemon's cgroups */
	size_t nmine;
	struct kh_cg **of;		/* each process's */
	size_t *nof;
	const pid_t *procs;
	int n;
	struct kh_cg *nsroot;		/* the root's cgroup namespace's */
	size_t nnsroot;
	struct crfs_cgroups out;
};

/* every controller of a v1 hierarchy's name is one we know ("name=" has none) */
static bool known_hier(const char *hier)
{
	char *dup = strdup(hier), *cur = dup, *tok;
	bool ok = dup != NULL;
	size_t i;

	if (!strcmp(hier, KH_CG_V2))
		goto out;
	while (ok && (tok = strsep(&cur, ","))) {
		if (!strncmp(tok, "name=", 5))
			continue;
		for (i = 0; i < ARRAY_SIZE(v1_known) &&
			    strcmp(v1_known[i], tok); i++)
			;
		ok = i < ARRAY_SIZE(v1_known);
	}
out:
	free(dup);
	return ok;
}

/* a process's threads must all be where it is (v1 moves threads alone) */
static void check_threads(struct cg_ctx *c, int i)
{
	struct kh_cg *t;
	size_t nt, k;
	pid_t *tids;
	int ntids, j;

	if (kh_proc_tids(c->procs[i], &tids, &ntids))
		return;
	for (j = 0; j < ntids; j++) {
		if (tids[j] == c->procs[i] ||
		    kh_task_cgroups(c->procs[i], tids[j], &t, &nt))
			continue;
		for (k = 0; k < nt; k++) {
			const char *p = kh_cg_path(c->of[i], c->nof[i],
						   t[k].hier);

			if (p && strcmp(p, t[k].path))
				snapshot_report(c->s, "process %d: thread %d is in cgroup %s:%s, not in its process's %s: not supported",
						c->procs[i], tids[j], t[k].hier,
						t[k].path, p);
		}
		kh_cg_free(t, nt);
	}
	free(tids);
}

static int read_procs(struct cg_ctx *c)
{
	int i, ret = 0;

	c->of = calloc(c->n, sizeof(*c->of));
	c->nof = calloc(c->n, sizeof(*c->nof));
	if (!c->of || !c->nof)
		return -ENOMEM;
	for (i = 0; !ret && i < c->n; i++) {
		ret = kh_task_cgroups(c->procs[i], 0, &c->of[i], &c->nof[i]);
		if (!ret)
			check_threads(c, i);
	}
	return ret;
}

static int read_inside(void *arg)
{
	struct cg_ctx *c = arg;

	return kh_task_cgroups(c->root, 0, &c->nsroot, &c->nnsroot);
}

/*
 * The root's cgroup namespace starts where the root's cgroup as seen from
 * inside ends: /a/b/c inside as /c makes /a/b its root.
 */
static int ns_roots(struct cg_ctx *c)
{
	const char *host, *in;
	size_t i, hl, il;
	int ret = kh_in_ns(c->root, "cgroup", CLONE_NEWCGROUP, read_inside, c);

	for (i = 0; !ret && i < c->nnsroot; i++) {
		host = kh_cg_path(c->of[0], c->nof[0], c->nsroot[i].hier);
		in = c->nsroot[i].path;
		hl = host ? strlen(host) : 0;
		il = strcmp(in, "/") ? strlen(in) : 0;
		if (!host || !strncmp(in, "/..", 3) || il > hl ||
		    (il && strcmp(host + hl - il, in))) {
			snapshot_report(c->s, "process %d: its cgroup %s:%s is outside its cgroup namespace (%s there): not supported",
					c->root, c->nsroot[i].hier,
					host ? host : "?", in);
			in = "/";
			hl = 1;
			il = 0;
			host = "/";
		}
		/* what is left: the namespace's root */
		in = hl - il ? strndup(host, hl - il) : strdup("/");
		free(c->nsroot[i].path);
		c->nsroot[i].path = (char *)in;
		if (!in)
			ret = -ENOMEM;
	}
	return ret;
}

/* the root has a cgroup namespace of its own; every process shares it */
static int read_ns(struct cg_ctx *c)
{
	char *mine = NULL, *rootns = NULL, *theirs;
	int i, ret;

	ret = kh_proc_link(getpid(), "ns/cgroup", &mine);
	ret = ret ?: kh_proc_link(c->root, "ns/cgroup", &rootns);
	if (ret)
		goto out;
	for (i = 0; i < c->n; i++) {
		if (kh_proc_link(c->procs[i], "ns/cgroup", &theirs))
			continue;
		if (strcmp(theirs, rootns))
			snapshot_report(c->s, "process %d: in a cgroup namespace (%s) other than the root's (%s): not supported",
					c->procs[i], theirs, rootns);
		free(theirs);
	}
	c->out.ns = strcmp(mine, rootns) != 0;
	if (c->out.ns)
		ret = ns_roots(c);
out:
	free(mine);
	free(rootns);
	return ret;
}

/* some process, or the namespace's root, is not where we are */
static bool hier_saved(struct cg_ctx *c, const char *hier, const char *ours)
{
	const char *p;
	int i;

	for (i = 0; i < c->n; i++) {
		p = kh_cg_path(c->of[i], c->nof[i], hier);
		if (p && strcmp(p, ours))
			return true;
	}
	p = c->out.ns ? kh_cg_path(c->nsroot, c->nnsroot, hier) : NULL;
	return p && strcmp(p, ours);
}

static bool have_group(struct cg_ctx *c, const char *hier, const char *path)
{
	size_t i;

	for (i = 0; i < c->out.ngroups; i++)
		if (!strcmp(c->out.groups[i].hier, hier) &&
		    !strcmp(c->out.groups[i].path, path))
			return true;
	return false;
}

/*
 * path and its ancestors down from the daemon's cgroup (or the first
 * cgroup above ours): their limits bound the tree.
 */
static int add_groups(struct cg_ctx *c, const char *hier, const char *path,
		      const char *ours)
{
	char *p = strdup(path), *slash;
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (;;) {
		if (!have_group(c, hier, p) && !crfs_cg_add_group(&c->out, hier, p)) {
			ret = -ENOMEM;
			break;
		}
		if (crfs_cg_below(ours, p))
			break;
		slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (crfs_cg_below(ours, p))
			break;
	}
	free(p);
	return ret;
}

static void check_unsaved(struct cg_ctx *c, const struct crfs_cg_group *g,
			  const char *dir, const char *file)
{
	char *val;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unsaved) &&
		    fnmatch(unsaved[i].pattern, file, 0); i++)
		;
	if (i == ARRAY_SIZE(unsaved) || kh_cg_read(dir, file, &val))
		return;
	if (strcmp(val, unsaved[i].fresh))
		snapshot_report(c->s, "cgroup %s:%s: %s is '%s' (not '%s'), which crfs does not restore",
				g->hier, g->path, file, val, unsaved[i].fresh);
	free(val);
}

/*
 * A v1 devices cgroup that denies by default lists exactly what it
 * allows; one that allows by default shows only "a *:* rwm", whatever
 * it denies.
 */
static void check_devices(struct cg_ctx *c, const struct crfs_cg_group *g,
			  const char *file, const char *val)
{
	if (strcmp(file, "devices.list"))
		return;
	if (!strcmp(val, "a *:* rwm") || !strncmp(val, "a *:* rwm\n", 10))
		snapshot_report(c->s, "cgroup %s:%s: a v1 devices cgroup that allows every device by default (devices.list 'a *:* rwm'), whose denied devices do not show: not supported",
				g->hier, g->path);
}

/*
 * The saved control files of g, and a look at the rest.  The daemon's
 * cgroup and those above it are the host's, not the tree's: restore
 * only looks for them, so their settings are neither saved nor judged.
 */
static int read_limits(struct cg_ctx *c, struct crfs_cg_group *g)
{
	const char *ours = kh_cg_path(c->mine, c->nmine, g->hier);
	char *dir, *val, **files;
	size_t i, nf;
	int ret = 0, r;

	if (ours && crfs_cg_below(ours, g->path))
		return 0;
	dir = kh_cg_dir(c->m, c->nm, g->hier, g->path);
	if (!dir) {
		snapshot_report(c->s, "cgroup %s:%s: its hierarchy is not mounted where crfs runs: its limits cannot be read",
				g->hier, g->path);
		return 0;
	}
	for (i = 0; !ret && crfs_cg_saved[i]; i++) {
		r = kh_cg_read(dir, crfs_cg_saved[i], &val);
		if (r)
			continue;	/* not in this hierarchy or the root */
		check_devices(c, g, crfs_cg_saved[i], val);
		ret = crfs_cg_add_limit(g, crfs_cg_saved[i], val);
		free(val);
	}
	if (!ret && !kh_cg_files(dir, &files, &nf)) {
		for (i = 0; i < nf; i++) {
			check_unsaved(c, g, dir, files[i]);
			free(files[i]);
		}
		free(files);
	}
	free(dir);
	return ret;
}

static int cmp_group(const void *a, const void *b)
{
	const struct crfs_cg_group *x = a, *y = b;

	return strcmp(x->hier, y->hier) ?: strcmp(x->path, y->path);
}

static int save_hier(struct cg_ctx *c, const char *hier, const char *ours)
{
	const char *p;
	int i, ret = 0;

	if (!known_hier(hier))
		snapshot_report(c->s, "process %d: in cgroup %s:%s of a v1 hierarchy crfs does not handle (%s): not supported",
				c->root, hier,
				kh_cg_path(c->of[0], c->nof[0], hier) ?: "?",
				hier);
	ret = crfs_cg_add_place(&c->out, -1, hier, ours);
	p = c->out.ns ? kh_cg_path(c->nsroot, c->nnsroot, hier) : NULL;
	if (!ret && p)
		ret = add_groups(c, hier, p, ours) ?:
		      crfs_cg_add_place(&c->out, 0, hier, p);
	for (i = 0; !ret && i < c->n; i++) {
		p = kh_cg_path(c->of[i], c->nof[i], hier);
		if (!p)
			continue;
		ret = add_groups(c, hier, p, ours) ?:
		      crfs_cg_add_place(&c->out, c->procs[i], hier, p);
	}
	return ret;
}

/*
 * A cgroup namespace is restored when it is the root's and every process
 * shares it: read_ns() reports any process in another one.
 */
int cgroup_ns_ok(struct snapshot *s, pid_t pid, pid_t root, const char *name,
		 const char *theirs)
{
	(void)s;
	(void)pid;
	(void)root;
	(void)name;
	(void)theirs;
	return 1;
}

static void ctx_free(struct cg_ctx *c)
{
	int i;

	for (i = 0; c->of && i < c->n; i++)
		kh_cg_free(c->of[i], c->nof[i]);
	free(c->of);
	free(c->nof);
	kh_cg_free(c->mine, c->nmine);
	kh_cg_free(c->nsroot, c->nnsroot);
	kh_cg_mounts_free(c->m, c->nm);
	crfs_cgroups_free(&c->out);
}

int capture_cgroup(struct snapshot *s, pid_t root, const pid_t *procs, int n)
{
	struct cg_ctx c = { .s = s, .root = root, .procs = procs, .n = n };
	size_t i, saved = 0;
	int ret;

	ret = kh_cg_mounts(&c.m, &c.nm);
	ret = ret ?: kh_task_cgroups(getpid(), 0, &c.mine, &c.nmine);
	ret = ret ?: read_procs(&c);
	ret = ret ?: read_ns(&c);
	for (i = 0; !ret && i < c.nmine; i++) {
		if (!hier_saved(&c, c.mine[i].hier, c.mine[i].path))
			continue;
		saved++;
		ret = save_hier(&c, c.mine[i].hier, c.mine[i].path);
	}
	if (!ret && c.out.ngroups)
		qsort(c.out.groups, c.out.ngroups, sizeof(*c.out.groups),
		      cmp_group);
	for (i = 0; !ret && i < c.out.ngroups; i++)
		ret = read_limits(&c, &c.out.groups[i]);
	if (!ret && (saved || c.out.ns))
		ret = RENDER(s, CRFS_F_CGROUP, render_cgroups, &c.out);
	ctx_free(&c);
	return ret;
}

/* is the cgroup of pid in hierarchy hier frozen (or freezing)? */
static bool frozen_in(const struct kh_cg_mount *m, size_t nm, pid_t pid,
		      const struct kh_cg *cg, char *why, size_t len)
{
	bool v2 = !strcmp(cg->hier, KH_CG_V2), frozen = false;
	char *dir = kh_cg_dir(m, nm, cg->hier, cg->path), *val;

	if (!dir)
		return false;
	if (!kh_cg_read(dir, v2 ? "cgroup.events" : "freezer.state", &val)) {
		frozen = v2 ? strstr(val, "frozen 1") != NULL :
			      strcmp(val, "THAWED") != 0;
		free(val);
	}
	if (v2 && !frozen && !kh_cg_read(dir, "cgroup.freeze", &val)) {
		frozen = !strcmp(val, "1");
		free(val);
	}
	if (frozen)
		snprintf(why, len, "process %d is in cgroup %s:%s, which is frozen (%s): thaw it first",
			 pid, cg->hier, cg->path, v2 ? "cgroup.freeze" :
			 "freezer.state");
	free(dir);
	return frozen;
}

/*
 * A task its cgroup froze never stops for PTRACE_INTERRUPT: the freeze
 * would wait until someone thaws it.  Asked before seizing a process.
 */
bool cgroup_frozen(pid_t pid, char *why, size_t len)
{
	struct kh_cg *cg, *mine;
	struct kh_cg_mount *m = NULL;
	size_t n, nmine, nm = 0, i;
	bool frozen = false;
	const char *ours;

	if (kh_task_cgroups(pid, 0, &cg, &n))
		return false;
	if (kh_task_cgroups(getpid(), 0, &mine, &nmine)) {
		kh_cg_free(cg, n);
		return false;
	}
	for (i = 0; !frozen && i < n; i++) {
		if (strcmp(cg[i].hier, KH_CG_V2) &&
		    !strstr(cg[i].hier, "freezer"))
			continue;
		/* where we are nothing is frozen: we run */
		ours = kh_cg_path(mine, nmine, cg[i].hier);
		if (ours && !strcmp(ours, cg[i].path))
			continue;
		if (!m && kh_cg_mounts(&m, &nm))
			break;
		frozen = frozen_in(m, nm, pid, &cg[i], why, len);
	}
	kh_cg_mounts_free(m, nm);
	kh_cg_free(cg, n);
	kh_cg_free(mine, nmine);
	return frozen;
}
