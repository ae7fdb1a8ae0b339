// SPDX-License-Identifier: MIT
/*
 * The tree's own user namespace, and its other namespaces inside it.
 *
 * A helper child makes the user namespace (as its saved owner); we write
 * its maps and setgroups from outside, as newuidmap would; then the
 * helper, with all capabilities in it, makes the tree's other namespaces,
 * which the user namespace therefore owns, as at checkpoint.  We keep
 * descriptors of them all and stay in our own user namespace, with our
 * privileges: we enter the UTS, network and IPC namespaces to configure
 * them and open the tree's files.  Time offsets are written to the
 * helper's /proc entry before anyone is inside.
 *
 * A tree without a pid namespace of its own keeps its pids in ours, which
 * only we may choose: we fork the root, it enters the time namespace, and
 * each process joins the user namespace itself, as late as it can
 * (setns(CLONE_NEWUSER) wants it single-threaded, with an fs of its own):
 * after forking its children with their pids, with its supplementary
 * groups set first as we see them (setgroups may be denied inside, and a
 * group the map does not cover cannot be named there).
 *
 * A tree with a pid namespace needs one the user namespace owns, which
 * only a process inside can make (a pid namespace cannot be entered
 * before it has an init).  A second helper, forked when the root is due
 * (so it has all we opened), sets the root's groups as we see them, joins
 * the time and user namespaces and clones the root with CLONE_PARENT, so
 * it is our child, and CLONE_NEWPID (and CLONE_NEWNS for --mount-proc).
 * Every process of the tree is then inside from birth, with the root's
 * groups; one whose own groups differ sets them inside, in the restorer
 * (freeze refuses that when setgroups is denied or a group is unmapped).
 *
 * Either way the restorer sets uids and gids as the namespace sees them,
 * and the capabilities (joining the namespace filled them).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "crfs/ipc.h"
#include "crfs/ns.h"
#include "kh.h"
#include "kh_ns.h"
#include "restore.h"
#include "restorer.h"
#include "ns.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static struct {
	pid_t helper;
	int go;			/* the helper's stdin: closing it ends it */
	int user, uts, net, ipc, time;
	bool inside;		/* born inside: groups as the root's */
	const struct crfs_creds *root;
	size_t nuid, ngid;
	struct crfs_ns_idmap uid[CRFS_NS_MAX_EXTENTS], gid[CRFS_NS_MAX_EXTENTS];
} us = { .go = -1, .user = -1, .uts = -1, .net = -1, .ipc = -1,
	 .time = -1 };

/* what the helper reports: the step it reached, or the errno it met */
struct step {
	int step, err;
};

static void say(int fd, int step, int err)
{
	struct step m = { step, err };

	if (write(fd, &m, sizeof(m)) != sizeof(m))
		_exit(1);
}

static __attribute__((noreturn)) void helper(int rd, int wr,
					     const struct crfs_ns *ns, int flags)
{
	char c;

	if (ns->user_owner &&
	    setresuid(ns->user_owner, ns->user_owner, ns->user_owner))
		say(wr, 0, errno), _exit(1);
	/* after setresuid, which clears both */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 1);
	if (getppid() == 1 || unshare(CLONE_NEWUSER))
		say(wr, 1, errno ?: ESRCH), _exit(1);
	say(wr, 1, 0);
	if (read(rd, &c, 1) != 1)
		_exit(1);
	if (flags && unshare(flags))
		say(wr, 2, errno), _exit(1);
	say(wr, 2, 0);
	while (read(rd, &c, 1) > 0)
		;
	_exit(0);
}

static int ids_mapped(const struct crfs_creds *c, pid_t pid, char *err,
		      size_t errlen)
{
	uint32_t in;
	int i;

	for (i = 0; i < 4; i++) {
		if (crfs_idmap_inside(us.uid, us.nuid, c->uid[i], &in))
			return ERR("%s: process %d: uid %u is not in its uid_map",
				   CRFS_F_NS, pid, c->uid[i]);
		if (crfs_idmap_inside(us.gid, us.ngid, c->gid[i], &in))
			return ERR("%s: process %d: gid %u is not in its gid_map",
				   CRFS_F_NS, pid, c->gid[i]);
	}
	return 0;
}

static int check_ids(const struct image *img, char *err, size_t errlen)
{
	const struct proc_image *p;
	size_t i, t;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++) {
		p = &img->procs[i];
		if (p->attr.zombie)
			continue;
		ret = ids_mapped(&p->creds, p->pid, err, errlen);
		for (t = 1; !ret && t < p->nthreads; t++)
			if (p->threads[t].creds)
				ret = ids_mapped(p->threads[t].creds, p->pid,
						 err, errlen);
	}
	return ret;
}

static int ns_flags(const struct image *img, const struct crfs_ns *ns)
{
	return (ns->uts ? CLONE_NEWUTS : 0) | (ns->net ? CLONE_NEWNET : 0) |
	       (ns->time ? CLONE_NEWTIME : 0) |
	       (in_manifest(img, CRFS_F_IPC_NS) ? CLONE_NEWIPC : 0);
}

static int open_ns(const char *name, int *fd, char *err, size_t errlen)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", us.helper, name);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? ERR("%s: %s", path, strerror(errno)) : 0;
}

static int open_all(int flags, char *err, size_t errlen)
{
	static const struct {
		int flag;
		const char *name;
		int *fd;
	} rows[] = {
		{ CLONE_NEWUSER, "user", &us.user },
		{ CLONE_NEWUTS, "uts", &us.uts },
		{ CLONE_NEWNET, "net", &us.net },
		{ CLONE_NEWIPC, "ipc", &us.ipc },
		{ CLONE_NEWTIME, "time_for_children", &us.time },
	};
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((flags | CLONE_NEWUSER) & rows[i].flag)
			ret = open_ns(rows[i].name, rows[i].fd, err, errlen);
	return ret;
}

/* the helper's next report: 0 when it reached step, else -errno */
static int wait_step(int rd, int step)
{
	struct step m;

	if (read(rd, &m, sizeof(m)) != sizeof(m))
		return -ECHILD;
	return m.err ? -m.err : m.step == step ? 0 : -EPROTO;
}

static int make(const struct image *img, const struct crfs_ns *ns, char *err,
		size_t errlen)
{
	int to[2], from[2], flags = ns_flags(img, ns), ret;
	const char *step = "?";

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return ERR("user namespace: pipe: %s", strerror(errno));
	us.helper = fork();
	if (us.helper == 0) {
		close(to[1]);
		close(from[0]);
		helper(to[0], from[1], ns, flags);
	}
	close(to[0]);
	close(from[1]);
	us.go = to[1];
	if (us.helper < 0) {
		close(from[0]);
		return ERR("user namespace: fork: %s", strerror(errno));
	}
	ret = wait_step(from[0], 1);
	if (ret)
		ret = ERR("cannot create a user namespace (owner uid %u): %s",
			  ns->user_owner, strerror(-ret));
	if (!ret) {
		ret = kh_userns_write_maps(us.helper, ns, &step);
		if (ret)
			ret = ERR("user namespace: cannot write its %s: %s",
				  step, strerror(-ret));
	}
	if (!ret && write(us.go, "g", 1) != 1)
		ret = ERR("user namespace: the helper is gone");
	if (!ret) {
		ret = wait_step(from[0], 2);
		if (ret)
			ret = ERR("cannot create namespaces (flags %#x) in the new user namespace: %s",
				  flags, strerror(-ret));
	}
	close(from[0]);
	return ret ?: open_all(flags, err, errlen);
}

int userns_prepare(const struct image *img, const struct crfs_ns *ns,
		   char *err, size_t errlen)
{
	if (!ns->user)
		return 0;
	memcpy(us.uid, ns->uid_map, sizeof(us.uid));
	memcpy(us.gid, ns->gid_map, sizeof(us.gid));
	us.nuid = ns->nuid_map;
	us.ngid = ns->ngid_map;
	us.root = &img->procs[0].creds;
	return check_ids(img, err, errlen) ?: make(img, ns, err, errlen);
}

pid_t userns_helper_pid(void)
{
	return us.helper > 0 ? us.helper : 0;
}

void userns_release(void)
{
	if (us.go >= 0)
		close(us.go);
	us.go = -1;
	if (us.helper > 0)
		waitpid(us.helper, NULL, 0);
	us.helper = 0;
}

int userns_join(int nstype, char *err, size_t errlen)
{
	int fd = nstype == CLONE_NEWUTS ? us.uts : nstype == CLONE_NEWNET ?
		 us.net : nstype == CLONE_NEWIPC ? us.ipc : -1;

	if (us.user < 0)
		return 0;
	if (nstype == CLONE_NEWTIME)
		return 1;	/* the root enters it */
	if (fd < 0)
		return 0;
	if (setns(fd, nstype))
		return ERR("cannot enter the new %s namespace: %s",
			   nstype == CLONE_NEWUTS ? "uts" :
			   nstype == CLONE_NEWNET ? "network" : "IPC",
			   strerror(errno));
	return 1;
}

/* the second helper: returns in the root, else never */
static void clone_inside(uint64_t flags, int wr)
{
	pid_t r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!setgroups(us.root->ngroups, us.root->groups) &&
	    (us.time < 0 || !setns(us.time, CLONE_NEWTIME)) &&
	    !setns(us.user, CLONE_NEWUSER))
		r = kh_clone_with_pid(1, flags | CLONE_PARENT, NULL);
	else
		r = -errno;
	if (r == 0) {
		close(wr);
		us.inside = true;
		us.user = us.time = -1;	/* in both already */
		return;
	}
	if (write(wr, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

int userns_clone_root(uint64_t flags, pid_t *pid)
{
	int p[2];
	pid_t h;

	if (us.user < 0 || !(flags & CLONE_NEWPID))
		return 0;
	if (pipe2(p, O_CLOEXEC)) {
		*pid = -errno;
		return 1;
	}
	h = fork();
	if (h == 0) {
		close(p[0]);
		clone_inside(flags, p[1]);
		*pid = 0;
		return 1;
	}
	close(p[1]);
	if (h < 0 || read(p[0], pid, sizeof(*pid)) != sizeof(*pid))
		*pid = -ECHILD;
	close(p[0]);
	if (h > 0)
		waitpid(h, NULL, 0);
	return 1;
}

void userns_enter_root(int err_fd)
{
	if (us.time >= 0 && setns(us.time, CLONE_NEWTIME))
		child_fail(err_fd, "cannot enter the new time namespace: %m");
}

int userns_keep_fd(int last, int err_fd)
{
	if (us.user < 0)
		return last;
	if (us.user != last + 1 && dup3(us.user, last + 1, O_CLOEXEC) < 0)
		child_fail(err_fd, "cannot keep the user namespace: %m");
	us.user = last + 1;
	return last + 1;
}

void userns_join_user(const struct crfs_creds *c, int err_fd)
{
	if (us.user < 0)
		return;
	if (setgroups(c->ngroups, c->groups))
		child_fail(err_fd, "setgroups (%u groups, as we see them): %m",
			   c->ngroups);
	if (setns(us.user, CLONE_NEWUSER))
		child_fail(err_fd, "cannot join the new user namespace: %m");
	close(us.user);
	us.user = -1;
}

static bool same_groups(const struct crfs_creds *a, const struct crfs_creds *b)
{
	return a->ngroups == b->ngroups &&
	       !memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t));
}

/*
 * Inside the namespace: our ids as it sees them.  The groups are in place
 * unless we were born inside with the root's and want others (freeze made
 * sure setgroups is allowed and maps them all).
 */
void userns_fill_creds(struct rst_creds *d, const struct crfs_creds *c)
{
	uint32_t i;

	if (!us.nuid)
		return;
	for (i = 0; i < 4; i++) {
		crfs_idmap_inside(us.uid, us.nuid, d->uid[i], &d->uid[i]);
		crfs_idmap_inside(us.gid, us.ngid, d->gid[i], &d->gid[i]);
	}
	if (!us.inside || same_groups(c, us.root)) {
		d->ngroups = RST_KEEP_GROUPS;
		return;
	}
	for (i = 0; i < d->ngroups; i++)
		crfs_idmap_inside(us.gid, us.ngid, d->groups[i], &d->groups[i]);
}
