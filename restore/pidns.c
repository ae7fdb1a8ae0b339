// SPDX-License-Identifier: MIT
/*
 * Nested pid namespaces.  Each process comes back with its pid at every
 * level restore controls: the levels of its NSpid from base on (1 in a new
 * pid namespace of the root, whose pids seen from outside are new; else
 * 0, ours), passed to clone3's set_tid innermost first.  A process that
 * was init of a namespace below its parent's is cloned with CLONE_NEWPID;
 * one in a deeper namespace than its parent (forked after a setns) is
 * cloned once the parent followed that namespace's init with setns, and
 * each parent's pid_for_children is set back as it was saved.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh.h"
#include "restore.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* the pid namespace our children are created in, 0: our own */
static unsigned int children_ns;
/*
 * fd + 1 of the pid namespace at each level above a deeper one we (or an
 * ancestor) forked into, opened before the fork: no process can open an
 * ancestor of its own pid namespace afterwards (NS_GET_PARENT refuses),
 * and a namespace file of one may be ours to hold.
 */
static int level_fd[CRFS_NSPID_MAX];

static int depth(const struct proc_image *p)
{
	return p->attr.nspid_n - 1;
}

static bool is_init(const struct proc_image *p)
{
	return depth(p) > 0 && p->attr.nspid[depth(p)] == 1;
}

/* the init of pid namespace ns in the image, or NULL */
static const struct proc_image *init_of(const struct image *img,
					unsigned int ns)
{
	size_t i;

	for (i = 0; i < img->nprocs; i++)
		if (img->procs[i].attr.pidns == ns && is_init(&img->procs[i]))
			return &img->procs[i];
	return NULL;
}

int pidns_set_tid(const struct proc_image *p, const pid_t *nspid, int n,
		  pid_t *set_tid)
{
	int k;

	for (k = 0; k < n - p->nspid_base; k++)
		set_tid[k] = nspid[n - 1 - k];
	return k;
}

pid_t pidns_key(const struct image *img, const pid_t *nspid, int n)
{
	int base = img->new_pidns ? 1 : 0;

	return base < n ? nspid[base] : nspid[n - 1];
}

static int check_nspid(struct image *img, struct proc_image *p, char *err,
		       size_t errlen)
{
	const struct crfs_attr *a = &p->attr;
	size_t k;

	if (a->nspid_n < 1 || a->nspid[0] != p->pid ||
	    a->nspid[a->nspid_n - 1] != a->vpid)
		return ERR("%s/%d/%s: nspid does not begin with pid %d and end with vpid %d",
			   img->dir, p->pid, CRFS_F_ATTR, p->pid, a->vpid);
	for (k = 0; !a->zombie && k < p->nthreads; k++) {
		const struct crfs_thread *t = &p->threads[k];

		if (t->nstid_n != a->nspid_n || t->nstid[0] != t->tid ||
		    t->nstid[t->nstid_n - 1] != t->vtid)
			return ERR("%s/%d/task/%d/%s: nstid is not of the process's pid namespace levels, or does not match the tid and vtid",
				   img->dir, p->pid, t->tid, CRFS_F_SIGSTATE);
	}
	return 0;
}

/* how p comes out of its parent q's clone: q's namespace or one below */
static int check_parent(struct image *img, struct proc_image *p,
			const struct proc_image *q, char *err, size_t errlen)
{
	if (p->attr.pidns == q->attr.pidns)
		return depth(p) == depth(q) ? 0 :
		       ERR("%s/%d/%s: in its parent's pid namespace at another level",
			   img->dir, p->pid, CRFS_F_ATTR);
	if (is_init(p) && depth(p) == depth(q) + 1)
		return 0;
	if (depth(p) > depth(q) && !is_init(p))
		return 0;
	return ERR("%s/%d/%s: pid namespace %u (level %d) cannot be entered from its parent's (%u, level %d)",
		   img->dir, p->pid, CRFS_F_ATTR, p->attr.pidns, depth(p),
		   q->attr.pidns, depth(q));
}

static int check_one(struct image *img, size_t i, char *err, size_t errlen)
{
	struct proc_image *p = &img->procs[i];
	int base = img->new_pidns ? 1 : 0, ret;

	p->nspid_base = base;
	ret = check_nspid(img, p, err, errlen);
	if (ret)
		return ret;
	if (depth(p) < base || (!i && depth(p) != base))
		return ERR("%s/%d/%s: at pid namespace level %d, the root at %d: only the root may be init of a namespace one level below ours",
			   img->dir, p->pid, CRFS_F_ATTR, depth(p),
			   depth(&img->procs[0]));
	if (depth(p) > 0 && !init_of(img, p->attr.pidns))
		return ERR("%s/%d/%s: pid namespace %u has no init in the image",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.pidns);
	if (p->attr.pidns_children != p->attr.pidns &&
	    !init_of(img, p->attr.pidns_children))
		return ERR("%s/%d/%s: its children's pid namespace %u has no init in the image",
			   img->dir, p->pid, CRFS_F_ATTR, p->attr.pidns_children);
	if (p->parent >= 0 && depth(&img->procs[p->parent]) > 0 &&
	    (needs_session_helper(img, i) || needs_group_stub(img, i)))
		return ERR("%s/%d/%s: a session or process group whose leader has exited, inside a pid namespace, is not supported yet",
			   img->dir, p->pid, CRFS_F_ATTR);
	return p->parent < 0 ? 0 :
	       check_parent(img, p, &img->procs[p->parent], err, errlen);
}

int pidns_check(struct image *img, char *err, size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < img->nprocs; i++)
		ret = check_one(img, i, err, errlen);
	return ret;
}

/* our children's pid namespace becomes ns (0: our own) */
static int follow(const struct image *img, const struct proc_image *q,
		  unsigned int ns)
{
	const struct proc_image *init;
	int ret;

	if (ns == q->attr.pidns)
		ns = 0;
	if (ns == children_ns)
		return 0;
	init = ns ? init_of(img, ns) : NULL;
	if (ns && !init)
		return -ENOENT;
	/* the init as we see it: its pid at our level */
	ret = kh_pidns_follow(init ? init->attr.nspid[depth(q)] : getpid(),
			      10000);
	if (!ret)
		children_ns = ns;
	return ret;
}

bool pidns_enters(const struct image *img, int idx, size_t i)
{
	const struct proc_image *q = &img->procs[idx], *p = &img->procs[i];

	return p->attr.pidns != q->attr.pidns && !is_init(p);
}

pid_t pidns_clone(struct image *img, int idx, size_t i, uint64_t flags,
		  int err_fd)
{
	const struct proc_image *q = &img->procs[idx], *p = &img->procs[i];
	bool newns = p->attr.pidns != q->attr.pidns && is_init(p);
	pid_t set_tid[CRFS_NSPID_MAX], pid;
	int n, ret;

	ret = follow(img, q, newns ? q->attr.pidns : p->attr.pidns);
	if (ret)
		child_fail(err_fd, "cannot enter pid namespace %u for child %d: %s",
			   p->attr.pidns, p->pid, strerror(-ret));
	if (depth(p) > depth(q) && !level_fd[depth(q)])
		level_fd[depth(q)] = open("/proc/thread-self/ns/pid",
					  O_RDONLY | O_CLOEXEC) + 1;
	n = pidns_set_tid(p, p->attr.nspid, p->attr.nspid_n, set_tid);
	pid = kh_clone_with_pids(set_tid, n, flags | (newns ? CLONE_NEWPID : 0),
				 NULL);
	if (pid == 0)
		children_ns = 0;
	return pid;
}

/* helpers and stand-ins are cloned plainly: into our own */
void pidns_children_own(struct image *img, int idx, int err_fd)
{
	int ret = follow(img, &img->procs[idx], img->procs[idx].attr.pidns);

	if (ret)
		child_fail(err_fd, "cannot take back our own pid namespace for our children: %s",
			   strerror(-ret));
}

/*
 * Threads must be born in our pid_for_children, which must then be our
 * own: the restorer enters the saved one (with this pidfd) after them.
 */
int pidns_children_done(struct image *img, int idx, int err_fd)
{
	const struct proc_image *q = &img->procs[idx], *init;
	int ret = follow(img, q, q->attr.pidns), fd;

	if (ret)
		child_fail(err_fd, "cannot take back our own pid namespace for our threads: %s",
			   strerror(-ret));
	if (q->attr.pidns_children == q->attr.pidns)
		return -1;
	init = init_of(img, q->attr.pidns_children);
	fd = init ? kh_pidfd_wait(init->attr.nspid[depth(q)], 10000) : -ENOENT;
	if (fd < 0)
		child_fail(err_fd, "cannot find the init of our children's pid namespace %u: %s",
			   q->attr.pidns_children, strerror(-fd));
	return fd;
}

/* our pid namespace, or one above whose file an ancestor left us */
static int pidns_open_level(const struct proc_image *p, int level)
{
	int fd;

	if (level == depth(p))
		fd = open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
	else if (level_fd[level] > 0)
		fd = fcntl(level_fd[level] - 1, F_DUPFD_CLOEXEC, 0);
	else
		return -ENOENT;
	return fd < 0 ? -errno : fd;
}

/* level_fd kept above fd across isolate_fds (restore_proc.c) */
int pidns_keep_fds(int fd)
{
	int l, nfd, top = fd;

	for (l = 0; l < CRFS_NSPID_MAX; l++) {
		if (level_fd[l] <= 0)
			continue;
		nfd = fcntl(level_fd[l] - 1, F_DUPFD_CLOEXEC, top + 1);
		close(level_fd[l] - 1);
		level_fd[l] = nfd + 1;
		if (nfd > top)
			top = nfd;
	}
	return top;
}

void pidns_drop_fds(void)
{
	int l;

	for (l = 0; l < CRFS_NSPID_MAX; l++) {
		if (level_fd[l] > 0)
			close(level_fd[l] - 1);
		level_fd[l] = 0;
	}
}

/*
 * The pid namespace of init (a process of the image), opened by p: our
 * own or one above it (level_fd), or one below, whose init is in sight.
 */
int pidns_open(const struct image *img, const struct proc_image *p,
	       const struct proc_image *init)
{
	const struct proc_image *q = p;
	int up = 0;

	while (q->attr.pidns != init->attr.pidns) {
		q = init_of(img, q->attr.pidns);
		if (!q || q->parent < 0)
			break;
		q = &img->procs[q->parent];
		up++;
	}
	if (q && q->attr.pidns == init->attr.pidns)
		return pidns_open_level(p, depth(p) - up);
	if (init->attr.nspid_n <= depth(p))
		return -ENOENT;
	return kh_pidns_open_of(init->attr.nspid[depth(p)], 10000);
}

/* is pid namespace ns (of the image) viewer's or one below it? */
static bool in_sight(const struct image *img, const struct proc_image *viewer,
		     const struct proc_image *q)
{
	while (q && q->attr.pidns != viewer->attr.pidns &&
	       depth(q) > depth(viewer)) {
		q = init_of(img, q->attr.pidns);
		q = q && q->parent >= 0 ? &img->procs[q->parent] : NULL;
	}
	return q && q->attr.pidns == viewer->attr.pidns;
}

pid_t image_pid_in(const struct image *img, const struct proc_image *viewer,
		   pid_t pid)
{
	const struct proc_image *q = image_proc(img, pid);

	if (!q)
		return pid;	/* not of the image: ours, as it was */
	if (!in_sight(img, viewer, q))
		return 0;
	return q->attr.nspid[depth(viewer)];
}
