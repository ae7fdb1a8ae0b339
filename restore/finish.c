// SPDX-License-Identifier: MIT
/*
 * The last step, done from outside: the restorer traps, we unmap it by
 * running munmap on its own "syscall" instruction (the task stops on the
 * way out, before it could fetch the next one), then load the saved
 * registers, XSAVE state and signal mask and let the task go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kh.h"
#include "restore.h"
#include "files.h"
#include "restorer.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int child_gone(int st, int err_fd, char *err, size_t errlen)
{
	char msg[1024];
	ssize_t n = read(err_fd, msg, sizeof(msg) - 1);

	if (n > 0) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		return ERR("%s", msg);
	}
	if (WIFSIGNALED(st))
		return ERR("restoring process died of signal %d", WTERMSIG(st));
	return ERR("restoring process exited with status %d", WEXITSTATUS(st));
}

static int load_task_state(pid_t tid, const struct crfs_thread *th)
{
	struct user_regs_struct regs;
	int ret;

	memcpy(&regs, th->regs, sizeof(regs));
	kh_syscall_restart(&regs, KH_RESTART_FRESH);
	ret = kh_set_regs(tid, &regs);
	ret = ret ?: kh_set_xstate(tid, th->xstate, th->xstate_size);
	return ret ?: kh_set_sigmask(tid, th->blocked);
}

/* One per task we wait for: a thread at its final trap, or a zombie. */
struct slot {
	pid_t key;		/* pid or tid at the first level we set */
	pid_t tid;		/* as we see it, once seen */
	struct proc_image *p;
	int thread;		/* -1: a process that must end as a zombie */
	bool done;
	uint64_t blob, blob_len;
	uint64_t trap_sp;	/* the restorer's stack at its trap */
};

static void add_helper(struct slot *s, size_t *n, pid_t pid)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (s[i].key == pid)
			return;
	s[(*n)++] = (struct slot){ .key = pid, .thread = -1 };
}

static struct slot *make_slots(struct image *img, size_t *n)
{
	struct slot *s;
	size_t i, k, total = 0;

	for (i = 0; i < img->nprocs; i++)
		total += (img->procs[i].attr.zombie ? 1 :
			  img->procs[i].nthreads) + 2;	/* + helpers */
	s = calloc(total ?: 1, sizeof(*s));
	if (!s)
		return NULL;
	*n = 0;
	for (i = 0; i < img->nprocs; i++) {
		struct proc_image *p = &img->procs[i];

		/* leaders re-created for a while, which must exit */
		if (needs_session_helper(img, i))
			add_helper(s, n, p->attr.sid);
		if (needs_group_helper(img, i) || needs_group_stub(img, i))
			add_helper(s, n, p->attr.pgid);
		if (p->attr.zombie) {
			s[(*n)++] = (struct slot){
				.key = pidns_key(img, p->attr.nspid,
						 p->attr.nspid_n),
				.p = p, .thread = -1 };
			continue;
		}
		for (k = 0; k < p->nthreads; k++)
			s[(*n)++] = (struct slot){
				.key = pidns_key(img, p->threads[k].nstid,
						 p->threads[k].nstid_n),
				.p = p, .thread = k };
	}
	return s;
}

/*
 * In a new pid namespace the kernel chose our view of its pids: map back
 * to the first level we set, the new namespace's
 */
static struct slot *find_slot(struct slot *s, size_t n, pid_t tid,
			      bool new_pidns)
{
	pid_t key = tid;
	size_t i;

	if (new_pidns && kh_ns_pid_at(tid, 1, &key))
		key = tid;
	for (i = 0; i < n; i++)
		if (s[i].key == key) {
			s[i].tid = tid;
			return &s[i];
		}
	return NULL;
}

/*
 * Every new task starts in a ptrace stop (we trace forks and clones) and
 * is let go; each thread ends at the restorer's int3, each zombie-to-be
 * exits.  Anything else is a failed restore.
 */
static int wait_all(struct slot *s, size_t n, bool new_pidns, int err_fd,
		    char *err, size_t errlen)
{
	struct user_regs_struct regs;
	size_t left = n;
	struct slot *sl;
	pid_t tid;
	int st;

	while (left) {
		tid = waitpid(-1, &st, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			return ERR("waitpid: %s", strerror(errno));
		}
		sl = find_slot(s, n, tid, new_pidns);
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (sl && sl->thread < 0 && !sl->done) {
				sl->done = true;
				left--;
				continue;
			}
			return child_gone(st, err_fd, err, errlen);
		}
		if (!WIFSTOPPED(st))
			continue;
		if (sl && sl->thread < 0 && !sl->done && !(st >> 16)) {
			/* a zombie-to-be ending by its signal: let it */
			ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(st));
			continue;
		}
		if (st >> 16) {		/* fork, clone or initial stop */
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		kh_get_regs(tid, &regs);
		if (WSTOPSIG(st) != SIGTRAP || !sl || sl->done || sl->thread < 0)
			return ERR("task %d stopped by signal %d at 0x%llx while restoring",
				   tid, WSTOPSIG(st), regs.rip);
		sl->blob = regs.rax;
		sl->blob_len = regs.rdx;
		sl->trap_sp = regs.rsp;
		sl->done = true;
		left--;
	}
	return 0;
}

/* munmap the restorer from its own syscall instruction, by the main thread */
static int drop_restorer(struct slot *sl)
{
	struct kh_remote r;
	long ret;

	ret = kh_remote_open(&r, sl->tid, sl->blob + RST_GADGET_OFF);
	if (ret)
		return ret;
	ret = kh_remote_syscall(&r, __NR_munmap, sl->blob, sl->blob_len, 0, 0,
				0, 0);
	close(r.memfd);
	return ret;
}

/*
 * The restorer's int3 raised SIGTRAP with every signal blocked, and a
 * forced signal that is blocked or ignored resets its action to SIG_DFL:
 * put the saved one back, once per table of handlers (only where it is
 * not SIG_DFL: a syscall fewer under a seccomp filter).  Its struct goes
 * below the restorer's stack pointer, a stack nobody runs on any more.
 */
static int restore_trap_action(struct slot *sl)
{
	const struct crfs_sigaction *sa = &sl->p->sa[SIGTRAP - 1];
	struct kh_remote r;
	long ret;

	ret = kh_remote_open(&r, sl->tid, sl->blob + RST_GADGET_OFF);
	if (ret)
		return ret;
	ret = kh_remote_sigaction(&r, SIGTRAP, sa, sizeof(*sa),
				  ((sl->trap_sp - 512) & ~15ULL));
	close(r.memfd);
	return ret;
}

/*
 * The own queue of a thread the restorer left out (thread_queues_own: a
 * SIGTRAP in it, or a signal only the thread may queue to itself),
 * queued by the thread, at its trap, in its order; each siginfo goes
 * below its restorer's stack pointer.  Those a timer queues itself
 * (fire_timers) it did already.
 */
static int requeue_own(struct slot *sl)
{
	const struct crfs_thread *th = &sl->p->threads[sl->thread];
	uint64_t at = (sl->trap_sp - 1024) & ~15ULL;
	const struct crfs_pending *q;
	struct kh_remote r;
	size_t i;
	long ret;

	if (!thread_queues_own(sl->p, sl->thread))
		return 0;
	ret = kh_remote_open(&r, sl->tid, sl->blob + RST_GADGET_OFF);
	if (ret)
		return (int)ret;
	for (i = 0; !ret && i < th->npending; i++) {
		q = &th->pending[i];
		if (timer_fires_for(sl->p, q))
			continue;
		ret = kh_remote_poke(&r, at, q->info, sizeof(q->info)) ?:
		      kh_remote_syscall(&r, __NR_rt_tgsigqueueinfo,
					sl->p->attr.vpid, th->vtid, q->signo,
					at, 0, 0);
	}
	close(r.memfd);
	return (int)ret;
}

/* the main thread of a process whose leader had exited: it exits again */
static bool exited_leader(const struct slot *sl)
{
	return sl->thread == 0 && sl->p->attr.leader_exited;
}

/*
 * Let each exited leader go from its trap: the restorer has it exit alone
 * (its code is still mapped; its process's other threads wait at theirs).
 * Once /proc shows it a zombie, its restorer can go.
 */
static int leaders_exit(struct slot *s, size_t n, char *err, size_t errlen)
{
	struct kh_stat st;
	size_t i;
	int tries;

	for (i = 0; i < n; i++) {
		if (!exited_leader(&s[i]))
			continue;
		if (kh_detach(s[i].tid, 0))
			return ERR("cannot let the exited main thread %d exit: %s",
				   s[i].tid, strerror(errno));
		for (tries = 0; tries < 20000; tries++) {
			if (kh_proc_stat(s[i].tid, &st) || st.state == 'Z')
				break;
			usleep(500);
		}
		if (st.state != 'Z')
			return ERR("the exited main thread %d did not exit again",
				   s[i].tid);
	}
	return 0;
}

/* the main thread of p's parent, which is let go after p */
static pid_t parent_tid(struct image *img, struct slot *s, size_t n,
			const struct proc_image *p)
{
	size_t i;

	for (i = 0; p->parent >= 0 && i < n; i++)
		if (s[i].thread == 0 && s[i].p == &img->procs[p->parent])
			return s[i].tid;
	return 0;
}

/*
 * Children and threads first, the root last; a stopped process stops.
 * The hand-over is not one step: a task let go runs at once, while those
 * after it are still ours, killed with us (PTRACE_O_EXITKILL).  Killed in
 * between, we would leave part of the tree running without the rest
 * (t_restorekill once found a child waiting for a root that had died).
 * The tasks it wakes would preempt us on our CPU and stretch that gap to
 * a time slice; as SCHED_FIFO for the loop we are not preempted by them
 * and it is a few detaches long.  Where that is refused, as before.
 */
static long detach_all(struct image *img, struct slot *s, size_t n,
		       char *err, size_t errlen)
{
	struct kh_sched_old old;
	size_t i;
	long ret = 0;
	bool held, unsettled = false;

	for (i = 0; !ret && i < n; i++)
		if (s[i].thread == 0 && !exited_leader(&s[i]))
			ret = stop_queue(s[i].tid, s[i].p);
	held = !ret && !kh_sched_hold(&old);
	for (i = n; !ret && i-- > 0;) {
		if (s[i].thread < 0 || exited_leader(&s[i]))
			continue;
		ret = kh_detach(s[i].tid, 0);
		if (!ret && s[i].thread == 0 &&
		    stop_settle(s[i].tid, s[i].p, parent_tid(img, s, n, s[i].p),
				err, errlen)) {
			unsettled = true;	/* err says which */
			ret = -EINVAL;
		}
	}
	if (held)
		kh_sched_release(&old);
	if (ret && !unsettled)
		snprintf(err, errlen, "cannot hand over to the restored processes: %s",
			 strerror((int)-ret));
	return ret;
}

/*
 * The image holds no inotify event (the freeze refuses queued ones): what
 * is queued now came from the restore itself, files made in a watched
 * directory (an unlinked file made at its name).  Taken once every
 * process is at its trap, all files made.
 */
static int inotify_quiet(struct image *img, struct slot *s, size_t n,
			 char *err, size_t errlen)
{
	const struct crfs_fd *fd;
	size_t i, k;
	int ret;

	for (i = 0; i < n; i++) {
		if (s[i].thread != 0)
			continue;
		for (k = 0; k < s[i].p->nfds; k++) {
			fd = &s[i].p->fds[k];
			if (img->files[fd->file - 1].kind != FK_INOTIFY)
				continue;
			ret = kh_inotify_drain(s[i].tid, fd->fd);
			if (ret)
				return ERR("process %d fd %d: inotify: the restore's own events not taken: %s",
					   s[i].tid, fd->fd, strerror(-ret));
		}
	}
	return 0;
}

int restore_finish(struct image *img, int err_fd, char *err, size_t errlen)
{
	struct slot *s;
	size_t n, i;
	long ret;

	s = make_slots(img, &n);
	if (!s)
		return ERR("out of memory");
	ret = wait_all(s, n, img->new_pidns, err_fd, err, errlen);
	restore_profile("tree: every task made, at its trap");
	if (ret)
		goto out;
	ret = inotify_quiet(img, s, n, err, errlen);
	if (ret)
		goto out;
	restore_pause("stopped");
	for (i = 0; !ret && i < n; i++)
		if (s[i].thread == 0 && !s[i].p->attr.shares_sighand &&
		    s[i].p->sa[SIGTRAP - 1].handler != (uintptr_t)SIG_DFL &&
		    (ret = restore_trap_action(&s[i])))
			snprintf(err, errlen, "process %d: cannot restore the action of SIGTRAP: %s",
				 s[i].tid, strerror((int)-ret));
	for (i = 0; !ret && i < n; i++)
		if (s[i].thread >= 0 && (ret = requeue_own(&s[i])))
			snprintf(err, errlen, "thread %d: cannot queue its pending signals again: %s",
				 s[i].tid, strerror((int)-ret));
	if (ret)
		goto out;
	if (leaders_exit(s, n, err, errlen)) {
		ret = -EINVAL;	/* err says which */
		goto out;
	}
	/* one restorer per mm: a child sharing it traps in its parent's;
	 * where the leader has exited, its next thread unmaps it */
	for (i = 0; !ret && i < n; i++)
		if (s[i].thread == 0 && !s[i].p->attr.shares_vm)
			ret = drop_restorer(&s[i + exited_leader(&s[i])]);
	for (i = 0; !ret && i < n; i++)
		if (s[i].thread >= 0 && !exited_leader(&s[i]))
			ret = load_task_state(s[i].tid,
					      &s[i].p->threads[s[i].thread]);
	for (i = 0; !ret && i < n; i++)
		if (s[i].thread >= 0 &&
		    restore_sched(s[i].tid, &s[i].p->threads[s[i].thread],
				  err, errlen)) {
			ret = -EINVAL;	/* err says which thread and step */
			goto out;
		}
	if (!ret) {
		restore_pause("state");
		restore_profile("tree: registers and state");
		/*
		 * Before the tasks go, not after: once they run, our death
		 * (SIGKILL, no chance to clean up) must not leave their
		 * connections' packets dropped.  Only a failed ptrace detach
		 * can still fail the restore now.
		 */
		tcp_unlock(img);
		restore_profile("tree: TCP lock lifted");
		ret = detach_all(img, s, n, err, errlen);
	}
	else
		snprintf(err, errlen, "cannot hand over to the restored processes: %s",
			 strerror((int)-ret));
out:
	free(s);
	return ret ? -EINVAL : 0;
}
