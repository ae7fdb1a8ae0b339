// SPDX-License-Identifier: MIT
/*
 * The tree root's own user namespace: its maps, setgroups and owner go to
 * the ns file, and what restore could not give back exactly is refused
 * here, by name: a namespace nested deeper than one level below ours,
 * namespaces of the root owned by another user namespace, ids the maps
 * do not cover, and what a process cannot take into the namespace it
 * joins at restore (threads without a pid namespace of the tree's own,
 * shared descriptor tables or fs, threads with groups of their own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crfs/ns.h"
#include "kh.h"
#include "kh_ns.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the root's namespaces restore makes inside the user namespace it makes */
static const char *const owned[] = { "ipc", "mnt", "net", "pid", "time",
				     "uts", "cgroup" };

static void report_link(struct snapshot *s, pid_t pid, const char *name,
			const char *fmt)
{
	char path[32], *link = NULL;

	snprintf(path, sizeof(path), "ns/%s", name);
	kh_proc_link(pid, path, &link);
	snapshot_report(s, fmt, pid, name, link ? link : "?");
	free(link);
}

/*
 * Each namespace of the root that is not ours must belong to the root's
 * user namespace (ours, when it has none of its own): restore creates it
 * there.
 */
void userns_check_owners(struct snapshot *s, pid_t root)
{
	unsigned int user, mine, theirs;
	unsigned long owner;
	size_t i;

	if (kh_ns_ino(root, "user", &user))
		return;
	for (i = 0; i < ARRAY_SIZE(owned); i++) {
		if (kh_ns_ino(getpid(), owned[i], &mine) ||
		    kh_ns_ino(root, owned[i], &theirs) || mine == theirs)
			continue;
		if (kh_ns_owner_ino(root, owned[i], &owner) || owner != user)
			report_link(s, root, owned[i],
				    "process %d: its %s namespace (%s) is owned by a user namespace other than its own: not supported");
	}
}

/*
 * A new user namespace starts with every user.max_* limit at INT_MAX;
 * limits set in the tree's are not saved.
 */
static void check_sysctls(struct snapshot *s, pid_t root)
{
	char buf[1024], *line, *cur = buf, name[64], val[32];

	if (kh_userns_sysctls(root, buf, sizeof(buf))) {
		report_link(s, root, "user",
			    "process %d: its %s namespace (%s): cannot read its user.max_* limits");
		return;
	}
	while ((line = strsep(&cur, "\n")) && *line)
		if (sscanf(line, "%63s %31s", name, val) == 2 &&
		    strcmp(val, "2147483647"))
			snapshot_report(s, "process %d: its user namespace limits user.%s to %s (a new one has 2147483647): not supported",
					root, name, val);
}

int capture_user(struct snapshot *s, pid_t root, struct crfs_ns *ns)
{
	struct crfs_ns_idmap proj;
	unsigned int mine;
	unsigned long parent;
	int ret = kh_ns_ino(getpid(), "user", &mine);
	size_t nproj = 0;
	int proj_ret;

	if (ret)
		return ret;
	if (kh_userns_parent_ino(root, &parent) || parent != mine) {
		report_link(s, root, "user",
			    "process %d: its %s namespace (%s) is nested in another user namespace: only one level below crfs's is supported");
		return 0;
	}
	ret = kh_userns_maps(root, "uid_map", ns->uid_map, CRFS_NS_MAX_EXTENTS,
			     &ns->nuid_map) ?:
	      kh_userns_maps(root, "gid_map", ns->gid_map, CRFS_NS_MAX_EXTENTS,
			     &ns->ngid_map) ?:
	      kh_userns_setgroups_deny(root, &ns->setgroups_deny) ?:
	      kh_userns_owner(root, &ns->user_owner);
	if (!ret && (!ns->nuid_map || !ns->ngid_map))
		report_link(s, root, "user",
			    "process %d: its %s namespace (%s) has no uid_map or gid_map: not supported");
	/* project ids (quotas) are not saved: only a new namespace's none */
	proj_ret = kh_userns_maps(root, "projid_map", &proj, 1, &nproj);
	if (!ret && (proj_ret == -E2BIG || (!proj_ret && nproj)))
		report_link(s, root, "user",
			    "process %d: its %s namespace (%s) has a projid_map: not supported");
	if (!ret)
		check_sysctls(s, root);
	ns->user = true;
	return ret;
}

/* each of the 4 ids (real, effective, saved, fs) must be mapped */
static void check_ids(struct snapshot *s, pid_t pid, const char *what,
		      const uint32_t *id, const struct crfs_ns_idmap *m,
		      size_t n)
{
	uint32_t in;
	int i;

	for (i = 0; i < 4; i++)
		if (crfs_idmap_inside(m, n, id[i], &in)) {
			snapshot_report(s, "process %d: %s %u is not mapped in its user namespace: not supported",
					pid, what, id[i]);
			return;
		}
}

/*
 * Supplementary groups are set before a process joins the namespace
 * (setgroups may be denied inside, and unmapped groups cannot be named
 * there): one list per process.
 */
static void check_thread_groups(struct snapshot *s, pid_t pid,
				const struct crfs_creds *c)
{
	struct crfs_creds tc;
	unsigned int umask;
	int nnp, seccomp, i, n;
	pid_t *tids;

	if (kh_proc_tids(pid, &tids, &n))
		return;
	for (i = 0; i < n; i++) {
		memset(&tc, 0, sizeof(tc));
		if (tids[i] == pid ||
		    kh_proc_status(tids[i], &tc, &umask, &nnp, &seccomp))
			continue;
		if (tc.ngroups != c->ngroups ||
		    memcmp(tc.groups, c->groups, c->ngroups * sizeof(gid_t)))
			snapshot_report(s, "process %d thread %d: supplementary groups that differ from the process's in a user namespace: not supported",
					pid, tids[i]);
		free(tc.groups);
	}
	free(tids);
}

/*
 * With a pid namespace of the tree's, every process is restored inside
 * the user namespace from birth, with the root's groups: other groups
 * must be settable there.
 */
static void check_groups_inside(struct snapshot *s, pid_t pid, pid_t root,
				const struct crfs_creds *c)
{
	struct crfs_ns_idmap *m = calloc(CRFS_NS_MAX_EXTENTS, sizeof(*m));
	struct crfs_creds rc = { 0 };
	unsigned int umask;
	int nnp, seccomp;
	bool deny = true;
	size_t n = 0, i;
	uint32_t in;

	if (!m || kh_proc_status(root, &rc, &umask, &nnp, &seccomp) ||
	    (rc.ngroups == c->ngroups &&
	     !memcmp(rc.groups, c->groups, c->ngroups * sizeof(gid_t))))
		goto out;
	if (kh_userns_setgroups_deny(root, &deny) || deny)
		snapshot_report(s, "process %d: supplementary groups other than the root's in a user namespace with setgroups denied: not supported",
				pid);
	else if (!kh_userns_maps(root, "gid_map", m, CRFS_NS_MAX_EXTENTS, &n))
		for (i = 0; i < (size_t)c->ngroups; i++)
			if (crfs_idmap_inside(m, n, c->groups[i], &in)) {
				snapshot_report(s, "process %d: supplementary group %u, other than the root's, is not mapped in its user namespace: not supported",
						pid, c->groups[i]);
				break;
			}
out:
	free(rc.groups);
	free(m);
}

void userns_check_proc(struct snapshot *s, pid_t pid, pid_t root,
		       const struct crfs_attr *a, const struct crfs_creds *c)
{
	unsigned int mine, theirs, pidns, ourpid;
	struct crfs_ns_idmap *m;
	size_t n;

	if (kh_ns_ino(getpid(), "user", &mine) ||
	    kh_ns_ino(root, "user", &theirs) || mine == theirs)
		return;
	m = calloc(CRFS_NS_MAX_EXTENTS, sizeof(*m));
	if (!m) {
		snapshot_report(s, "process %d: out of memory checking its ids",
				pid);
		return;
	}
	if (!kh_userns_maps(root, "uid_map", m, CRFS_NS_MAX_EXTENTS, &n))
		check_ids(s, pid, "uid", c->uid, m, n);
	if (!kh_userns_maps(root, "gid_map", m, CRFS_NS_MAX_EXTENTS, &n))
		check_ids(s, pid, "gid", c->gid, m, n);
	free(m);
	if (kh_ns_ino(getpid(), "pid", &ourpid) ||
	    kh_ns_ino(root, "pid", &pidns))
		pidns = ourpid = 0;
	if (pidns != ourpid)
		check_groups_inside(s, pid, root, c);
	else if (a->nthreads > 1)
		snapshot_report(s, "process %d: %d threads in a user namespace without a pid namespace of the tree's own: not supported (their ids in our pid namespace cannot be chosen from inside)",
				pid, a->nthreads);
	/* setns(CLONE_NEWUSER) at restore wants them unshared */
	if (pidns == ourpid && (a->shares_files || a->shares_fs))
		snapshot_report(s, "process %d: shares its %s with its parent in a user namespace without a pid namespace of the tree's own: not supported",
				pid, a->shares_fs ? "working directory and root (CLONE_FS)" :
				"descriptor table (CLONE_FILES)");
	check_thread_groups(s, pid, c);
}
