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
#include <sched.h>
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

#include "page_src.h"
#include "kh.h"
#include "restore.h"
#include "mounts.h"
#include "cgroup.h"
#include "files.h"
#include "ghost.h"
#include "ns.h"
#include "lazy.h"
#include "fill_helper.h"

static int helper(struct helper_fds *h, int fd, int base)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);

	close(fd);
	if (nfd < 0)
		return -1;
	h->all[h->nall++] = nfd;
	return nfd;
}

static int lazy_helper(void *h, int fd, int base)
{
	return helper(h, fd, base);
}

/* Opens what the restorer reads from, above every fd of the image. */
/* The pages files of the processes whose copies we share (our ancestors) */
static void open_sources(struct image *img, struct proc_image *p,
			 struct helper_fds *h, int base)
{
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
		fd = image_open_src(img, src, O_RDONLY);
		fd = fd < 0 ? -1 : helper(h, fd, base);
		if (fd < 0)
			child_fail(h->err_fd, "pages of process %d: %m", src);
		h->src_pid[h->nsrc] = src;
		h->src_fd[h->nsrc++] = fd;
	}
}

/* a file we map: mapping it must not touch its atime */
int open_noatime(const char *path, int flags)
{
	int fd = open(path, flags | O_NOATIME);

	return fd < 0 && errno == EPERM ? open(path, flags) : fd;
}

static void open_helpers(struct image *img, struct proc_image *p,
			 struct helper_fds *h, int base)
{
	ssize_t *owner;
	size_t i;
	int fd;

	h->vma_fd = calloc(p->nvmas, sizeof(int));
	h->all = calloc(p->nvmas + p->nruns + 7, sizeof(int));
	h->src_pid = calloc(p->nruns + 1, sizeof(pid_t));
	h->src_fd = calloc(p->nruns + 1, sizeof(int));
	if (!h->vma_fd || !h->all || !h->src_pid || !h->src_fd)
		child_fail(h->err_fd, "out of memory");
	h->nall = 0;
	h->all[h->nall++] = h->err_fd;
	fd = page_src_open(p, O_RDONLY);
	h->pages_fd = fd < 0 ? -1 : helper(h, fd, base);
	if (h->pages_fd < 0)
		child_fail(h->err_fd, "%s: %m", p->pages_path);
	fd = exe_open(img, p);
	h->exe_fd = fd < 0 ? -1 : helper(h, fd, base);
	if (h->exe_fd < 0)
		child_fail(h->err_fd, "executable %s: %s", p->attr.exe,
			   strerror(fd < 0 ? -fd : errno));
	if (lazy_helpers(lazy_helper, h, base))
		child_fail(h->err_fd, "lazy: cannot move the handler's socket or /dev/userfaultfd: %m");
	/* a table shared with our parent has its socket: it fills alone */
	fd = p->attr.shares_files ? -1 : fill_take_fd(&h->fill_first);
	h->fill_sk = fd < 0 ? -1 : helper(h, fd, base);
	open_sources(img, p, h, base);
	owner = calloc(p->nvmas ?: 1, sizeof(*owner));
	if (!owner || vma_owners(p, owner) < 0)
		child_fail(h->err_fd, "out of memory");
	for (i = 0; i < p->nvmas; i++) {
		const struct crfs_vma *v = &p->vmas[i];
		bool rw = vma_needs_rw(v);

		h->vma_fd[i] = -1;
		/* the object's first mapping opened it for all of them */
		if (owner[i] >= 0 && (size_t)owner[i] != i) {
			h->vma_fd[i] = h->vma_fd[owner[i]];
			continue;
		}
		if (v->kind == VMA_SHMEM || v->kind == VMA_DELETED) {
			fd = shm_open_object(img, v);
			h->vma_fd[i] = fd < 0 ? -1 : helper(h, fd, base);
			if (h->vma_fd[i] < 0)
				child_fail(h->err_fd, "shared memory at 0x%lx: %m",
					   v->start);
			continue;
		}
		if (v->kind == VMA_PACKET) {
			fd = packet_ring_fd(img, p, v);
			h->vma_fd[i] = fd < 0 ? -1 : helper(h, fd, base);
			if (h->vma_fd[i] < 0)
				child_fail(h->err_fd, "the packet ring at 0x%lx: socket %lu is no packet socket of the process with rings of %lu bytes",
					   v->start, v->shm_ino, v->end - v->start);
			continue;
		}
		if (v->kind != VMA_FILE)
			continue;
		fd = open_noatime(v->path, rw ? O_RDWR : O_RDONLY);
		h->vma_fd[i] = fd < 0 ? -1 : helper(h, fd, base);
		if (h->vma_fd[i] < 0)
			child_fail(h->err_fd, "%s: %m", v->path);
	}
	free(owner);
}

/*
 * Nothing of crfs-restore's own may leak into the restored process: keep
 * only the image's file table and the error pipe, moved above both.
 */
static int isolate_fds(struct image *img, int err_fd, int base)
{
	int fd = fcntl(err_fd, F_DUPFD_CLOEXEC, base), last;

	if (fd < 0)
		child_fail(err_fd, "cannot move the error pipe: %m");
	/* The old number is closed here, not left to the close_range()s
	 * below: it may lie between fd and last, among the fds kept above
	 * it (the fill helper's socket went above it), and would stay open
	 * in the restored process, or be the number an epoll interest of
	 * the image is added on (install.c add_borrowed) */
	close(err_fd);
	last = fill_keep_fd(lazy_keep_fd(page_src_keep_fds(img,
						 userns_keep_fd(pidns_keep_fds(fd), fd))));
	if ((img->fd_base > 0 &&
	     syscall(SYS_close_range, 0, img->fd_base - 1, 0)) ||
	    (fd > img->fd_end &&
	     syscall(SYS_close_range, img->fd_end, fd - 1, 0)) ||
	    syscall(SYS_close_range, last + 1, ~0U, 0))
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
	pid_t pgid = image_pid_in(img, p, p->attr.pgid);
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

/* ps and /proc show a zombie's name: its own, not ours */
static void become_zombie(struct proc_image *p)
{
	prctl(PR_SET_NAME, p->attr.comm);
	kh_end_as(p->attr.exit_status);
}

/*
 * A child that shares our descriptor table gets an error pipe of its own
 * in it: our restorer closes ours.
 */
static pid_t fork_one(struct image *img, size_t i, int err_fd)
{
	const struct crfs_attr *a = &img->procs[i].attr;
	uint64_t flags = (a->shares_files ? CLONE_FILES : 0) |
			 (a->shares_fs ? CLONE_FS : 0);
	int efd = err_fd;
	pid_t pid;

	if (a->shares_files) {
		efd = fcntl(err_fd, F_DUPFD_CLOEXEC, err_fd);
		if (efd < 0)
			child_fail(err_fd, "error pipe for child %d: %m",
				   img->procs[i].pid);
	}
	pid = pidns_clone(img, img->procs[i].parent, i, flags, err_fd);
	if (pid == 0)
		restore_child(img, i, -1, efd);
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
		if (img->procs[i].attr.shares_files ||
		    img->procs[i].attr.shares_fs)
			child_fail(err_fd, "process %d shares its parent's files or fs but needs a session or group leader helper (not supported)",
				   img->procs[i].pid);
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

/*
 * Children that share our descriptor table come second (sharing true),
 * once it is in place; the rest need the image's table, closed by then.
 */
static void fork_children(struct image *img, int idx, int err_fd,
			  bool sharing)
{
	size_t i, k;
	int stubs, late;

	/* stand-in group leaders once, around the first pass */
	stubs = sharing ? -1 : group_stubs_start(img, idx, err_fd);
	/* late: children in a namespace whose init our other children may
	 * bring up */
	for (late = 0; late < 2; late++)
		for (i = 0; i < img->nprocs; i++)
			if (img->procs[i].parent == idx && !is_vm_kid(img, i) &&
			    !needs_session_helper(img, i) &&
			    !!img->procs[i].attr.shares_files == sharing &&
			    pidns_enters(img, idx, i) == late)
				fork_one(img, i, err_fd);
	if (sharing)
		return;
	pidns_children_own(img, idx, err_fd);
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
	group_stubs_end(img, idx, stubs, err_fd);
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

/*
 * A removed working directory that one of our descriptors holds too
 * (zdtm cwd02): that descriptor's, already in its place, or cwd and
 * descriptor would be two directories.  The freeze refuses one of the
 * same path that is not the same directory (capture.c).  -1: none.
 */
static int cwd_held(const struct image *img, const struct proc_image *p)
{
	char cwd[4096];
	size_t i;

	if (!ghost_path(p->attr.cwd, cwd, sizeof(cwd)))
		return -1;
	for (i = 0; i < p->nfds; i++) {
		const struct crfs_file *f = &img->files[p->fds[i].file - 1];

		if (f->kind == FK_FILE && f->ghost && S_ISDIR(f->mode) &&
		    !strcmp(f->path, cwd))
			return p->fds[i].fd;
	}
	return -1;
}

/* with CLONE_FS, our parent sets them for both of us */
static void restore_fs(struct image *img, struct proc_image *p,
		       struct helper_fds *h)
{
	int ret, held = cwd_held(img, p);

	h->root_fd = -1;
	if (p->attr.shares_fs)
		return;
	/* a deleted cwd or root is made again for a moment (ghost.c); a
	 * held one is not made twice */
	ret = ghost_enter(held >= 0 ? "/" : p->attr.cwd, p->attr.root,
			  img->dir, &h->root_fd);
	if (!ret && held >= 0 && fchdir(held))
		ret = -errno;
	if (ret)
		child_fail(h->err_fd, "working directory %s, root directory %s: %s",
			   p->attr.cwd, p->attr.root, strerror(-ret));
	umask(p->attr.umask);
}

/* a one-line /proc/self file, written if it differs */
static void write_self(const char *name, const char *want, int err_fd)
{
	char path[64], have[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		child_fail(err_fd, "%s: %m", path);
	n = read(fd, have, sizeof(have) - 1);
	have[n > 0 ? n : 0] = 0;
	if (strtol(have, NULL, 0) != strtol(want, NULL, 0) &&
	    pwrite(fd, want, strlen(want), 0) < 0)
		child_fail(err_fd, "%s %s: cannot set it%s: %m", name, want,
			   errno == EACCES ? " (lowering it takes CAP_SYS_RESOURCE)" : "");
	close(fd);
}

/*
 * Each bit of MEMBARRIER_CMD_GET_REGISTRATIONS is the MEMBARRIER_CMD_
 * REGISTER_* command that made it; they belong to the memory, which the
 * restorer keeps.
 */
static void restore_membarrier(uint64_t mask, int err_fd)
{
	int bit;

	for (bit = 0; bit < 31; bit++)
		if ((mask & (1ULL << bit)) &&
		    syscall(SYS_membarrier, 1 << bit, 0, 0))
			child_fail(err_fd, "membarrier registration 0x%x: %m",
				   1 << bit);
}

/*
 * OOM score, core dump filter, audit login uid, THP and machine-check
 * policy.  All but the last belong to the memory, the signal struct or
 * the process's credentials and so to every thread; the machine-check
 * policy is per thread, and the threads the restorer makes inherit the
 * main thread's.
 */
static void restore_mm_attrs(const struct proc_image *p, int err_fd)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", p->attr.oom_score_adj);
	write_self("oom_score_adj", v, err_fd);
	snprintf(v, sizeof(v), "0x%lx", p->attr.coredump_filter);
	write_self("coredump_filter", v, err_fd);
	/* the audit login uid (it starts a new audit session id) */
	snprintf(v, sizeof(v), "%u", p->attr.loginuid);
	write_self("loginuid", v, err_fd);
	/* bit 0: disabled; the rest are PR_SET_THP_DISABLE's flags */
	if (p->attr.thp_disable &&
	    prctl(PR_SET_THP_DISABLE, 1, p->attr.thp_disable & ~1, 0, 0))
		child_fail(err_fd, "PR_SET_THP_DISABLE %d: %m",
			   p->attr.thp_disable);
	if (p->attr.mce_kill != PR_MCE_KILL_DEFAULT &&
	    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, p->attr.mce_kill, 0, 0))
		child_fail(err_fd, "PR_MCE_KILL %d: %m", p->attr.mce_kill);
	restore_membarrier(p->attr.membarrier, err_fd);
}

static void restore_misc(struct image *img, struct proc_image *p,
			 struct helper_fds *h)
{
	int err_fd = h->err_fd;

	restore_fs(img, p, h);
	if (personality(p->attr.personality) < 0)
		child_fail(err_fd, "personality 0x%lx: %m", p->attr.personality);
	prctl(PR_SET_NAME, p->attr.comm, 0, 0, 0);
	if (p->attr.child_subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		child_fail(err_fd, "PR_SET_CHILD_SUBREAPER: %m");
	/*
	 * The parent-death signal is set by the restorer after the
	 * credentials (changing them clears it).  The root's parent is
	 * crfs-restore now, which waits for it; with --detach it exits at
	 * once, and its exit must not count (main.c says so).
	 */
	if (p->parent < 0 && img->detach) {
		size_t i;

		p->attr.pdeathsig = 0;
		for (i = 0; i < p->nthreads; i++)
			p->threads[i].pdeathsig = 0;
	}
	if (p->attr.no_new_privs)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	restore_mm_attrs(p, err_fd);
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
	uint64_t all = ~0ULL;
	int base;
	char c;

	/* glibc's sigprocmask never blocks its own SIGCANCEL and SIGSETXID
	 * (32, 33), and a timer of the image may signal 32 (glibc's
	 * SIGEV_THREAD timers do) the moment it is armed: ask the kernel */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	/* the root waits until crfs-restore traces it; the rest are traced
	 * from birth (PTRACE_O_TRACEFORK) */
	if (go_fd >= 0) {
		if (read(go_fd, &c, 1) != 1)
			_exit(1);
		close(go_fd);
	}
	/* before any of the image's code runs, and before our children */
	cgroup_enter(img, idx, err_fd);
	netns_sub_enter(img, idx, err_fd);
	if (idx == 0)
		userns_enter_root(err_fd);
	if (idx == 0 && p->attr.proc_mount)
		mount_proc(err_fd);
	if (idx == 0)
		mnt_child(img, err_fd);
	restore_session(img, p, err_fd);
	claim_ctty(img, p, err_fd);
	if (!p->attr.zombie)
		ipc_sysv_sempids(p->pid, err_fd);
	fs_share_prepare(img, idx, err_fd);
	cow_prepare(img, idx, err_fd);
	vm_share_prepare(img, idx);
	fork_children(img, idx, err_fd, false);
	if (p->attr.zombie)
		become_zombie(p);
	base = p->nfds ? p->fds[p->nfds - 1].fd + 1 : 3;
	/* a table shared with our parent is its, already in place */
	h.err_fd = p->attr.shares_files ? err_fd :
		   isolate_fds(img, err_fd,
			       base > img->fd_end ? base : img->fd_end);
	files_install(img, p, &h);
	fork_children(img, idx, h.err_fd, true);
	pidns_drop_fds();
	cow_after_forks(img, idx, h.err_fd);
	open_helpers(img, p, &h, base);
	page_src_drop_fds(img);
	h.pidns_fd = pidns_children_done(img, idx, h.err_fd);
	if (h.pidns_fd >= 0 && (h.pidns_fd = helper(&h, h.pidns_fd, base)) < 0)
		child_fail(h.err_fd, "cannot move the pidfd of our children's pid namespace: %m");
	/* /proc may not exist inside the root we are about to enter */
	if (kh_vdso_layout(0, h.vdso, 4, &h.nvdso))
		child_fail(h.err_fd, "cannot read our own vDSO layout");
	fs_share_done(h.err_fd);
	restore_misc(img, p, &h);
	restore_sigactions(p, h.err_fd);
	restore_limits(p, h.err_fd);
	restore_timers(p, &h);
	/* last: our pids and limits were chosen with our privileges */
	userns_join_user(&p->creds, h.err_fd);
	drop_rseq(h.err_fd);
	enter_restorer(p, &h);
}
