/* SPDX-License-Identifier: MIT */
/*
 * What crfs-restore hands the freestanding restorer.  The struct and every
 * array it points to live inside the restorer's own mapping, the only
 * memory that survives once it has unmapped the restore tool.
 */
#ifndef CRFS_RESTORER_H
#define CRFS_RESTORER_H

#include <stdint.h>
#include <linux/prctl.h>

/* offset of "syscall; int3" in the blob, for the final munmap */
#define RST_GADGET_OFF 16
#define RST_STACK_SIZE (64 * 1024)
/* keep ranges of the restorer's own, besides the memory of cow.c */
#define RST_MAX_KEEP 8
#define RST_NSIG 64		/* CRFS_NSIG */
#define RST_NLIMITS 16		/* CRFS_NLIMITS */
#define RST_KID_STACK (32 * 1024)

struct rst_vma {
	uint64_t start, end, pgoff;
	uint32_t prot;
	uint32_t flags;		/* VMA_F_* */
	int32_t fd;		/* -1: anonymous */
	uint32_t has_pages;
	/* mapped and filled before the fork (cow.c): left in place */
	uint32_t kept;
	int32_t shmid;		/* >= 0: a SysV segment, attached again */
	/* > 0: an AIO ring, made by io_setup(aio_nr) and moved here; the
	 * new context's own index in the ring header (aio_id) */
	uint32_t aio_nr;
	uint32_t aio_id;
	/* --lazy: left empty and registered on lazy_uffd (lazy.c) */
	uint32_t lazy, pad_lazy;
	/* the restorer's own: registered with its userfaultfd for the fill */
	uint32_t uffd, pad;
	/* VMA_F_HUGETLB: log2 of its page size, for an anonymous one's
	 * MAP_HUGE_* (a shared one maps its object, of those pages) */
	uint32_t huge_shift, pad_huge;
	/* its own NUMA policy (mbind), set once it is filled; 0: none */
	int32_t mpol_mode, pad_mpol;
	uint64_t mpol_flags, mpol_nodes;
};

struct rst_run {
	uint64_t addr, len, off;
	int64_t fd;		/* the pages file holding them */
	uint64_t hash;		/* of the len bytes, when check */
	uint32_t check;
	/* in a mapping registered on our userfaultfd: we or the fill
	 * helper (fill_helper.c) may take it */
	uint32_t uffd;
};

/*
 * The fill helper: a restorer whose userfaultfd fill has at least two runs
 * and RST_FILL_MIN bytes (less is filled before a request and its reply
 * would have gone both ways; CRFS_FILL_HELPER=all: any two) sends this
 * over fill_sk with SCM_RIGHTS of a socket for the reply, the
 * userfaultfd and the pages files fd[] names, in that order.  The helper
 * reads our run table (process_vm_readv) and fills runs from the back
 * while we fill from the front; a run belongs to whoever's UFFDIO_COPY of
 * its first page succeeds (EEXIST: the other has it, and every run past
 * it).  Its reply says when it is done with our memory.
 */
#define RST_FILL_FDS 16
#define RST_FILL_MIN (8ULL << 20)
struct rst_fill_req {
	uint64_t runs;		/* our struct rst_run[nruns] */
	uint32_t nruns, nfds;
	int32_t fd[RST_FILL_FDS];	/* our numbers of the files sent */
};

enum { RST_FILL_DONE, RST_FILL_BADSUM, RST_FILL_ERR };
struct rst_fill_reply {
	int32_t status;		/* RST_FILL_* */
	int32_t err;		/* RST_FILL_ERR: -errno of step */
	uint64_t addr;		/* RST_FILL_BADSUM: the run's */
	char step[64];
};

struct rst_range {
	uint64_t start, end;
};

struct rst_sig {
	int32_t signo;
	int32_t tid;		/* 0: the process's queue */
	uint8_t info[128];
};

/* ngroups: the groups are in place already (set before a user namespace
 * was joined) */
#define RST_KEEP_GROUPS	0xffffffffu

/* Credentials: the process's, and those of a thread that has its own */
struct rst_creds {
	uint32_t uid[4], gid[4];
	uint32_t ngroups;
	uint32_t *groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t securebits;
	int32_t dumpable;
};

/* a seccomp filter: flags for seccomp(2), then its struct sock_fprog */
struct rst_filter {
	uint64_t flags;
	struct {
		uint16_t len;
		uint64_t insns;		/* struct sock_filter[len] */
	} prog;
};

/* What each thread sets for itself; registers come from crfs-restore */
struct rst_thread {
	int32_t tid;
	/* clone3's set_tid: the tid at each level restore sets, innermost
	 * first (one level but in nested pid namespaces) */
	int32_t set_tid[33];
	uint32_t set_tid_size;
	int32_t ss_flags;
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	uint64_t rseq_ptr;
	uint32_t rseq_size, rseq_sig;
	uint64_t ss_sp, ss_size;
	uint64_t stack_top;
	struct rst_creds *creds;	/* NULL: the process's */
	char comm[16];			/* PR_SET_NAME */
	/*
	 * seccomp, set up while crfs-restore traces us with
	 * PTRACE_O_SUSPEND_SECCOMP: nothing applies before it lets go.  A
	 * thread gets its first seccomp_inherit filters from the thread that
	 * creates it (seccomp_creator, -1: the main thread), one chain again,
	 * then installs its own.
	 */
	uint32_t seccomp_strict;
	uint32_t seccomp_inherit;
	uint32_t nfilters;
	struct rst_filter *filters;
	int32_t seccomp_creator;
	/* prctl state, set by the thread itself once its memory is in place */
	int32_t tsc_mode;		/* PR_SET_TSC; 0: left as is */
	int32_t pdeathsig;		/* PR_SET_PDEATHSIG, after the creds */
	int32_t no_new_privs;		/* PR_SET_NO_NEW_PRIVS */
	int32_t mempolicy;		/* set_mempolicy mode; 0: MPOL_DEFAULT */
	uint64_t mempolicy_flags, mempolicy_nodes;
};

#define RST_THREAD_STACK (16 * 1024)

/* the kernel's struct flock, and the fd to lock through */
struct rst_lock {
	int16_t type, whence;
	int32_t pad;
	int64_t start, len;
	int32_t pid, pad2;
	int32_t fd, pad3;
};

/*
 * What the restorer does with a timer (struct rst_timer's kind).  One
 * counting CPU time is armed as the very last step of the process, once
 * nothing of the restore runs in it any more: the restore's own CPU time
 * would count on it otherwise (and a signal it raised then be drained).
 */
enum {
	RST_TIMER_MAKE,		/* the restorer makes it (a thread's, or to fire) */
	RST_TIMER_ARM,		/* made already (a CPU clock's): armed at the end */
	RST_TIMER_ITIMER,	/* ITIMER_VIRTUAL or _PROF (id): set at the end */
};

/* a timer the restorer makes or arms */
struct rst_timer {
	int32_t id, clock, signo, tid;
	uint64_t sigval;
	int64_t interval[2], value[2];	/* struct itimerspec */
	int32_t notify;		/* SIGEV_THREAD_ID, or the timer's own */
	int32_t fire;		/* its signal was pending: queue it again */
	int32_t kind;		/* RST_TIMER_* */
	int32_t pad;
};

struct restore_args {
	struct rst_range *keep;	/* sorted; not unmapped */
	uint32_t nkeep;
	struct rst_range move_from[4], move_to[4];	/* vDSO and vvar */
	uint32_t nmoves;
	uint64_t scratch;	/* room for the moves on their way */

	struct rst_vma *vmas;
	uint32_t nvmas;
	struct rst_run *runs;
	uint32_t nruns;
	struct rst_range *guards;	/* guard pages (MADV_GUARD_INSTALL) */
	uint32_t nguards;
	int32_t pages_fd;
	int32_t err_fd;
	int32_t hash_avx2;	/* crfs_hash_avx2(): the restorer cannot ask */
	const char *pages_path;	/* named when a run's checksum is wrong */
	/* pid_for_children once our threads exist (a thread must be born in
	 * our own): a pidfd of a process in it, or -1 */
	int32_t pidns_fd;

	struct prctl_mm_map mm;

	struct rst_thread main;
	struct rst_thread *threads;	/* the others, created by the restorer */
	uint32_t nthreads;

	struct rst_creds creds;

	int32_t pid;
	struct rst_sig *sigs;
	uint32_t nsigs;

	int32_t *close_fds;
	uint32_t nclose;
	/*
	 * POSIX locks go last: closing any fd of a file (our helpers for
	 * mapped files) drops the process's locks on it
	 */
	struct rst_lock *locks;
	uint32_t nlocks;
	struct rst_timer *timers;	/* ids asked of the kernel (prctl 77) */
	uint32_t ntimers;
	/*
	 * Futex words: threads made by other threads (counted by their
	 * creators), threads done with their restore (counted by each)
	 */
	uint32_t threads_made, threads_done;

	uint64_t blob_start, blob_len;	/* handed back at the final trap */
	int32_t mlockall;	/* MCL_FUTURE, MCL_ONFAULT, after the mappings */
	int32_t memory_merge;	/* PR_SET_MEMORY_MERGE, before them */
	/* 1: our main thread had exited (a zombie leader): once let go
	 * from its final trap it exits alone, before the others run */
	uint32_t leader_exited;
	/* PR_SET_MDWE flags, set once every mapping is final; 0: none */
	uint64_t mdwe;

	/*
	 * Children sharing our memory (CLONE_VM without CLONE_THREAD): we
	 * clone3 each once the memory is in place, and it restores the rest
	 * of itself from its own args here (share_vm.c).
	 */
	struct restore_args *kids;
	uint32_t nkids;
	/* in a kid's args: what it is cloned with, and sets for itself */
	uint64_t clone_flags;
	uint64_t kid_stack;	/* top of its stack, in our area */
	uint32_t own_sigactions;	/* 0: CLONE_SIGHAND, ours */
	uint64_t sa[RST_NSIG][4];	/* the kernel's struct sigaction */
	uint64_t rl[RST_NLIMITS][2];	/* soft, hard */
	int32_t pdeathsig, child_subreaper, no_new_privs;
	/* set by a kid once it no longer needs err_fd (which may be in
	 * our table) and has its own creds: we go on */
	volatile int32_t ready;	/* a futex word too */
	/*
	 * --lazy (lazy.c): a userfaultfd made before the restorer ran, the
	 * lazy mappings are registered on it, and it goes to the handler
	 * over lazy_sk with lazy_tag (our index in the image); -1: none
	 */
	int32_t lazy_uffd, lazy_sk;
	uint64_t lazy_tag;
	/* the fill helper's socket (struct rst_fill_req), or -1; first
	 * (tests: CRFS_FILL_HELPER=all): it fills all before we start */
	int32_t fill_sk;
	uint32_t fill_first;
};

#endif
