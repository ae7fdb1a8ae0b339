// SPDX-License-Identifier: MIT
/*
 * The child's part of a restore, in ordinary C while it still can: session
 * and group, descriptors, working directory, umask, personality, name,
 * signal handlers and limits.  Memory, thread state and credentials follow
 * in the restorer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"
#include "ghost.h"

void child_fail(int err_fd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg) - 1, "pid %d: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - 1 - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(err_fd, msg, n) < 0)
		_exit(2);
	_exit(1);
}

static int helper(struct helper_fds *h, int fd, int base)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);

	close(fd);
	if (nfd < 0)
		return -1;
	h->all[h->nall++] = nfd;
	return nfd;
}

/* Opens what the restorer reads from, above every fd of the image. */
/* The pages files of the processes whose copies we share (our ancestors) */
static void open_sources(struct image *img, struct proc_image *p,
			 struct helper_fds *h, int base)
{
	struct proc_image *q;
	size_t r;
	int k, fd;

	for (r = 0; r < p->nruns; r++) {
		pid_t src = p->runs[r].src;

		if (src == p->pid)
			continue;
		for (k = 0; k < h->nsrc && h->src_pid[k] != src; k++)
			;
		if (k < h->nsrc)
			continue;
		q = image_proc(img, src);
		fd = q ? open(q->pages_path, O_RDONLY) : -1;
		fd = fd < 0 ? -1 : helper(h, fd, base);
		if (fd < 0)
			child_fail(h->err_fd, "pages of process %d: %m", src);
		h->src_pid[h->nsrc] = src;
		h->src_fd[h->nsrc++] = fd;
	}
}

/* a file we map: mapping it must not touch its atime */
static int open_noatime(const char *path, int flags)
{
	int fd = open(path, flags | O_NOATIME);

	return fd < 0 && errno == EPERM ? open(path, flags) : fd;
}

static void open_helpers(struct image *img, struct proc_image *p,
			 struct helper_fds *h, int base)
{
	size_t i;
	int fd;

	h->vma_fd = calloc(p->nvmas, sizeof(int));
	h->all = calloc(p->nvmas + p->nruns + 4, sizeof(int));
	h->src_pid = calloc(p->nruns + 1, sizeof(pid_t));
	h->src_fd = calloc(p->nruns + 1, sizeof(int));
	if (!h->vma_fd || !h->all || !h->src_pid || !h->src_fd)
		child_fail(h->err_fd, "out of memory");
	h->nall = 0;
	h->all[h->nall++] = h->err_fd;
	fd = open(p->pages_path, O_RDONLY);
	h->pages_fd = fd < 0 ? -1 : helper(h, fd, base);
	if (h->pages_fd < 0)
		child_fail(h->err_fd, "%s: %m", p->pages_path);
	fd = open_noatime(p->attr.exe, O_RDONLY);
	h->exe_fd = fd < 0 ? -1 : helper(h, fd, base);
	if (h->exe_fd < 0)
		child_fail(h->err_fd, "%s: %m", p->attr.exe);
	open_sources(img, p, h, base);
	for (i = 0; i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];
		bool rw = (v->flags & VMA_F_SHARED) && (v->prot & PROT_WRITE);

		h->vma_fd[i] = -1;
		if (v->kind == VMA_SHMEM) {
			fd = shm_open_object(img, v);
			h->vma_fd[i] = fd < 0 ? -1 : helper(h, fd, base);
			if (h->vma_fd[i] < 0)
				child_fail(h->err_fd, "shared memory at 0x%lx: %m",
					   v->start);
			continue;
		}
		if (v->kind != VMA_FILE)
			continue;
		fd = open_noatime(v->path, rw ? O_RDWR : O_RDONLY);
		h->vma_fd[i] = fd < 0 ? -1 : helper(h, fd, base);
		if (h->vma_fd[i] < 0)
			child_fail(h->err_fd, "%s: %m", v->path);
	}
}

/*
 * Nothing of crfs-restore's own may leak into the restored process: keep
 * only the image's file table and the error pipe, moved above both.
 */
static int isolate_fds(struct image *img, int err_fd, int base)
{
	int fd = fcntl(err_fd, F_DUPFD_CLOEXEC, base);

	if (fd < 0)
		child_fail(err_fd, "cannot move the error pipe: %m");
	if ((img->fd_base > 0 &&
	     syscall(SYS_close_range, 0, img->fd_base - 1, 0)) ||
	    (fd > img->fd_end &&
	     syscall(SYS_close_range, img->fd_end, fd - 1, 0)) ||
	    syscall(SYS_close_range, fd + 1, ~0U, 0))
		child_fail(fd, "close_range: %m");
	return fd;
}

/*
 * Sessions and groups, before any child is forked (children inherit them).
 * A group led by another process may not exist yet when we get here: its
 * leader is restoring in parallel, so try for a while.
 */
static void restore_session(struct image *img, struct proc_image *p,
			    int err_fd)
{
	pid_t pgid = image_vpid(img, p->attr.pgid);
	int i;

	if (p->attr.sid == p->pid && setsid() < 0)
		child_fail(err_fd, "setsid: %m");
	if (pgid == getpgid(0))
		return;
	/* the root joins no group it did not lead: that group is not ours */
	if (p->parent < 0 && p->attr.pgid != p->pid)
		return;
	/* a group inherited from the parent came with the fork */
	if (p->parent >= 0 && p->attr.sid != p->pid &&
	    p->attr.pgid == img->procs[p->parent].attr.pgid)
		return;
	if (p->attr.pgid == p->pid) {
		if (setpgid(0, 0))
			child_fail(err_fd, "setpgid: %m");
		return;
	}
	for (i = 0; setpgid(0, pgid); i++) {
		if (i == 500)
			child_fail(err_fd, "cannot join process group %d: %m",
				   pgid);
		usleep(10000);
	}
}

/* what unshare --mount-proc made: our mounts, private, and a fresh /proc */
static void mount_proc(int err_fd)
{
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(err_fd, "cannot make mounts private: %m");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV,
		  NULL))
		child_fail(err_fd, "cannot mount /proc: %m");
}

static void become_zombie(struct proc_image *p)
{
	int st = p->attr.exit_status;
	sigset_t one;

	if (WIFSIGNALED(st)) {
		signal(WTERMSIG(st), SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, WTERMSIG(st));
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		kill(getpid(), WTERMSIG(st));
	}
	_exit(WEXITSTATUS(st));
}

static pid_t fork_one(struct image *img, size_t i, int err_fd)
{
	pid_t pid = kh_clone_with_pid(img->procs[i].attr.vpid, 0, NULL);

	if (pid == 0)
		restore_child(img, i, -1, err_fd);
	if (pid < 0)
		child_fail(err_fd, "cannot create child %d: %s",
			   img->procs[i].pid, strerror(-pid));
	return pid;
}

static bool joins_session(struct image *img, size_t i, int idx, pid_t sid)
{
	return img->procs[i].parent == idx && needs_session_helper(img, i) &&
	       img->procs[i].attr.sid == sid;
}

static bool joins_group(struct image *img, size_t i, int idx, pid_t pgid)
{
	return img->procs[i].parent == idx && needs_group_helper(img, i) &&
	       img->procs[i].attr.pgid == pgid;
}

/*
 * A helper with the dead leader's pid: it leads the session (or group)
 * again, forks the members, and exits; they fall to our process, the
 * subreaper, which reaps the helper.
 */
static void run_helper(struct image *img, int idx, pid_t id, bool session,
		       int err_fd)
{
	size_t i, k;
	pid_t h, g;

	h = kh_clone_with_pid(id, 0, NULL);
	if (h < 0)
		child_fail(err_fd, "cannot create a leader %d for the %s: %s", id,
			   session ? "session" : "group", strerror(-h));
	if (h > 0) {
		waitpid(h, NULL, __WALL);
		return;
	}
	if (session ? setsid() < 0 : setpgid(0, 0) < 0)
		child_fail(err_fd, "helper %d: %m", id);
	for (i = 0; i < img->nprocs; i++) {
		if (!(session ? joins_session : joins_group)(img, i, idx, id))
			continue;
		g = img->procs[i].attr.pgid;
		if (!session || !needs_group_helper(img, i)) {
			fork_one(img, i, err_fd);
			continue;
		}
		/* the first member of each leaderless group brings it up */
		for (k = 0; k < i; k++)
			if (joins_group(img, k, idx, g))
				break;
		if (k == i)
			run_helper(img, idx, g, false, err_fd);
	}
	_exit(0);
}

static void fork_children(struct image *img, int idx, int err_fd)
{
	size_t i, k;

	for (i = 0; i < img->nprocs; i++)
		if (img->procs[i].parent == idx && !needs_session_helper(img, i))
			fork_one(img, i, err_fd);
	for (i = 0; i < img->nprocs; i++) {
		if (img->procs[i].parent != idx || !needs_session_helper(img, i))
			continue;
		for (k = 0; k < i; k++)
			if (joins_session(img, k, idx, img->procs[i].attr.sid))
				break;
		if (k < i)
			continue;
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
			child_fail(err_fd, "PR_SET_CHILD_SUBREAPER: %m");
		run_helper(img, idx, img->procs[i].attr.sid, true, err_fd);
	}
}

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static void restore_sigactions(struct proc_image *p, int err_fd)
{
	struct ksigaction ka;
	int sig;

	for (sig = 1; sig <= CRFS_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		memcpy(&ka, &p->sa[sig - 1], sizeof(ka));
		if (syscall(SYS_rt_sigaction, sig, &ka, NULL, 8))
			child_fail(err_fd, "signal %d: rt_sigaction: %m", sig);
	}
}

static void restore_limits(struct proc_image *p, int err_fd)
{
	struct rlimit cur, want;
	int i;

	for (i = 0; i < CRFS_NLIMITS; i++) {
		want.rlim_cur = p->rl[i].cur;
		want.rlim_max = p->rl[i].max;
		if (!setrlimit(i, &want))
			continue;
		getrlimit(i, &cur);
		child_fail(err_fd, "limit '%s' (soft %lu, hard %lu): %m (this host allows at most %lu)",
			   crfs_rlimit_names[i], want.rlim_cur, want.rlim_max,
			   cur.rlim_max);
	}
}

static void restore_misc(struct image *img, struct proc_image *p,
			 struct helper_fds *h)
{
	int err_fd = h->err_fd;
	int ret = ghost_enter(p->attr.cwd, p->attr.root, img->dir, &h->root_fd);

	if (ret)
		child_fail(err_fd, "working directory %s, root directory %s: %s",
			   p->attr.cwd, p->attr.root, strerror(-ret));
	umask(p->attr.umask);
	if (personality(p->attr.personality) < 0)
		child_fail(err_fd, "personality 0x%lx: %m", p->attr.personality);
	prctl(PR_SET_NAME, p->attr.comm, 0, 0, 0);
	if (p->attr.child_subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		child_fail(err_fd, "PR_SET_CHILD_SUBREAPER: %m");
	/* the root's parent is crfs-restore now, whose exit must not count */
	if (p->attr.pdeathsig && p->parent >= 0 &&
	    prctl(PR_SET_PDEATHSIG, p->attr.pdeathsig, 0, 0, 0))
		child_fail(err_fd, "PR_SET_PDEATHSIG: %m");
	if (p->attr.no_new_privs)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/*
 * glibc registered rseq at our TLS, which is about to vanish.  Unregistering
 * needs the length the kernel was given, which can be larger than the
 * __rseq_size glibc reports (its feature size): try both.
 */
static void drop_rseq(int err_fd)
{
	char *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return;
	if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER,
		    RSEQ_SIG) &&
	    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		child_fail(err_fd, "cannot unregister our rseq area: %m");
}

void restore_child(struct image *img, int idx, int go_fd, int err_fd)
{
	struct proc_image *p = &img->procs[idx];
	struct helper_fds h = { 0 };
	sigset_t all;
	int base;
	char c;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* the root waits until crfs-restore traces it; the rest are traced
	 * from birth (PTRACE_O_TRACEFORK) */
	if (go_fd >= 0) {
		if (read(go_fd, &c, 1) != 1)
			_exit(1);
		close(go_fd);
	}
	if (idx == 0 && p->attr.proc_mount)
		mount_proc(err_fd);
	restore_session(img, p, err_fd);
	fork_children(img, idx, err_fd);
	if (p->attr.zombie)
		become_zombie(p);
	base = p->nfds ? p->fds[p->nfds - 1].fd + 1 : 3;
	h.err_fd = isolate_fds(img, err_fd,
			       base > img->fd_end ? base : img->fd_end);
	files_install(img, p, &h);
	open_helpers(img, p, &h, base);
	restore_misc(img, p, &h);
	restore_sigactions(p, h.err_fd);
	restore_limits(p, h.err_fd);
	restore_timers(p, &h);
	drop_rseq(h.err_fd);
	enter_restorer(p, &h);
}
