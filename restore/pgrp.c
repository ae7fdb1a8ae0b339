// SPDX-License-Identifier: MIT
/*
 * A process group of the parent's session whose leader has exited (a
 * shell pipeline whose first command ended first): its members can only
 * join it while some process leads it.  The parent runs a stub with the
 * leader's pid that makes the group, forks its children, and lets the
 * stub go once every member has joined; the parent reaps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"

bool needs_group_stub(const struct image *img, size_t i)
{
	const struct proc_image *p = &img->procs[i], *parent;

	if (p->parent < 0 || p->attr.pgid == p->pid ||
	    needs_session_helper(img, i))
		return false;
	parent = &img->procs[p->parent];
	return p->attr.sid == parent->attr.sid &&
	       p->attr.pgid != parent->attr.pgid &&
	       !image_proc(img, p->attr.pgid);
}

int check_group_stubs(const struct image *img, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; img->new_pidns && i < img->nprocs; i++)
		if (needs_group_stub(img, i)) {
			snprintf(err, errlen, "%s/%d/%s: a process group whose leader has exited, inside a pid namespace, is not supported yet",
				 img->dir, img->procs[i].pid, CRFS_F_ATTR);
			return -EINVAL;
		}
	return 0;
}

/* the first child of idx in group pgid that needs a stub, from i on */
static bool first_member(struct image *img, int idx, size_t i)
{
	size_t k;

	if (img->procs[i].parent != idx || !needs_group_stub(img, i))
		return false;
	for (k = 0; k < i; k++)
		if (img->procs[k].parent == idx && needs_group_stub(img, k) &&
		    img->procs[k].attr.pgid == img->procs[i].attr.pgid)
			return false;
	return true;
}

static void run_stub(pid_t pgid, int rfd, int wfd, int err_fd)
{
	pid_t h = kh_clone_with_pid(pgid, 0, NULL);
	char c;

	if (h < 0)
		child_fail(err_fd, "cannot create a leader %d for the group: %s",
			   pgid, strerror(-h));
	if (h > 0)
		return;
	close(wfd);
	if (setpgid(0, 0))
		child_fail(err_fd, "group leader %d: setpgid: %m", pgid);
	/* until the parent closes its end: every member is in */
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int group_stubs_start(struct image *img, int idx, int err_fd)
{
	int p[2] = { -1, -1 };
	size_t i;

	for (i = 0; i < img->nprocs; i++) {
		if (!first_member(img, idx, i))
			continue;
		if (p[0] < 0 && pipe2(p, O_CLOEXEC))
			child_fail(err_fd, "group leaders: pipe: %m");
		run_stub(img->procs[i].attr.pgid, p[0], p[1], err_fd);
	}
	if (p[0] >= 0)
		close(p[0]);
	return p[1];
}

/* wfd from group_stubs_start; every member has its group, then the stubs go */
void group_stubs_end(struct image *img, int idx, int wfd, int err_fd)
{
	size_t i;
	int n;

	if (wfd < 0)
		return;
	for (i = 0; i < img->nprocs; i++) {
		const struct proc_image *p = &img->procs[i];

		if (p->parent != idx || !needs_group_stub(img, i))
			continue;
		for (n = 0; getpgid(p->attr.vpid) != p->attr.pgid; n++) {
			if (n == 1000)
				child_fail(err_fd, "process %d did not join group %d",
					   p->pid, p->attr.pgid);
			usleep(5000);
		}
	}
	close(wfd);
	for (i = 0; i < img->nprocs; i++)
		if (first_member(img, idx, i))
			waitpid(img->procs[i].attr.pgid, NULL, __WALL);
}

static bool pid_free(pid_t pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * The root in a session, and maybe a group, whose leader has exited (a
 * daemon that forked twice): true if a helper with the leader's pid can
 * lead them again, that pid being free.  One in use is a leader alive
 * outside the tree (the shell it was started from), whose session is not
 * ours to join: the root stays in crfs-restore's, as its group does.  Not
 * in a new pid namespace (the helper would be outside it).
 */
bool root_needs_leader(const struct image *img)
{
	const struct crfs_attr *a = &img->procs[0].attr;
	pid_t root = img->procs[0].pid;

	if (img->new_pidns || a->sid == root || image_proc(img, a->sid) ||
	    !pid_free(a->sid))
		return false;
	return a->pgid == root || a->pgid == a->sid ||
	       (!image_proc(img, a->pgid) && pid_free(a->pgid));
}

/*
 * The root, forked by a helper with its session leader's pid that calls
 * setsid() (and, for a group of another dead leader, by a second one in
 * it), which then exits: the root falls to us, a child subreaper for that
 * moment.  0 in the root, its pid here, or -errno.
 */
pid_t clone_root_under_leader(const struct image *img)
{
	const struct crfs_attr *a = &img->procs[0].attr;
	pid_t root = img->procs[0].pid, h, r;
	int was = 0, st, ret;

	if (prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -errno;
	h = kh_clone_with_pid(a->sid, 0, NULL);
	if (h == 0) {
		if (setsid() < 0)
			_exit(1);
		if (a->pgid != a->sid && a->pgid != root) {
			/* the group's leader goes on below, in the child */
			pid_t g = kh_clone_with_pid(a->pgid, 0, NULL);

			if (g != 0)
				_exit(g > 0 && waitpid(g, &st, 0) == g &&
				      WIFEXITED(st) ? WEXITSTATUS(st) : 1);
			if (setpgid(0, 0))
				_exit(1);
		}
		r = kh_clone_with_pid(root, 0, NULL);
		if (r == 0)
			return 0;
		_exit(r < 0 ? 3 : 0);
	}
	ret = h < 0 ? (int)h : 0;
	if (h > 0 && (waitpid(h, &st, 0) != h || !WIFEXITED(st) ||
		      WEXITSTATUS(st)))
		ret = -ECHILD;
	if (!was)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	/* a helper that failed made no root */
	return ret ? ret : root;
}
