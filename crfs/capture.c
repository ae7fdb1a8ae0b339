// SPDX-License-Identifier: MIT
/*
 * Capture of one frozen process: what ptrace and /proc tell directly, plus
 * the few facts only the task can report (signal handlers, sigaltstack,
 * brk, ...), asked through remote syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/kcmp.h>

#include "kh.h"
#include "snapshot.h"
#include "crfs/array.h"

/* Kernel's struct sigaction (rt_sigaction), not glibc's */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

struct kstack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

struct kitimerval {
	int64_t isec, iusec, vsec, vusec;
};

struct timer_read {
	uint64_t left;		/* time left as read */
	bool bound;		/* CLOCK_THREAD_CPUTIME_ID: cpu_tid is known */
};

struct task_facts {
	struct crfs_sigaction sa[CRFS_NSIG];
	uint64_t brk;
	uint32_t securebits;
	int dumpable;
	int child_subreaper;
	int pdeathsig;
	int no_new_privs;	/* the main thread's */
	int thp_disable, mce_kill;	/* prctl, asked of the process */
	struct crfs_timer *timers;	/* armed interval timers, POSIX timers */
	struct timer_read *reads;	/* one per timer */
	size_t ntimers;
	int nthreads;
	/* ITIMER_VIRTUAL, ITIMER_PROF: disarmed while we run in the task */
	struct kitimerval held[3];
	unsigned int held_mask;
	int mlockall;		/* MCL_FUTURE, MCL_ONFAULT */
	int memory_merge;
	long mdwe;		/* PR_GET_MDWE; negative: none */
	long membarrier;	/* registrations; negative: none asked */
	/* a page mapped in the process for what its threads' syscalls
	 * write: one for all its threads (a new mapping and its first
	 * touch stalled the freeze 1-15 ms each on a loaded VM); 0: none */
	long scratch;
};

/* not in glibc's headers */
#define PR_GET_MEMORY_MERGE_ 68
#define PR_GET_MDWE_ 66
#define PR_GET_IO_FLUSHER_ 58
#define ARCH_GET_CPUID_ 0x1011
#define MEMBARRIER_CMD_GET_REGISTRATIONS_ (1 << 9)

struct ktimespec {
	int64_t sec, nsec;
};


static uint64_t ns(const struct ktimespec *t)
{
	return t->sec * 1000000000ULL + t->nsec;
}

/*
 * A periodic timer whose signal is still queued is not running: the kernel
 * re-arms it when the signal is dequeued (ITIMER_REAL's SIGALRM, a POSIX
 * timer's signal), and until then it shows 0 time left.  Restored with 0
 * it would stay disarmed for good; armed for one period it sends a signal
 * that merges with the queued one, and re-arms the same way.
 */
static void rearm_pending(struct crfs_timer *t)
{
	if (!t->value_ns && t->interval_ns)
		t->value_ns = t->interval_ns;
}

static int add_timer(struct task_facts *tf, const struct crfs_timer *t)
{
	struct crfs_timer *nt = array_room(tf->timers, tf->ntimers, sizeof(*nt));
	struct timer_read *nr;

	if (!nt)
		return -ENOMEM;
	tf->timers = nt;
	nr = array_room(tf->reads, tf->ntimers, sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	tf->reads = nr;
	tf->reads[tf->ntimers] = (struct timer_read){ .left = t->value_ns };
	tf->timers[tf->ntimers] = *t;
	rearm_pending(&tf->timers[tf->ntimers++]);
	return 0;
}

/* CPU time, which our syscalls in the task consume too */
static bool cpu_clock(const struct crfs_timer *t)
{
	return t->posix ? t->clock == CLOCK_PROCESS_CPUTIME_ID ||
			  t->clock == CLOCK_THREAD_CPUTIME_ID || t->clock < 0 :
			  t->id != ITIMER_REAL;
}

static int remote_read(struct kh_remote *r, uint64_t addr, void *buf,
		       size_t len)
{
	return kh_mem_read(r->tid, r->memfd, addr, buf, len) == (ssize_t)len ?
	       0 : -EIO;
}

#define RSYS(r, nr, a, b, c, d) kh_remote_syscall(r, nr, a, b, c, d, 0, 0)

/* zeros in the scratch page: nothing we ask writes that far */
#define SCRATCH_ZERO 2048

/*
 * Interval timers (when armed) and POSIX timers, with the time left.
 * The syscalls we run in the task count as its CPU time: ITIMER_VIRTUAL
 * and ITIMER_PROF are read and disarmed at once (setitimer), so they cannot
 * expire between this read and the read of the pending signals, and are
 * given back after (release_cpu_timers).
 */
static long ask_timers(struct kh_remote *r, struct task_facts *tf,
		       long scratch)
{
	struct kitimerval itv;
	struct ktimespec its[2];	/* interval, value */
	struct crfs_timer *pt = NULL, t;
	size_t n = 0, i;
	long ret;
	int which;

	for (which = 0; which < 3; which++) {
		t = (struct crfs_timer){ .id = which };
		if (cpu_clock(&t))
			ret = RSYS(r, __NR_setitimer, which,
				   scratch + SCRATCH_ZERO, scratch, 0);
		else
			ret = RSYS(r, __NR_getitimer, which, scratch, 0, 0);
		if (ret || remote_read(r, scratch, &itv, sizeof(itv)))
			return ret ?: -EIO;
		if (!itv.vsec && !itv.vusec && !itv.isec && !itv.iusec)
			continue;
		if (cpu_clock(&t)) {
			tf->held[which] = itv;
			tf->held_mask |= 1U << which;
		}
		t.value_ns = itv.vsec * 1000000000ULL + itv.vusec * 1000;
		t.interval_ns = itv.isec * 1000000000ULL + itv.iusec * 1000;
		ret = add_timer(tf, &t);
		if (ret)
			return ret;
	}
	ret = kh_proc_timers(r->tid, &pt, &n);
	for (i = 0; !ret && i < n; i++) {
		ret = RSYS(r, __NR_timer_gettime, pt[i].id, scratch, 0, 0);
		if (ret || remote_read(r, scratch, its, sizeof(its))) {
			ret = ret ?: -EIO;
			break;
		}
		pt[i].interval_ns = ns(&its[0]);
		pt[i].value_ns = ns(&its[1]);
		pt[i].overrun = RSYS(r, __NR_timer_getoverrun, pt[i].id, 0, 0, 0);
		ret = add_timer(tf, &pt[i]);
	}
	free(pt);
	return ret;
}

/* What belongs to the whole process: asked once, of its main thread */
static long ask_process(struct kh_remote *r, struct task_facts *tf,
			long scratch)
{
	struct ksigaction ka;
	long ret;
	int sig;

	for (sig = 1; sig <= CRFS_NSIG; sig++) {
		/* SIGKILL and SIGSTOP have no action to read: not asked (two
		 * ptrace stops each, the tree frozen) */
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		ret = RSYS(r, __NR_rt_sigaction, sig, 0, scratch, 8);
		if (ret == -EINVAL)	/* a signal this kernel lacks */
			continue;
		if (ret || remote_read(r, scratch, &ka, sizeof(ka)))
			return ret ?: -EIO;
		memcpy(&tf->sa[sig - 1], &ka, sizeof(ka));
	}
	ret = ask_timers(r, tf, scratch);
	if (ret)
		return ret;
	tf->brk = RSYS(r, __NR_brk, 0, 0, 0, 0);
	tf->securebits = RSYS(r, __NR_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	tf->dumpable = RSYS(r, __NR_prctl, PR_GET_DUMPABLE, 0, 0, 0);
	tf->thp_disable = RSYS(r, __NR_prctl, PR_GET_THP_DISABLE, 0, 0, 0);
	tf->mce_kill = RSYS(r, __NR_prctl, PR_MCE_KILL_GET, 0, 0, 0);
	if (tf->thp_disable < 0 || tf->mce_kill < 0)
		return -EIO;
	/* -EINVAL: a kernel without KSM */
	tf->memory_merge = RSYS(r, __NR_prctl, PR_GET_MEMORY_MERGE_, 0, 0, 0) > 0;
	/* negative: a kernel without them, none set */
	tf->mdwe = RSYS(r, __NR_prctl, PR_GET_MDWE_, 0, 0, 0);
	tf->membarrier = RSYS(r, __NR_membarrier,
			      MEMBARRIER_CMD_GET_REGISTRATIONS_, 0, 0, 0);
	/* pdeathsig and no_new_privs: the main thread's, by ask_refused */
	if (RSYS(r, __NR_prctl, PR_GET_CHILD_SUBREAPER, scratch, 0, 0) ||
	    remote_read(r, scratch, &tf->child_subreaper, sizeof(int)))
		return -EIO;
	return 0;
}

/*
 * MCL_FUTURE shows only in what it does to a new mapping, our scratch page:
 * it is locked (VmLck grew), and populated at once unless MCL_ONFAULT.
 */
static int probe_mlockall(struct kh_remote *r, struct task_facts *tf,
			  uint64_t kb_before, long scratch)
{
	bool present;
	uint64_t kb;
	int ret = kh_vm_locked_kb(r->tid, &kb);

	if (ret || kb <= kb_before)
		return ret;
	tf->mlockall = MCL_FUTURE;
	ret = kh_page_present(r->tid, scratch, &present);
	if (!ret && !present)
		tf->mlockall |= MCL_ONFAULT;
	return ret;
}

/*
 * The thread's NUMA policy: its mode, the flags get_mempolicy ORs into it,
 * and its nodemask (the one asked for, with MPOL_F_STATIC_NODES or
 * _RELATIVE_NODES).  A kernel without NUMA answers -ENOSYS: none.
 */
static long ask_mempolicy(struct kh_remote *r, struct crfs_thread *th,
			  long scratch)
{
	int mode;
	long ret;

	ret = kh_remote_syscall(r, __NR_get_mempolicy, scratch, scratch + 8,
				CRFS_NUMA_NODES, 0, 0, 0);
	if (ret)
		return 0;
	if (remote_read(r, scratch, &mode, sizeof(int)) ||
	    remote_read(r, scratch + 8, &th->mempolicy_nodes, 8))
		return -EIO;
	th->mempolicy = mode & ~CRFS_MPOL_MODE_FLAGS;
	th->mempolicy_flags = (unsigned int)mode & CRFS_MPOL_MODE_FLAGS;
	return 0;
}

/*
 * Per-thread prctl state: the TSC mode (PR_SET_TSC) and the NUMA memory
 * policy (set_mempolicy) are saved; the I/O flusher flag
 * (PR_SET_IO_FLUSHER) and CPUID faulting (ARCH_SET_CPUID) are asked only
 * to be refused.  A kernel without either answers -EINVAL or -ENOSYS:
 * none set.
 */
static long ask_refused(struct kh_remote *r, struct crfs_thread *th,
			long scratch)
{
	long ret;

	ret = RSYS(r, __NR_prctl, PR_GET_TSC, scratch, 0, 0);
	if (!ret && remote_read(r, scratch, &th->tsc_mode, sizeof(int)))
		return -EIO;
	/* the thread's own: a thread's differs from its main thread's */
	if (RSYS(r, __NR_prctl, PR_GET_PDEATHSIG, scratch, 0, 0) ||
	    remote_read(r, scratch, &th->pdeathsig, sizeof(int)))
		return -EIO;
	th->no_new_privs = RSYS(r, __NR_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0) == 1;
	ret = ask_mempolicy(r, th, scratch);
	if (ret)
		return ret;
	/* -EPERM without CAP_SYS_RESOURCE: not asked */
	th->io_flusher = RSYS(r, __NR_prctl, PR_GET_IO_FLUSHER_, 0, 0, 0) == 1;
	/* 1: CPUID works, 0: it faults (ARCH_SET_CPUID) */
	th->cpuid_off = RSYS(r, __NR_arch_prctl, ARCH_GET_CPUID_, 0, 0, 0) == 0;
	return 0;
}

static bool thread_clock(const struct crfs_timer *t)
{
	return t->posix && crfs_own_thread_clock(t->clock);
}

/*
 * Which thread a CLOCK_THREAD_CPUTIME_ID timer counts (the one that made
 * it) shows nowhere.  Read twice from thread tid, it moves only if it
 * counts tid's time: the second read ran on it.
 */
static long probe_thread_clocks(struct kh_remote *r, struct task_facts *pf,
				pid_t tid, bool main, long scratch)
{
	struct ktimespec its[2];
	uint64_t first = 0;
	size_t i;
	long ret;
	int k;

	for (i = 0; i < pf->ntimers; i++) {
		if (!thread_clock(&pf->timers[i]) || !pf->reads[i].left ||
		    pf->reads[i].bound)
			continue;
		for (k = 0; k < 2; k++) {
			ret = RSYS(r, __NR_timer_gettime, pf->timers[i].id,
				   scratch, 0, 0);
			if (ret || remote_read(r, scratch, its, sizeof(its)))
				return ret ?: -EIO;
			if (!k)
				first = ns(&its[1]);
		}
		if (ns(&its[1]) < first) {
			pf->timers[i].cpu_tid = main ? 0 : tid;
			pf->reads[i].bound = true;
		}
	}
	return 0;
}

/* the process's scratch page unmapped, from any of its threads */
static long drop_scratch(struct kh_remote *r, struct task_facts *pf)
{
	long ret = pf->scratch ? RSYS(r, __NR_munmap, pf->scratch, 4096, 0, 0) : 0;

	pf->scratch = 0;
	return ret;
}

/*
 * The main thread maps the process's scratch page (its mlockall probe
 * needs a new mapping anyway), the last thread asked unmaps it.
 */
static int ask_task(struct kh_remote *r, struct task_facts *pf, bool main,
		    bool last, struct crfs_thread *th)
{
	struct task_facts *tf = main ? pf : NULL;
	uint64_t locked_kb = 0;
	struct kstack ks;
	long scratch, ret = 0;

	if (tf && (ret = kh_vm_locked_kb(r->tid, &locked_kb)))
		return ret;
	if (main) {
		scratch = kh_remote_syscall(r, __NR_mmap, 0, 4096,
					    PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (scratch < 0 && scratch > -4096)
			return (int)scratch;
		pf->scratch = scratch;
	}
	scratch = pf->scratch;
	if (!scratch)
		return -EIO;
	if (tf)
		ret = probe_mlockall(r, tf, locked_kb, scratch) ?:
		      ask_process(r, tf, scratch);
	if (ret)
		goto fail;
	ret = RSYS(r, __NR_sigaltstack, 0, scratch, 0, 0);
	if (ret || remote_read(r, scratch, &ks, sizeof(ks)))
		goto fail;
	th->ss_sp = ks.sp;
	th->ss_size = ks.size;
	th->ss_flags = ks.flags;
	ret = RSYS(r, __NR_prctl, PR_GET_TID_ADDRESS, scratch, 0, 0);
	if (ret || remote_read(r, scratch, &th->clear_child_tid, 8))
		goto fail;
	th->securebits = RSYS(r, __NR_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	ret = ask_refused(r, th, scratch);
	if (ret)
		goto fail;
	if (tf) {
		tf->pdeathsig = th->pdeathsig;
		tf->no_new_privs = th->no_new_privs;
	}
	ret = probe_thread_clocks(r, pf, th->tid, main, scratch);
	if (ret)
		goto fail;
	ret = last ? drop_scratch(r, pf) : 0;
	return ret ? (int)ret : 0;
fail:
	drop_scratch(r, pf);
	return ret < 0 ? (int)ret : -EIO;
}

/* tf: the process's facts, asked of its main thread, probed of each */
static int capture_thread(pid_t tid, struct crfs_thread *th,
			  struct task_facts *tf, bool main, bool last,
			  int *pending_sig)
{
	struct kh_remote r;
	struct kh_stat st;
	int ret;

	th->tid = tid;
	th->vtid = tid;
	if (kh_ns_pid(tid, &th->vtid, NULL) || pidns_thread(tid, th) ||
	    kh_proc_stat(tid, &st))
		return -ESRCH;
	/* threads name themselves (PR_SET_NAME, pthread_setname_np) */
	memcpy(th->comm, st.comm, sizeof(th->comm));
	th->xstate = malloc(CRFS_XSTATE_MAX);
	if (!th->xstate)
		return -ENOMEM;
	th->xstate_size = CRFS_XSTATE_MAX;
	/* the session reads the registers and mask the task resumes with
	 * (a thread inside an rseq critical section aborted first) */
	ret = kh_remote_open_stepping(&r, tid);
	if (ret)
		return ret;
	memcpy(th->regs, &r.saved, sizeof(r.saved));
	th->blocked = r.saved_mask;
	ret = kh_get_xstate(tid, th->xstate, &th->xstate_size);
	ret = ret ?: kh_get_robust_list(tid, &th->robust_list,
					&th->robust_list_len);
	ret = ret ?: kh_get_rseq(tid, &th->rseq_ptr, &th->rseq_size,
				 &th->rseq_sig);
	ret = ret ?: ask_task(&r, tf, main, last, th);
	*pending_sig = r.pending_sig;
	return kh_remote_close(&r) ?: ret;
}

/*
 * stat of a process whose leader has exited: its memory fields are a live
 * thread's (the leader has no mm), its name the leader's.
 */
static int attr_stat(pid_t pid, struct kh_stat *st)
{
	struct kh_stat lead;
	int ret = kh_proc_stat(kh_via(pid), st);

	if (ret || kh_via(pid) == pid)
		return ret;
	ret = kh_proc_stat(pid, &lead);
	memcpy(st->comm, lead.comm, sizeof(st->comm));
	return ret;
}

/* a /proc link of something removed */
static bool deleted_link(const char *link)
{
	size_t n = strlen(link);

	return n > 10 && !strcmp(link + n - 10, " (deleted)");
}

/*
 * A removed working directory: restore enters it through a descriptor
 * that holds a removed directory of the same path (zdtm cwd02), refused
 * where that descriptor is another directory; one in /proc is refused.
 */
static void check_removed_cwd(struct snapshot *s, pid_t pid,
			   const struct crfs_attr *a)
{
	int fd;

	if (!deleted_link(a->cwd))
		return;
	/* a /proc directory of a process gone (zdtm unhashed_proc): restore
	 * cannot make one of that name (nor, safely, of another pid) */
	if (kh_link_on_proc(pid, "cwd") == 1) {
		snapshot_report(s, "process %d: its working directory %s is the /proc directory of a process gone: not supported",
				pid, a->cwd);
		return;
	}
	fd = kh_fd_twin_of(pid, "cwd", a->cwd);
	if (fd >= 0)
		snapshot_report(s, "process %d: its removed working directory %s and descriptor %d are two removed directories of one path",
				pid, a->cwd, fd);
}

int capture_attr(pid_t pid, struct crfs_attr *a, struct crfs_creds *c,
		 struct crfs_mm *mm, struct kh_stat *st)
{
	int seccomp, ret;

	ret = attr_stat(pid, st);
	ret = ret ?: kh_proc_status(pid, c, &a->umask, &a->no_new_privs,
				    &seccomp);
	ret = ret ?: kh_proc_link(pid, "exe", &a->exe);
	ret = ret ?: kh_proc_link(pid, "cwd", &a->cwd);
	ret = ret ?: kh_proc_link(pid, "root", &a->root);
	ret = ret ?: kh_proc_personality(pid, &a->personality);
	ret = ret ?: kh_proc_exe_mode(pid, &a->exe_mode);
	ret = ret ?: kh_proc_oom_score_adj(pid, &a->oom_score_adj);
	ret = ret ?: kh_proc_coredump_filter(pid, &a->coredump_filter);
	ret = ret ?: kh_proc_loginuid(pid, &a->loginuid);
	ret = ret ?: kh_proc_auxv(pid, mm->auxv, &mm->auxv_len);
	if (ret)
		return ret;
	a->pid = pid;
	if (kh_ns_pid(pid, &a->vpid, NULL) || pidns_attr(pid, a))
		return -ESRCH;
	a->ppid = st->ppid;
	a->pgid = st->pgid;
	a->sid = st->sid;
	a->nthreads = st->nthreads;
	a->leader_exited = kh_via(pid) != pid;
	memcpy(a->comm, st->comm, sizeof(a->comm));
	mm->start_code = st->start_code;
	mm->end_code = st->end_code;
	mm->start_data = st->start_data;
	mm->end_data = st->end_data;
	mm->start_brk = st->start_brk;
	mm->start_stack = st->start_stack;
	mm->arg_start = st->arg_start;
	mm->arg_end = st->arg_end;
	mm->env_start = st->env_start;
	mm->env_end = st->env_end;
	return 0;
}

/*
 * A tree may live in a pid namespace of its own, one level below ours, if
 * its root is that namespace's init: restore re-creates the namespace.
 */
static bool own_pid_ns(pid_t pid, pid_t root, const char *theirs)
{
	pid_t inner;
	int levels;
	char *rootns;
	bool ok;

	if (kh_ns_pid(pid, &inner, &levels) || levels != 2 ||
	    kh_ns_pid(root, &inner, &levels) || levels != 2 || inner != 1 ||
	    kh_proc_link(root, "ns/pid", &rootns))
		return false;
	ok = !strcmp(rootns, theirs);
	free(rootns);
	return ok;
}

/* "mountpoint fstype source dev opts\tid": the same but for their ids */
static int cmp_mnt(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t nx = strcspn(x, "\t"), ny = strcspn(y, "\t");
	int c = strncmp(x, y, nx < ny ? nx : ny);

	return c ? c : nx < ny ? -1 : nx > ny;
}

/*
 * mountinfo as "mountpoint fstype source dev opts\tid" lines, sorted: a
 * copy of a mount has its super block and its options; a mount of the
 * tree's own in the same place, or one it remounted, does not
 */
static char **mounts(pid_t pid, size_t *n)
{
	char path[64], *buf, *line, *cur, **out = NULL, **nn;
	char mp[4096], fs[256], src[4096], dev[32], opts[1024];
	const char *dash;
	int id;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", kh_via(pid));
	*n = 0;
	if (kh_read_file(path, &buf, NULL))
		return NULL;
	for (cur = buf; (line = strsep(&cur, "\n")) && *line;) {
		dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%d %*s %31s %*s %4095s %1023s", &id, dev, mp,
			   opts) != 4 ||
		    sscanf(dash + 3, "%255s %4095s", fs, src) != 2)
			continue;
		nn = array_room(out, *n, sizeof(*out));
		if (!nn)
			break;
		out = nn;
		if (asprintf(&out[*n], "%s %s %s %s %s\t%d", mp, fs, src, dev,
			     opts, id) < 0)
			break;
		(*n)++;
	}
	free(buf);
	qsort(out, *n, sizeof(*out), cmp_mnt);
	return out;
}

/*
 * unshare --pid --mount-proc: a mount namespace that differs from ours only
 * by a proc mounted on /proc, and by what we mounted since it was copied
 * (capture_mntcopy.c).  Restore can make that one again.
 */
static bool only_proc_differs(pid_t pid)
{
	size_t nm, nt, i = 0, k = 0, extra = 0;
	char **mine = mounts(getpid(), &nm), **theirs = mounts(pid, &nt);
	bool ok = mine && theirs;

	while (ok && (i < nm || k < nt)) {
		int c = i == nm ? 1 : k == nt ? -1 : cmp_mnt(&mine[i], &theirs[k]);

		if (!c) {
			i++;
			k++;
		} else if (c > 0 && !strncmp(theirs[k], "/proc proc ", 11) &&
			   !extra++) {
			k++;
		} else if (c < 0 &&
			   mounted_since_copy(pid, atoi(strchr(mine[i], '\t') + 1))) {
			i++;
		} else {
			ok = false;
		}
	}
	ok = ok && extra == 1;
	for (i = 0; i < nm; i++)
		free(mine[i]);
	for (k = 0; k < nt; k++)
		free(theirs[k]);
	free(mine);
	free(theirs);
	return ok;
}

static bool own_proc_mount(pid_t root, const char *theirs)
{
	char *rootpid, *rootmnt;
	bool ok;

	if (kh_proc_link(root, "ns/pid", &rootpid))
		return false;
	ok = own_pid_ns(root, root, rootpid);
	free(rootpid);
	if (!ok || kh_proc_link(root, "ns/mnt", &rootmnt))
		return false;
	/* the root's view of that namespace, not pid's: a chrooted process
	 * sees only what is under its root (zdtm chroot in a pid namespace),
	 * and every process of one namespace must get one answer */
	ok = !strcmp(rootmnt, theirs) && only_proc_differs(root);
	free(rootmnt);
	return ok;
}

/*
 * What a namespace of the tree's other than ours may be, one row per kind:
 * a pid namespace led by the root, the mount namespace unshare --mount-proc
 * makes with it (2: restore makes it again), the root's own time, UTS,
 * network (capture_ns.c) or IPC namespace (ipc_ns.c).  0: refused.
 */
typedef int (*ns_ok_fn)(struct snapshot *s, pid_t pid, pid_t root,
			const char *name, const char *theirs);

/* which pid namespaces a tree may have: check_pidns (capture_pidns.c) */
static int pid_ns_ok(struct snapshot *s, pid_t pid, pid_t root,
		     const char *name, const char *theirs)
{
	(void)s;
	(void)pid;
	(void)root;
	(void)name;
	(void)theirs;
	return 1;
}

bool mnt_ns_proc_only(pid_t root)
{
	char *theirs;
	bool ok;

	if (kh_proc_link(root, "ns/mnt", &theirs))
		return false;
	ok = own_proc_mount(root, theirs);
	free(theirs);
	return ok;
}

/* 2: ours plus a proc (restore makes it again); else the root's own tree */
static int mnt_ns_ok(struct snapshot *s, pid_t pid, pid_t root,
		     const char *name, const char *theirs)
{
	(void)name;
	return own_proc_mount(root, theirs) ? 2 :
	       mnt_ns_root(s, pid, root, theirs);
}

static int ipc_ns_ok(struct snapshot *s, pid_t pid, pid_t root,
		     const char *name, const char *theirs)
{
	(void)s;
	(void)pid;
	(void)name;
	return in_root_ipc_ns(root, theirs);
}

/*
 * A process that unshared a time namespace its children would enter: not
 * saved, so only the one it is in itself passes (reported here, by name).
 */
static int time_children_ok(struct snapshot *s, pid_t pid, pid_t root,
			    const char *name, const char *theirs)
{
	char *own;

	(void)root;
	(void)name;
	if (kh_proc_link(pid, "ns/time", &own))
		return 0;
	if (strcmp(own, theirs))
		snapshot_report(s, "process %d: unshared a time namespace (%s) for its children: not supported",
				pid, theirs);
	free(own);
	return 1;
}

static int root_ns_ok(struct snapshot *s, pid_t pid, pid_t root,
		      const char *name, const char *theirs)
{
	return ns_check(s, pid, root, name, theirs);
}

static const struct {
	const char *name;
	ns_ok_fn ok;		/* NULL: never checkpointed */
} ns_rows[] = {
	{ "pid", pid_ns_ok },
	{ "mnt", mnt_ns_ok },
	{ "net", netns_sub_ok },
	{ "uts", root_ns_ok },
	{ "ipc", ipc_ns_ok },
	{ "user", root_ns_ok },
	{ "cgroup", cgroup_ns_ok },
	{ "time", root_ns_ok },
	{ "time_for_children", time_children_ok },
};

/*
 * Every namespace of pid that is not ours must be one the image handles;
 * the rest are reported.  Returns 1 for the --mount-proc mount namespace.
 */
static int check_namespaces(struct snapshot *s, pid_t pid, pid_t root)
{
	char path[32], *mine, *theirs;
	int proc_mount = 0, ok;
	size_t i;

	for (i = 0; i < sizeof(ns_rows) / sizeof(ns_rows[0]); i++) {
		snprintf(path, sizeof(path), "ns/%s", ns_rows[i].name);
		if (kh_proc_link(getpid(), path, &mine))
			continue;
		if (!kh_proc_link(pid, path, &theirs)) {
			ok = !strcmp(mine, theirs) ? 1 : ns_rows[i].ok ?
			     ns_rows[i].ok(s, pid, root, ns_rows[i].name,
					   theirs) : 0;
			if (!ok)
				snapshot_report(s, "process %d: in its own %s namespace (%s): namespaces are not supported yet",
						pid, ns_rows[i].name, theirs);
			if (ok == 2)
				proc_mount = 1;
			free(theirs);
		}
		free(mine);
	}
	return proc_mount;
}

/*
 * An executable deleted since comes back from the bytes of its mapping
 * (saved as mapdata/INO): it must be that file, mapped privately.
 */
static void check_exe(struct snapshot *s, const struct proc_snap *p,
		      const char *exe)
{
	size_t n = strlen(exe), i;
	struct stat st;
	char path[64];

	if (!deleted_link(exe))
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", kh_via(p->pid));
	for (i = 0; !stat(path, &st) && i < p->nvmas; i++)
		if (p->vmas[i].kind == VMA_DELETED &&
		    p->vmas[i].shm_ino == st.st_ino &&
		    !strncmp(p->vmas[i].path, exe, n - 10) &&
		    !p->vmas[i].path[n - 10])
			return;
	snapshot_report(s, "process %d: its executable %s is not mapped privately: not supported",
			p->pid, exe);
}

static int add_proc(struct snapshot *s, pid_t pid)
{
	struct proc_snap *np = array_room(s->procs, s->nprocs, sizeof(*np));

	if (!np)
		return -ENOMEM;
	s->procs = np;
	memset(&np[s->nprocs], 0, sizeof(*np));
	np[s->nprocs].pid = pid;
	/* a zombie has no memory to read */
	np[s->nprocs].memfd = kh_mem_open(pid, O_RDONLY);
	s->nprocs++;
	return 0;
}

/* a's part of its object lies inside b's */
static bool covers(const struct crfs_vma *b, const struct crfs_vma *a)
{
	return b->pgoff <= a->pgoff &&
	       b->pgoff + (b->end - b->start) >= a->pgoff + (a->end - a->start);
}

/*
 * A shared memory object's pages are stored once, by its first process,
 * where that process maps all of what we map of it; a part only we map
 * (the first unmapped it: zdtm maps01) is ours to store too.
 */
static void mark_shared_elsewhere(struct snapshot *s, int idx)
{
	struct proc_snap *p = &s->procs[idx];
	size_t i, k;
	int q;

	for (i = 0; i < p->nvmas; i++) {
		if (p->vmas[i].kind != VMA_SHMEM && p->vmas[i].kind != VMA_AIO)
			continue;
		for (q = 0; q < idx; q++)
			for (k = 0; k < s->procs[q].nvmas; k++) {
				if (s->procs[q].vmas[k].kind != p->vmas[i].kind ||
				    s->procs[q].vmas[k].shm_ino !=
				    p->vmas[i].shm_ino)
					continue;
				if (p->vmas[i].kind == VMA_SHMEM) {
					if (covers(&s->procs[q].vmas[k],
						   &p->vmas[i]))
						p->vmas[i].flags |= VMA_F_PAGES_ELSEWHERE;
				} else
					snapshot_report(s, "process %d: maps the AIO ring of process %d's context at 0x%lx (inherited by fork): not supported",
							p->pid, s->procs[q].pid,
							p->vmas[i].start);
			}
	}
}

static int list_own_runs(struct proc_snap *p)
{
	size_t i;

	p->own = calloc(p->nruns ?: 1, sizeof(*p->own));
	if (!p->own)
		return -ENOMEM;
	for (i = 0; i < p->nruns; i++) {
		if (p->runs[i].src != p->pid)
			continue;
		p->own[p->nown++] = i;
		p->pages_size += p->runs[i].npages * 4096;
	}
	crfs_hash_init(&p->stream);
	return 0;
}

/*
 * Whose pages ours may be: the parent, captured before us (parents come
 * first), then the siblings captured before us, nearest first (pages the
 * children of a process share only among themselves).
 */
static size_t donors_of(struct snapshot *s, int idx, pid_t ppid,
			struct kh_parent *q)
{
	size_t n = 0;
	int k;

	for (k = 0; k < idx; k++)
		if (s->procs[k].pid == ppid && s->procs[k].nruns)
			q[n++] = (struct kh_parent){ ppid, s->procs[k].runs,
						     s->procs[k].nruns };
	for (k = idx - 1; k >= 0 && n < KH_MAX_DONORS; k--)
		if (s->procs[k].ppid == ppid && s->procs[k].pid != ppid &&
		    s->procs[k].nruns)
			q[n++] = (struct kh_parent){ s->procs[k].pid,
						     s->procs[k].runs,
						     s->procs[k].nruns };
	return n;
}

/*
 * How to find the mappings' NUMA policies (kh_vma_policies): numa_maps
 * walks every resident page to count pages per node, a question to the
 * task costs two ptrace stops per mapping.  The questions win unless
 * there are many mappings for the memory: one for every 4096 resident
 * pages (16 MiB) or more.  CRFS_VMA_POLICIES=task or numa_maps forces
 * one way (crfs(1)).
 */
static bool ask_each_vma(const struct proc_snap *p)
{
	const char *e = getenv("CRFS_VMA_POLICIES");
	uint64_t pages = 0, kb;
	size_t i;

	if (e && !strcmp(e, "task"))
		return true;
	if (e && !strcmp(e, "numa_maps"))
		return false;
	/*
	 * numa_maps walks every resident page, of files too: weighed by
	 * VmRSS, not by the pages this image stores (after a pre-copy
	 * round only those written since: 1 GiB resident with 6 MB stored
	 * took numa_maps, 33 ms of the last freeze)
	 */
	if (!kh_status_u64(p->pid, "VmRSS", &kb))
		return p->nvmas < kb / 4 / 4096;
	for (i = 0; i < p->nruns; i++)
		pages += p->runs[i].npages;
	return p->nvmas < pages / 4096;
}

/* mappings' own NUMA policies (mbind), in PID/mempolicy when any */
static int capture_vma_policies(struct snapshot *s, struct proc_snap *p,
				const char *dir)
{
	unsigned long long t0 = track_now_ns();
	char path[64];
	int ret, sig;

	ret = kh_vma_policies(p->pid, p->vmas, p->nvmas, ask_each_vma(p),
			      &sig);
	fprof.policies += track_now_ns() - t0;
	if (sig)
		capture_signal_arrived(s, p, p->pid, sig);
	if (ret || !has_vma_policies(p->vmas, p->nvmas))
		return ret;
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_MEMPOLICY);
	return RENDER(s, path, render_vma_policies, p->vmas, p->nvmas);
}

/* the mapping holding guard range g */
static const struct crfs_vma *guard_vma(const struct proc_snap *p,
					const struct crfs_guard *g)
{
	size_t i;

	for (i = 0; i < p->nvmas; i++)
		if (p->vmas[i].start <= g->start && g->end <= p->vmas[i].end)
			return &p->vmas[i];
	return NULL;
}

/*
 * Guard pages (MADV_GUARD_INSTALL), in PID/guards when any: listed only
 * where the page runs met one, a scan of every mapping then.  In shared
 * anonymous or SysV memory the object's page under the marker is stored
 * through our mapping, which faults there: refused.
 */
static int capture_guards(struct snapshot *s, struct proc_snap *p,
			  const char *dir)
{
	const struct crfs_vma *v;
	struct crfs_guard *g;
	char path[64];
	size_t n, i;
	int ret = kh_guard_ranges(p->pid, p->vmas, p->nvmas, &g, &n);

	for (i = 0; !ret && i < n; i++) {
		v = guard_vma(p, &g[i]);
		if (v && (v->kind == VMA_SHMEM || v->kind == VMA_SYSV))
			snapshot_report(s, "process %d: a guard region (MADV_GUARD_INSTALL) at %#llx in shared anonymous or SysV memory is not supported",
					p->pid, (unsigned long long)g[i].start);
	}
	if (ret || !n) {
		free(g);
		return ret;
	}
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_GUARDS);
	ret = RENDER(s, path, render_guards, g, n);
	free(g);
	return ret;
}

unsigned long long page_runs_ns;

/* stopped: p's mappings and page runs listed (a pre-dump: its mappings,
 * its tracking armed; its runs come after the thaw, predump_runs) */
static int list_memory(struct snapshot *s, int idx, const char *dir,
		       pid_t ppid, const char *exe)
{
	struct proc_snap *p = &s->procs[idx];
	struct kh_parent q[KH_MAX_DONORS];
	uint64_t guard = 0;
	unsigned long long t0;
	size_t nq;
	int ret;

	t0 = track_now_ns();
	/* a pre-dump lists private anonymous pages only (track.c): it needs
	 * no VmFlags, whose smaps walks all memory while the tree is stopped */
	ret = (s->predump ? kh_proc_maps_lite : kh_proc_maps)(p->pid, &p->vmas,
			&p->nvmas, snapshot_report, s);
	fprof.maps += track_now_ns() - t0;
	if (!ret) {
		mark_shared_elsewhere(s, idx);
		if (exe)
			check_exe(s, p, exe);
	}
	/* a pre-dump holds pages only (mapping objects come at the freeze)
	 * and points into no relative's: those are read later, as the
	 * relative runs on, and could be other bytes than ours by then */
	t0 = track_now_ns();
	if (!s->predump)
		ret = ret ?: capture_mapdata(s, p->pid, p->vmas, p->nvmas);
	fprof.mapdata += track_now_ns() - t0;
	p->ppid = ppid;
	if (s->predump)
		return ret ?: track_arm(s, idx);
	nq = donors_of(s, idx, ppid, q);
	t0 = track_now_ns();
	ret = ret ?: kh_page_runs(p->pid, p->vmas, p->nvmas, q, nq, &p->runs,
				  &p->nruns, &guard);
	page_runs_ns += track_now_ns() - t0;
	ret = ret ?: capture_vma_policies(s, p, dir);
	/* without them restore would give back readable zeroes */
	return ret ?: (guard ? capture_guards(s, p, dir) : 0);
}

/*
 * A pre-dump's page runs, listed as the tree runs (a walk over all its
 * memory): a page made since the stop is in the list or not, and either
 * way is copied by a later image (not in this one's runs, nothing points
 * at it here); one dropped since reads as zeros and is never clean
 * later.  A process gone since has no pages left.
 */
static int predump_runs(struct snapshot *s, int idx)
{
	struct proc_snap *p = &s->procs[idx];
	unsigned long long t0 = track_now_ns();
	int ret;

	ret = kh_page_runs(p->pid, p->vmas, p->nvmas, NULL, 0, &p->runs,
			   &p->nruns, NULL);
	page_runs_ns += track_now_ns() - t0;
	if (ret && kh_task_gone(p->pid)) {
		p->nruns = 0;
		return 0;
	}
	return ret;
}

/* the written set taken (a pre-dump: as the tree runs), maps and pages */
static int add_memory(struct snapshot *s, int idx, const char *dir)
{
	struct proc_snap *p = &s->procs[idx];
	char path[64];
	int ret;

	ret = s->predump ? predump_runs(s, idx) ?: track_take(s, idx) :
			   track_capture(s, idx);
	ret = ret ?: list_own_runs(p);
	if (ret)
		return ret;
	ret = RENDER(s, strcat(strcpy(path, dir), CRFS_F_MAPS), render_maps,
		     p->vmas, p->nvmas);
	/* pages first: copying it front to back hashes it for pages.idx */
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_PAGES);
	if (s->zstd)
		ret = ret ?: pages_zst_add(s, idx, strcat(path, ".zst"));
	else
		ret = ret ?: snapshot_add(s, path, E_PAGES, NULL,
					  p->pages_size, idx);
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_PAGES_IDX);
	return ret ?: snapshot_add(s, path, E_PAGES_IDX, NULL,
				   pages_idx_size(s->freeze_id, p->nruns), idx);
}

static int capture_memory(struct snapshot *s, int idx, const char *dir,
			  pid_t ppid, const char *exe)
{
	return list_memory(s, idx, dir, ppid, exe) ?: add_memory(s, idx, dir);
}

/*
 * A pre-dump's memory once the tree runs again (predump.c): the written
 * set of each process taken and cleared, its runs pointed into the base,
 * its files added.
 */
int predump_finish(struct snapshot *s, pid_t root)
{
	char dir[32];
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < s->nprocs; i++) {
		if (!s->procs[i].vmas)	/* a zombie's, or gone */
			continue;
		snprintf(dir, sizeof(dir), "%d/", s->procs[i].pid);
		ret = add_memory(s, i, dir);
	}
	return ret ?: snapshot_finish(s, root);
}

/* procs[] gets pid, the image its directory dir ("PID/") */
static int add_proc_dir(struct snapshot *s, pid_t pid, char *dir, size_t len)
{
	int ret;

	snprintf(dir, len, "%d/", pid);
	ret = add_proc(s, pid);
	return ret ?: snapshot_add(s, strndupa(dir, strlen(dir) - 1), E_DIR,
				   NULL, 0, -1);
}

int capture_memory_only(struct snapshot *s, pid_t pid)
{
	struct kh_stat st;
	char dir[32];
	int ret, idx = s->nprocs;

	ret = add_proc_dir(s, pid, dir, sizeof(dir));
	if (ret)
		return ret;
	s->procs[idx].live = true;
	/* a zombie has no memory; a process gone since has none either */
	if (kh_proc_stat(pid, &st) || st.state == 'Z')
		return 0;
	/* the rest once the tree runs: predump_finish */
	return list_memory(s, idx, dir, st.ppid, NULL);
}

static int capture_files(struct snapshot *s, pid_t pid, const char *dir)
{
	struct crfs_rlimit rl[CRFS_NLIMITS];
	char path[64];
	int ret;

	ret = files_add_process(s, pid);
	ret = ret ?: kh_proc_limits(pid, rl);
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_RLIMITS);
	return ret ?: RENDER(s, path, render_rlimits, rl);
}

static int capture_signals(struct snapshot *s, pid_t tid, bool shared,
			   const char *path)
{
	struct crfs_pending *p = NULL;
	char file[128];
	size_t n = 0;
	int ret;

	ret = kh_peek_signals(tid, shared, &p, &n);
	if (ret)
		return ret;
	/* path names the sigstate file next to ours when !shared */
	snprintf(file, sizeof(file), "%s", path);
	if (!shared)
		strcpy(strrchr(file, '/') + 1, CRFS_F_SIGNALS);
	ret = RENDER(s, file, render_signals, p, n);
	free(p);
	return ret;
}

/*
 * A CPU-clock POSIX timer cannot be held like an itimer: setting it drops
 * its queued signal and overrun.  One that expired since ask_timers read it
 * (on the CPU time of our syscalls) left a signal that may or may not be
 * among those read: refused, not restored twice.
 */
static int check_cpu_timer(struct snapshot *s, struct kh_remote *r,
			   pid_t pid, struct task_facts *tf, size_t i,
			   long scratch)
{
	struct crfs_timer *t = &tf->timers[i];
	struct ktimespec its[2];
	long ret, over;

	ret = RSYS(r, __NR_timer_gettime, t->id, scratch, 0, 0);
	if (ret || remote_read(r, scratch, its, sizeof(its)))
		return ret ?: -EIO;
	over = RSYS(r, __NR_timer_getoverrun, t->id, 0, 0, 0);
	if (tf->reads[i].left && (!ns(&its[1]) || ns(&its[1]) > tf->reads[i].left ||
			    over != t->overrun))
		snapshot_report(s, "process %d: POSIX timer %d (CPU clock) expired while the freeze ran in the process; thaw and try again",
				pid, t->id);
	return 0;
}

/* Gives back the itimers ask_timers held, once the signals are read. */
static int release_cpu_timers(struct snapshot *s, pid_t pid, pid_t main,
			      struct task_facts *tf)
{
	struct kh_remote r;
	long scratch, ret = 0;
	size_t i;
	int which;
	bool posix = false;

	for (i = 0; i < tf->ntimers; i++)
		posix |= tf->timers[i].posix && cpu_clock(&tf->timers[i]);
	if (!tf->held_mask && !posix)
		return 0;
	ret = kh_remote_open(&r, main, 0);
	if (ret)
		return (int)ret;
	scratch = kh_remote_syscall(&r, __NR_mmap, 0, 4096,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch < 0 && scratch > -4096) {
		ret = scratch;
		goto out;
	}
	for (i = 0; !ret && i < tf->ntimers; i++)
		if (tf->timers[i].posix && cpu_clock(&tf->timers[i]))
			ret = check_cpu_timer(s, &r, pid, tf, i, scratch);
	for (which = 0; !ret && which < 3; which++) {
		if (!(tf->held_mask & (1U << which)))
			continue;
		ret = kh_remote_poke(&r, scratch, &tf->held[which],
				     sizeof(tf->held[which])) ?:
		      RSYS(&r, __NR_setitimer, which, scratch, 0, 0);
		if (!ret)
			tf->held_mask &= ~(1U << which);
	}
	RSYS(&r, __NR_munmap, scratch, 4096, 0, 0);
out:
	return kh_remote_close(&r) ?: (int)ret;
}

/* A signal whose delivery does nothing may arrive and go unnoticed. */
static bool ignored(const struct task_facts *tf, int sig)
{
	uint64_t h = tf->sa[sig - 1].handler;

	return h == (uint64_t)(uintptr_t)SIG_IGN ||
	       (h == (uint64_t)(uintptr_t)SIG_DFL &&
		(sig == SIGCHLD || sig == SIGWINCH || sig == SIGURG));
}

/*
 * A restored task runs with crfs-restore's label: one that differs from
 * the daemon's (which restore is taken to run with) would be lost.
 */
static void refuse_lsm(struct snapshot *s, pid_t pid)
{
	char ours[256], theirs[256];

	if (kh_lsm_label(getpid(), ours, sizeof(ours)) ||
	    kh_lsm_label(pid, theirs, sizeof(theirs)) ||
	    !strcmp(ours, theirs))
		return;
	snapshot_report(s, "process %d: its LSM label '%s' differs from crfs's '%s' (AppArmor, SELinux labels are not restored)",
			pid, theirs, ours);
}

/*
 * A main thread that had exited exits again at the end of restore: a stop
 * (job control) it would not keep, memory shared with a parent it would
 * leave early, and each child it made then gets its parent-death signal.
 */
static void refuse_exited_leader(struct snapshot *s, pid_t pid,
				 const struct crfs_attr *a)
{
	const char *why = NULL;

	if (a->leader_exited && a->stop_signal)
		why = "stopped (job control) while its main thread has exited";
	else if (a->leader_exited && a->shares_vm)
		why = "shares its parent's memory (CLONE_VM) while its main thread has exited";
	else if (a->pdeathsig && kh_via(a->ppid) != a->ppid)
		why = "has a parent-death signal (PR_SET_PDEATHSIG) while its parent's main thread has exited";
	if (why)
		snapshot_report(s, "process %d: %s: not supported", pid, why);
}

/*
 * Namespaces hang off each task, not the process: a thread can setns or
 * unshare (net, uts, ipc, cgroup, pid and time for children, mnt once
 * it has its own fs) while the rest stay.  Restore makes every thread in
 * its process's, so one that differs would come back silently elsewhere.
 * The namespaces for children are compared with the thread's own active
 * ones, as restore leaves them: a main thread that entered another pid
 * namespace for its children cannot make threads any more, so those it
 * made before keep their own.
 */
static const struct {
	const char *kind, *base;	/* base: the thread's, else the process's */
} thread_ns_rows[] = {
	{ "net", NULL }, { "uts", NULL }, { "ipc", NULL }, { "mnt", NULL },
	{ "cgroup", NULL }, { "user", NULL },
	{ "pid_for_children", "pid" }, { "time_for_children", "time" },
};

static void check_thread_namespaces(struct snapshot *s, pid_t pid, pid_t tid)
{
	char path[64], *own, *theirs;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(thread_ns_rows) / sizeof(thread_ns_rows[0]);
	     i++) {
		if (thread_ns_rows[i].base)
			snprintf(path, sizeof(path), "task/%d/ns/%s", tid,
				 thread_ns_rows[i].base);
		else
			snprintf(path, sizeof(path), "ns/%s",
				 thread_ns_rows[i].kind);
		if (kh_proc_link(pid, path, &own))
			continue;
		snprintf(path, sizeof(path), "task/%d/ns/%s", tid,
			 thread_ns_rows[i].kind);
		ret = kh_proc_link(pid, path, &theirs);
		/* as for a process: no child entered it yet */
		if (ret == -ENOENT && thread_ns_rows[i].base)
			snapshot_report(s, "process %d thread %d: its %s namespace (unshared, no process created in it yet) is not its process's (%s): a thread's own namespace is not supported",
					pid, tid, thread_ns_rows[i].kind, own);
		if (!ret) {
			if (strcmp(own, theirs))
				snapshot_report(s, "process %d thread %d: its %s namespace (%s) is not its process's (%s): a thread's own namespace is not supported",
						pid, tid, thread_ns_rows[i].kind,
						theirs, own);
			free(theirs);
		}
		free(own);
	}
}

/*
 * Threads are made sharing the descriptor table and the working
 * directory, root and umask of their process; one that unshared either
 * (unshare(CLONE_FILES), unshare(CLONE_FS)) would come back sharing, as
 * would one with a SysV semaphore undo list of its own.
 * Each takes the personality of the main thread that makes it.
 */
static void check_thread_sharing(struct snapshot *s, pid_t pid, pid_t tid)
{
	unsigned long own, theirs;

	if (!kh_proc_personality(pid, &own) &&
	    !kh_thread_personality(pid, tid, &theirs) && own != theirs)
		snapshot_report(s, "process %d thread %d: its personality 0x%lx differs from its main thread's 0x%lx (not supported)",
				pid, tid, theirs, own);
	if (!kh_kcmp_same(pid, tid, KCMP_FILES))
		snapshot_report(s, "process %d thread %d: has a descriptor table of its own (unshare(CLONE_FILES)): not supported",
				pid, tid);
	if (!kh_kcmp_same(pid, tid, KCMP_FS))
		snapshot_report(s, "process %d thread %d: has a working directory, root and umask of its own (unshare(CLONE_FS)): not supported",
				pid, tid);
	/*
	 * Its own SEM_UNDO list (unshare(CLONE_SYSVSEM), then a semop with
	 * SEM_UNDO): the list's adjustments cannot be read, and the SysV
	 * capture looks for lists of processes only, so they would be lost.
	 */
	if (!kh_kcmp_same(pid, tid, KCMP_SYSVSEM))
		snapshot_report(s, "process %d thread %d: has a SEM_UNDO list of its own (unshare(CLONE_SYSVSEM)), whose adjustments cannot be read: not supported",
				pid, tid);
}

static int capture_one_thread(struct snapshot *s, pid_t pid, pid_t tid,
			      const char *dir, struct task_facts *tf,
			      bool main, bool last)
{
	struct crfs_thread th = { 0 };
	char path[96];
	int ret, sig = 0;

	ret = capture_thread(tid, &th, tf, main, last, &sig);
	if (sig && ignored(tf, sig))
		sig = 0;
	/* a stop signal counts as having stopped it (kept, not refused) */
	if (sig && stop_arrived(s, tf->sa, sig))
		s->procs[s->nprocs - 1].pending_sig =
			s->procs[s->nprocs - 1].pending_sig ?: sig;
	else if (sig)
		capture_signal_arrived(s, &s->procs[s->nprocs - 1], pid, sig);
	snprintf(path, sizeof(path), "%s%s/%d", dir, CRFS_D_TASK, tid);
	ret = ret ?: snapshot_add(s, path, E_DIR, NULL, 0, -1);
	snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK, tid,
		 CRFS_F_REGS);
	ret = ret ?: RENDER(s, path, render_regs, &th);
	snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK, tid,
		 CRFS_F_XSTATE);
	ret = ret ?: RENDER(s, path, render_xstate, &th);
	snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK, tid,
		 CRFS_F_SIGSTATE);
	ret = ret ?: RENDER(s, path, render_sigstate, &th);
	ret = ret ?: capture_signals(s, tid, false, path);
	/* a thread's own creds are restored (task/TID/creds), its
	 * securebits are the process's */
	if (!ret && !main && th.securebits != (long)tf->securebits)
		snapshot_report(s, "process %d thread %d: securebits 0x%lx differ from the process's 0x%x (not supported)",
				pid, tid, th.securebits, tf->securebits);
	/* threads are made by the main thread, and inherit its no_new_privs */
	if (!ret && !main && tf->no_new_privs && !th.no_new_privs)
		snapshot_report(s, "process %d thread %d: no_new_privs is off while its main thread's is on (not supported)",
				pid, tid);
	if (!ret && main)
		refuse_lsm(s, pid);
	if (!ret && !main) {
		check_thread_namespaces(s, pid, tid);
		check_thread_sharing(s, pid, tid);
	}
	if (!ret && th.io_flusher)
		snapshot_report(s, "process %d thread %d: the I/O flusher flag (PR_SET_IO_FLUSHER) is not supported yet",
				pid, tid);
	if (!ret && th.cpuid_off)
		snapshot_report(s, "process %d thread %d: CPUID faulting (ARCH_SET_CPUID 0) is not supported yet",
				pid, tid);
	ret = ret ?: capture_sched(s, pid, tid, dir);
	snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK, tid,
		 CRFS_F_SECCOMP);
	ret = ret ?: capture_seccomp(s, pid, tid, path);
	free(th.xstate);
	return ret;
}

/* The main thread first: it also answers for the whole process. */
static bool same_creds(const struct crfs_creds *a, const struct crfs_creds *b)
{
	return !memcmp(a->uid, b->uid, sizeof(a->uid)) &&
	       !memcmp(a->gid, b->gid, sizeof(a->gid)) &&
	       a->cap_inh == b->cap_inh && a->cap_prm == b->cap_prm &&
	       a->cap_eff == b->cap_eff && a->cap_bnd == b->cap_bnd &&
	       a->cap_amb == b->cap_amb && a->ngroups == b->ngroups &&
	       !memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t));
}

/*
 * Credentials are per thread in the kernel; glibc's setuid() changes all
 * threads, the raw syscall only the caller.  A thread whose credentials
 * differ from the process's (its main thread's) gets task/TID/creds.
 */
static int capture_thread_creds(struct snapshot *s, pid_t tid,
				const char *dir, const struct crfs_creds *pc,
				uint32_t securebits)
{
	struct crfs_creds tc = { 0 };
	unsigned int umask;
	int nnp, seccomp, ret;
	char path[96];

	ret = kh_proc_status(tid, &tc, &umask, &nnp, &seccomp);
	/* securebits are asked of the main thread only */
	tc.securebits = securebits;
	if (!ret && !same_creds(&tc, pc)) {
		snprintf(path, sizeof(path), "%s%s/%d/%s", dir, CRFS_D_TASK,
			 tid, CRFS_F_CREDS);
		ret = RENDER(s, path, render_creds, &tc);
	}
	free(tc.groups);
	return ret;
}

static void drop_scratch_of(pid_t main, struct task_facts *tf)
{
	struct kh_remote r;

	if (kh_remote_open(&r, main, 0))
		return;
	drop_scratch(&r, tf);
	kh_remote_close(&r);
}

static int capture_threads(struct snapshot *s, pid_t pid, const char *dir,
			   struct task_facts *tf, const struct crfs_creds *pc)
{
	pid_t *tids, main = kh_via(pid);
	char path[96];
	int i, n, last = -1, ret;

	ret = kh_proc_tids(pid, &tids, &n);
	if (ret)
		return ret;
	tf->nthreads = n;
	for (i = 0; i < n; i++)
		if (tids[i] != pid && tids[i] != main)
			last = i;
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_D_TASK);
	ret = snapshot_add(s, path, E_DIR, NULL, 0, -1);
	/* a live thread answers for the process if its leader has exited;
	 * the leader has no directory */
	ret = ret ?: capture_one_thread(s, pid, main, dir, tf, true, last < 0);
	for (i = 0; !ret && i < n; i++)
		if (tids[i] != pid && tids[i] != main)
			ret = capture_one_thread(s, pid, tids[i], dir, tf,
						 false, i == last) ?:
			      capture_thread_creds(s, tids[i], dir, pc,
						   tf->securebits);
	free(tids);
	/* a thread failed before it could unmap the scratch page */
	if (tf->scratch)
		drop_scratch_of(main, tf);
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_SIGNALS);
	return ret ?: capture_signals(s, main, true, path);
}

/* A zombie is its pid, its place in the tree and its exit status. */
static int capture_zombie(struct snapshot *s, pid_t pid, struct kh_stat *st,
			  const char *dir)
{
	struct crfs_attr a = {
		.pid = pid, .vpid = pid, .ppid = st->ppid, .pgid = st->pgid,
		.sid = st->sid,
		.zombie = 1, .exit_status = st->exit_code, .nthreads = 0,
		.exe = "-", .cwd = "-", .root = "-",
	};
	char path[64];

	memcpy(a.comm, st->comm, sizeof(a.comm));
	kh_ns_pid(pid, &a.vpid, NULL);
	if (pidns_attr(pid, &a))
		return -ESRCH;
	if (WCOREDUMP(a.exit_status))
		snapshot_report(s, "process %d: a zombie that dumped core is not supported yet (restore cannot give the status again without dumping core)",
				pid);
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_ATTR);
	return RENDER(s, path, render_attr, &a);
}

static int capture_timers(struct snapshot *s, pid_t pid, const char *dir,
			  struct task_facts *tf)
{
	char path[64];
	size_t i;

	for (i = 0; i < tf->ntimers; i++) {
		struct crfs_timer *t = &tf->timers[i];

		if (!t->posix)
			continue;
		if ((t->notify & ~SIGEV_THREAD_ID) == SIGEV_THREAD)
			snapshot_report(s, "process %d: POSIX timer %d: SIGEV_THREAD is not supported",
					pid, t->id);
		/* 0: the main thread, whatever its pid; else a thread's tid */
		if (!(t->notify & SIGEV_THREAD_ID) || t->tid == pid)
			t->tid = 0;
		if (!thread_clock(t) || tf->reads[i].bound ||
		    (!tf->reads[i].left && tf->nthreads < 2))
			continue;
		if (tf->reads[i].left)
			snapshot_report(s, "process %d: POSIX timer %d counts the CPU time of a thread that has exited (CLOCK_THREAD_CPUTIME_ID): not supported",
					pid, t->id);
		else
			snapshot_report(s, "process %d: POSIX timer %d (CLOCK_THREAD_CPUTIME_ID) is disarmed in a process of several threads: which thread's time it counts cannot be told (not supported)",
					pid, t->id);
	}
	snprintf(path, sizeof(path), "%s%s", dir, CRFS_F_TIMERS);
	return RENDER(s, path, render_timers, tf->timers, tf->ntimers);
}

int capture_process(struct snapshot *s, pid_t pid, pid_t root)
{
	struct crfs_attr a = { 0 };
	struct crfs_creds c = { 0 };
	struct crfs_mm mm = { 0 };
	struct task_facts tf = { 0 };
	struct kh_stat st;
	char dir[32], path[64];
	unsigned long long t0;
	int ret, rel, idx = s->nprocs;

	ret = add_proc_dir(s, pid, dir, sizeof(dir));
	if (ret)
		return ret;
	if (!kh_proc_stat(pid, &st) && st.state == 'Z' && kh_via(pid) == pid)
		return capture_zombie(s, pid, &st, dir);
	ret = capture_attr(pid, &a, &c, &mm, &st);
	ret = ret ?: capture_stop(s, pid, &a);
	t0 = track_now_ns();
	ret = ret ?: capture_threads(s, pid, dir, &tf, &c);
	rel = release_cpu_timers(s, pid, kh_via(pid), &tf);
	fprof.threads += track_now_ns() - t0;
	ret = ret ?: rel;
	if (ret)
		goto out;
	stop_finish(s, &a);
	sharing_attr(&a);
	a.proc_mount = check_namespaces(s, pid, root);
	check_removed_cwd(s, pid, &a);
	userns_check_proc(s, pid, root, &a, &c);
	a.dumpable = tf.dumpable;
	a.child_subreaper = tf.child_subreaper;
	a.pdeathsig = tf.pdeathsig;
	refuse_exited_leader(s, pid, &a);
	a.thp_disable = tf.thp_disable;
	a.mce_kill = tf.mce_kill;
	a.membarrier = tf.membarrier > 0 ? (uint64_t)tf.membarrier : 0;
	c.securebits = tf.securebits;
	mm.brk = tf.brk;
	mm.mlockall = tf.mlockall;
	mm.memory_merge = tf.memory_merge;
	mm.mdwe = tf.mdwe > 0 ? (uint64_t)tf.mdwe : 0;
	ret = RENDER(s, strcat(strcpy(path, dir), CRFS_F_ATTR), render_attr, &a);
	ret = ret ?: RENDER(s, strcat(strcpy(path, dir), CRFS_F_CREDS),
			    render_creds, &c);
	ret = ret ?: RENDER(s, strcat(strcpy(path, dir), CRFS_F_MM), render_mm,
			    &mm);
	ret = ret ?: RENDER(s, strcat(strcpy(path, dir), CRFS_F_SIGACTS),
			    render_sigactions, tf.sa);
	ret = ret ?: capture_timers(s, pid, dir, &tf);
	ret = ret ?: capture_files(s, pid, dir);
	ret = ret ?: capture_memory(s, idx, dir, a.ppid, a.exe);
out:
	free(tf.timers);
	free(tf.reads);
	free(a.exe);
	free(a.cwd);
	free(a.root);
	free(c.groups);
	return ret;
}
